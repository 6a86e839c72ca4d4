/**
 * Message assembly: the parts of a message that did not arrive as one frame in one
 * chunk, joined with one allocation when the message ends, and their UTF-8 checked as
 * they arrive so an invalid text message fails before its last fragment.
 *
 * @module
 */

import { type Utf8Check, Utf8Validator } from "./utf8.ts";

/**
 * The parts of one fragmented (or chunk-split) message. A parser creates one lazily,
 * the first time a message does not fit one frame in one chunk, and reuses it.
 *
 * @example Join two fragments of a text message
 * ```ts
 * import { MessageAssembler } from "./message.ts";
 * const m = new MessageAssembler();
 * const a = new TextEncoder().encode("Hel"), b = new TextEncoder().encode("lo");
 * console.log(m.check(a, 0, 3), m.check(b, 0, 2), m.textComplete()); // true true true
 * m.append(a);
 * m.append(b);
 * console.log(new TextDecoder().decode(m.join())); // "Hello"
 * ```
 */
export class MessageAssembler {
  #parts: Uint8Array[] = [];
  #size = 0;
  #utf8: Utf8Validator | null = null;
  #native: Utf8Check | undefined;

  /**
   * Creates an empty assembler.
   *
   * @param native An optional whole-buffer UTF-8 check for long runs.
   */
  constructor(native?: Utf8Check) {
    this.#native = native;
  }

  /** Whether any part is held. */
  get active(): boolean {
    return this.#parts.length > 0;
  }

  /**
   * Checks the next bytes of a text message, in arrival order.
   *
   * @param bytes The bytes holding the part.
   * @param start The first byte of the part.
   * @param end One past the last byte of the part.
   * @returns `false` as soon as the message can no longer be valid UTF-8.
   */
  check(bytes: Uint8Array, start: number, end: number): boolean {
    const v = this.#utf8 ??= new Utf8Validator(this.#native);
    return v.write(bytes, start, end);
  }

  /**
   * Whether the text checked so far ends on a complete code point.
   *
   * @returns `true` when the message may end here.
   */
  textComplete(): boolean {
    return this.#utf8 === null || this.#utf8.end();
  }

  /**
   * Keeps one payload until the message ends. The view is kept as is, except when it is
   * a small window on a much larger buffer: holding it would pin the whole chunk, so a
   * peer sending many tiny fragments could make us retain far more than it sent.
   *
   * @param part The unmasked payload of one frame.
   */
  append(part: Uint8Array): void {
    if (part.byteLength === 0) return;
    const pinned = part.byteLength * 8 < part.buffer.byteLength;
    this.#parts.push(pinned ? new Uint8Array(part) : part);
    this.#size += part.byteLength;
  }

  /**
   * Joins the parts into one new buffer and forgets them.
   *
   * @returns The whole message payload.
   */
  join(): Uint8Array {
    const parts = this.#parts;
    const out = parts.length === 1 ? parts[0] : new Uint8Array(this.#size);
    if (parts.length > 1) {
      let offset = 0;
      for (const part of parts) {
        out.set(part, offset);
        offset += part.byteLength;
      }
    }
    this.reset();
    return out;
  }

  /** Forgets the current message, ready for the next one. */
  reset(): void {
    if (this.#parts.length > 0) this.#parts = [];
    this.#size = 0;
    this.#utf8?.reset();
  }
}

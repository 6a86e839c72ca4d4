/**
 * Streamed messages on the parser's side: the limits of a message taken as a stream, and
 * the hand-over of its payload as it arrives: binary as is, text checked as UTF-8 as it
 * arrives (fail-fast) and cut only between code points. Pure.
 *
 * @module
 */

import type { MessageParts } from "../core/transport.ts";
import { DEFAULT_MAX_FRAGMENTS, type MessageLimits } from "./types.ts";
import { lastBoundary, type Utf8Check, Utf8Validator } from "./utf8.ts";

/**
 * The limit of a streamed message when {@linkcode MessageLimits.maxStreamSize} is not
 * set: 256 GiB, far above any upload a server means to take, yet finite.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_STREAM_SIZE } from "./stream.ts";
 * console.log(DEFAULT_MAX_STREAM_SIZE); // 274877906944
 * ```
 */
export const DEFAULT_MAX_STREAM_SIZE: number = 2 ** 38;

/**
 * The least average payload, in bytes, of the frames of a streamed message past its
 * first {@linkcode DEFAULT_MAX_FRAGMENTS}: the same ratio as whole messages
 * (`defaultFragmentCap`), measured on what arrived instead of on a limit.
 *
 * @example
 * ```ts
 * import { STREAM_FRAGMENT_AVERAGE } from "./stream.ts";
 * console.log(STREAM_FRAGMENT_AVERAGE); // 64
 * ```
 */
export const STREAM_FRAGMENT_AVERAGE = 64;

/**
 * The most frames a streamed message may span once `size` payload bytes were announced:
 * 1024, plus one per {@linkcode STREAM_FRAGMENT_AVERAGE} bytes. A 200 GB upload in
 * 1 MiB frames passes; a flood of tiny or empty frames is refused with 1008.
 *
 * @param size The payload bytes the message's frame headers announced so far.
 * @returns The cap on the message's frame count.
 * @example
 * ```ts
 * import { streamFragmentCap } from "./stream.ts";
 * console.log(streamFragmentCap(0), streamFragmentCap(1 << 20)); // 1024 17408
 * ```
 */
export function streamFragmentCap(size: number): number {
  return DEFAULT_MAX_FRAGMENTS + Math.floor(size / STREAM_FRAGMENT_AVERAGE);
}

// The length of a UTF-8 sequence from its (valid) lead byte.
const sequenceLength = (lead: number): number => lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;

/**
 * Hands the payload of one streamed message to its {@linkcode MessageParts}, part by
 * part. A parser makes one per streamed message.
 *
 * @example A text message whose "€" is split between two parts
 * ```ts
 * import { StreamedParts } from "./stream.ts";
 * const parts: string[] = [];
 * const s = new StreamedParts();
 * const euro = new TextEncoder().encode("a€b");
 * s.begin(true, { maxMsgSize: 1024 }, {
 *   part: (bytes) => void parts.push(new TextDecoder().decode(bytes)),
 * });
 * s.push(euro, 0, 2, false);
 * s.push(euro, 2, 5, true);
 * console.log(parts); // ["a", "€", "b"]
 * ```
 */
export class StreamedParts {
  #to: MessageParts | null = null;
  #native: Utf8Check | undefined;
  #text = false;
  #utf8: Utf8Validator | null = null;
  // The first bytes of a code point cut off at the end of the previous part.
  #carry: Uint8Array | null = null;

  /**
   * @param native An optional whole-buffer UTF-8 check for long runs.
   */
  constructor(native?: Utf8Check) {
    this.#native = native;
  }

  /**
   * Starts a message.
   *
   * @param isText Whether its bytes must be UTF-8.
   * @param limits The live limits.
   * @param to Where its parts go.
   * @returns The message's size limit: `maxStreamSize`, or {@linkcode DEFAULT_MAX_STREAM_SIZE}.
   */
  begin(isText: boolean, limits: MessageLimits, to: MessageParts): number {
    this.#to = to;
    this.#text = isText;
    this.#carry = null;
    this.#utf8?.reset();
    return limits.maxStreamSize ?? DEFAULT_MAX_STREAM_SIZE;
  }

  /**
   * Hands over `bytes[start..end)`, the next payload bytes (a view of them is kept).
   *
   * @param bytes The unmasked bytes.
   * @param start The first byte.
   * @param end One past the last byte.
   * @param last Whether these are the message's last bytes.
   * @returns `false` when a text message can no longer be valid UTF-8; nothing of the
   * offending part is handed over.
   */
  push(bytes: Uint8Array, start: number, end: number, last: boolean): boolean {
    if (!this.#text) {
      if (end > start || last) this.#to!.part(bytes.subarray(start, end), last);
      return true;
    }
    const v = this.#utf8 ??= new Utf8Validator(this.#native);
    if (!v.write(bytes, start, end) || (last && !v.end())) return false;
    const from = this.#completeCarry(bytes, start, end, last);
    if (from < 0) return true;
    const cut = last ? end : lastBoundary(bytes, from, end);
    if (cut < end) this.#carry = bytes.slice(cut, end);
    if (cut > from || last) this.#to!.part(bytes.subarray(from, cut), last);
    return true;
  }

  // Completes a code point cut off by the previous part and hands it over on its own (a
  // few bytes, so the large part after it is never copied). Returns where the rest of
  // the part starts, or -1 when nothing is left to hand over.
  #completeCarry(bytes: Uint8Array, start: number, end: number, last: boolean): number {
    const carry = this.#carry;
    if (carry === null) return start;
    const need = sequenceLength(carry[0]) - carry.length, take = Math.min(need, end - start);
    const joined = new Uint8Array(carry.length + take);
    joined.set(carry);
    joined.set(bytes.subarray(start, start + take), carry.length);
    if (take < need) {
      this.#carry = joined;
      return -1;
    }
    this.#carry = null;
    const rest = start + take;
    this.#to!.part(joined, last && rest === end);
    return rest === end ? -1 : rest;
  }
}

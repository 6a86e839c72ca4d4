/**
 * The receiving side of permessage-deflate
 * ([RFC 7692 section 7.2.2](https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2)): the
 * compressed payloads of one message are gathered, `00 00 ff ff` is appended, and the
 * whole is inflated at once, never past the message size limit. Pure: the raw inflate
 * is passed in (`codec.ts` on the runtimes' `node:zlib`).
 *
 * The server always answers `client_no_context_takeover` (`negotiate.ts`), so every
 * message inflates on its own: nothing is kept between messages. A compressed message
 * taken as a stream is inflated as it arrives instead (`stream_inflate.ts`).
 *
 * @module
 */

import type { WsxErrorCode } from "../../errors.ts";
import type { StreamedParts } from "../stream.ts";
import { isValidUtf8, type Utf8Check } from "../utf8.ts";
import { type InflateStep, StreamInflater } from "./stream_inflate.ts";

/**
 * Whether the RSV bits of a frame's first byte are allowed: RSV2 and RSV3 never; RSV1
 * only on the first frame of a data message, and only when permessage-deflate was
 * negotiated ([RFC 7692 section 6](https://www.rfc-editor.org/rfc/rfc7692#section-6)).
 *
 * @param b The frame's first byte, with some RSV bit set.
 * @param negotiated Whether permessage-deflate is in use.
 * @returns The error to fail with, or `null` when allowed.
 * @example
 * ```ts
 * import { rsvError } from "./inflater.ts";
 * console.log(rsvError(0xc1, true), rsvError(0xc1, false), rsvError(0xc0, true)); // null "frame-rsv" "frame-rsv1"
 * ```
 */
export function rsvError(b: number, negotiated: boolean): WsxErrorCode | null {
  const op = b & 0x0f;
  if ((b & 0x30) !== 0 || !negotiated) return "frame-rsv";
  // Continuation (0) or control (8 and up); reserved opcodes fail on their own.
  if (op === 0 || op >= 8) return "frame-rsv1";
  return null;
}

/**
 * Inflates raw DEFLATE data that ends on a block boundary (a sync flush), giving up as
 * soon as the output would pass `maxOutput` bytes.
 *
 * @example A stand-in that only knows the empty message
 * ```ts
 * import type { RawInflate } from "./inflater.ts";
 * const raw: RawInflate = (input) => input.length === 5 ? new Uint8Array(0) : "corrupt";
 * ```
 */
export type RawInflate = (
  input: Uint8Array,
  maxOutput: number,
) => Uint8Array | "too-big" | "corrupt";

const TRAILER = [0x00, 0x00, 0xff, 0xff];

/**
 * One connection's inflater: the compressed frames of the message being received.
 *
 * @example Inflate RFC 7692's "Hello" (section 7.2.3.1)
 * ```ts
 * import { inflateRawSync, constants } from "node:zlib";
 * import { Inflater } from "./inflater.ts";
 * const inflater = new Inflater((input, max) =>
 *   inflateRawSync(input, { maxOutputLength: max, finishFlush: constants.Z_SYNC_FLUSH })
 * );
 * const hello = new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
 * console.log(inflater.finish(hello, 1024)); // Uint8Array [72, 101, 108, 108, 111]
 * ```
 */
export class Inflater {
  #raw: RawInflate;
  #open: (() => InflateStep) | null;
  #parts: Uint8Array[] = [];
  #size = 0;

  /**
   * Creates the inflater of one connection.
   *
   * @param raw The raw inflate of the runtime.
   * @param open Opens an incremental raw inflater, for compressed messages taken as
   * streams; without it they cannot be. @default {null}
   */
  constructor(raw: RawInflate, open: (() => InflateStep) | null = null) {
    this.#raw = raw;
    this.#open = open;
  }

  /** Whether a compressed message can be taken as a stream. */
  get streams(): boolean {
    return this.#open !== null;
  }

  /**
   * Starts inflating a compressed message taken as a stream (`stream_inflate.ts`).
   *
   * @param parts Where its inflated bytes go (begun by the caller).
   * @param limit The most inflated bytes allowed.
   * @param held Whether the connection's reading is held for a reader behind.
   * @returns The message's inflater.
   */
  stream(parts: StreamedParts, limit: number, held: () => boolean): StreamInflater {
    return new StreamInflater(this.#open!(), parts, limit, held);
  }

  /**
   * Keeps the payload of a frame that is not the last of its message (copied: the
   * chunk it lies in is reused).
   *
   * @param part The unmasked compressed payload.
   */
  append(part: Uint8Array): void {
    if (part.byteLength === 0) return;
    this.#parts.push(part.slice());
    this.#size += part.byteLength;
  }

  /**
   * Inflates the message whose last frame carries `last`.
   *
   * @param last The last frame's compressed payload.
   * @param limit The largest inflated size allowed.
   * @param text Whether the message is text, whose UTF-8 is then checked.
   * @param isUtf8 A native whole-buffer UTF-8 check.
   * @returns The message, or the error to close with: `message-too-big` once the
   * output passes `limit` (inflation stops there), `inflate-failed` for data that
   * does not inflate, `invalid-utf8`.
   */
  finish(
    last: Uint8Array,
    limit: number,
    text = false,
    isUtf8?: Utf8Check,
  ): Uint8Array | WsxErrorCode {
    const input = new Uint8Array(this.#size + last.byteLength + 4);
    let at = 0;
    for (const part of this.#parts) {
      input.set(part, at);
      at += part.byteLength;
    }
    input.set(last, at);
    input.set(TRAILER, at + last.byteLength);
    this.reset();
    const out = this.#raw(input, limit);
    if (out === "too-big") return "message-too-big";
    if (out === "corrupt") return "inflate-failed";
    return text && !isValidUtf8(out, 0, out.length, isUtf8) ? "invalid-utf8" : out;
  }

  /** Forgets the message being received. */
  reset(): void {
    if (this.#parts.length > 0) this.#parts = [];
    this.#size = 0;
  }
}

/**
 * A decoder of the chunked transfer coding (RFC 9112 section 7.1), fed bytes as they
 * arrive, one small method per state. Chunk extensions are read and dropped, with a
 * limit on their total size; trailer fields are read and dropped, with a limit too.
 * Every line must end in CRLF; a chunk's data must be followed by CRLF exactly.
 *
 * @module
 */

import { HTTP1_REFUSALS as R } from "./http1_refusals.ts";
import type { Refusal } from "./http1_refusals.ts";

const CR = 0x0d;
const LF = 0x0a;
// 13 hex digits stay below 2^53: every size is a safe integer.
const MAX_SIZE_DIGITS = 13;
// As Node.js since CVE-2024-22019: extensions are dropped, so they must not cost memory
// or time without bound.
const MAX_EXTENSION_BYTES = 16 * 1024;

const SIZE = 0;
const SIZE_WS = 1;
const EXTENSION = 2;
const SIZE_LF = 3;
const DATA = 4;
const DATA_CR = 5;
const DATA_LF = 6;
const TRAILER = 7;
const TRAILER_LF = 8;
const DONE = 9;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

// Characters of an extension or trailer line: visible, space, tab, obs-text.
function isLineChar(byte: number): boolean {
  return byte === 0x09 || (byte >= 0x20 && byte !== 0x7f);
}

/**
 * Decodes one chunked body.
 *
 * @example
 * ```ts
 * import { ChunkedDecoder } from "./http1_chunked.ts";
 * const decoder = new ChunkedDecoder(8192);
 * const bytes = new TextEncoder().encode("3\r\nabc\r\n0\r\n\r\n");
 * decoder.feed(bytes, 0, (data) => console.log(data.length)); // logs 3, returns 13
 * console.log(decoder.done); // true
 * ```
 */
export class ChunkedDecoder {
  #state = SIZE;
  #digits = 0;
  #remaining = 0;
  #extensionBytes = 0;
  #lineBytes = 0;
  #trailerBytes = 0;
  readonly #maxTrailerBytes: number;

  /**
   * A decoder at the start of a body.
   *
   * @param maxTrailerBytes The most bytes of trailer fields taken.
   */
  constructor(maxTrailerBytes: number) {
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Whether the last chunk and the trailers have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Reads bytes from `start` until the body ends or the bytes run out.
   *
   * @param bytes The bytes received.
   * @param start Where the body's bytes start in them.
   * @param onData Called with each piece of data (a view of `bytes`).
   * @returns Where reading stopped (after the body when {@linkcode ChunkedDecoder.done}),
   * or a refusal.
   */
  feed(bytes: Uint8Array, start: number, onData: (data: Uint8Array) => void): number | Refusal {
    let i = start;
    while (i < bytes.length && this.#state !== DONE) {
      if (this.#state === DATA) {
        const end = Math.min(bytes.length, i + this.#remaining);
        onData(bytes.subarray(i, end));
        this.#remaining -= end - i;
        i = end;
        if (this.#remaining === 0) this.#state = DATA_CR;
        continue;
      }
      const refused = this.#step(bytes[i++]);
      if (refused !== undefined) return refused;
    }
    return i;
  }

  #step(byte: number): Refusal | undefined {
    switch (this.#state) {
      case SIZE:
        return this.#size(byte);
      case SIZE_WS:
        return this.#sizeWhitespace(byte);
      case EXTENSION:
        return this.#extension(byte);
      case SIZE_LF:
        return this.#sizeLf(byte);
      case DATA_CR:
        return this.#expect(byte, CR, DATA_LF);
      case DATA_LF:
        return this.#expect(byte, LF, SIZE);
      case TRAILER:
        return this.#trailer(byte);
      default:
        return this.#trailerLf(byte);
    }
  }

  #size(byte: number): Refusal | undefined {
    const digit = hexValue(byte);
    if (digit >= 0) {
      if (++this.#digits > MAX_SIZE_DIGITS) return R.badChunk;
      this.#remaining = this.#remaining * 16 + digit;
      return;
    }
    if (this.#digits === 0) return R.badChunk;
    if (byte === CR) this.#state = SIZE_LF;
    else if (byte === 0x3b) this.#state = EXTENSION;
    else if (byte === 0x20 || byte === 0x09) this.#state = SIZE_WS;
    else return R.badChunk;
  }

  // BWS before ";" (RFC 9112 section 7.1.1); anything else after a size is refused.
  #sizeWhitespace(byte: number): Refusal | undefined {
    if (byte === 0x3b) this.#state = EXTENSION;
    else if (byte !== 0x20 && byte !== 0x09) return R.badChunk;
  }

  #extension(byte: number): Refusal | undefined {
    if (byte === CR) return void (this.#state = SIZE_LF);
    if (!isLineChar(byte)) return R.badChunk;
    if (++this.#extensionBytes > MAX_EXTENSION_BYTES) return R.chunkExtensionsTooLarge;
  }

  #sizeLf(byte: number): Refusal | undefined {
    if (byte !== LF) return R.badChunk;
    this.#digits = 0;
    this.#state = this.#remaining === 0 ? TRAILER : DATA;
  }

  #expect(byte: number, wanted: number, next: number): Refusal | undefined {
    if (byte !== wanted) return R.badChunk;
    this.#state = next;
  }

  #trailer(byte: number): Refusal | undefined {
    if (byte === CR) return void (this.#state = TRAILER_LF);
    if (!isLineChar(byte)) return R.badChunk;
    this.#lineBytes++;
    if (++this.#trailerBytes > this.#maxTrailerBytes) return R.trailersTooLarge;
  }

  #trailerLf(byte: number): Refusal | undefined {
    if (byte !== LF) return R.badChunk;
    // An empty line ends the trailers, and the body.
    this.#state = this.#lineBytes === 0 ? DONE : TRAILER;
    this.#lineBytes = 0;
  }
}

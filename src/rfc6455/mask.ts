/**
 * Payload masking ([RFC 6455 section 5.3](https://www.rfc-editor.org/rfc/rfc6455#section-5.3)):
 * XOR with a 4-byte key, in place or into another place. Masking and unmasking are the same
 * operation.
 *
 * @module
 */

import { simdMaskInto } from "./simd.ts";

// Below this many bytes, creating the Int32Array view costs more than it saves.
const WORD_THRESHOLD = 128;
// From this many bytes the SIMD kernel wins despite its two copies (bench: 4 KiB in
// 0.28 us against 0.65 us for the word loop, 64 KiB in 2.1 us against 7.6 us).
const SIMD_THRESHOLD = 1024;
// From this many bytes maskMove's words beat the byte loop (bench: 32 B in 18 ns against
// 27, 7 B in 12 ns against 8).
const MOVE_WORDS_FROM = 16;

// The word loop XORs native-endian words, so the key is laid out to match memory order.
const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Reads a 4-byte masking key into one 32-bit integer, first key byte in the top bits.
 *
 * @param bytes The bytes holding the key.
 * @param offset Where the key starts.
 * @returns The packed key, as a signed 32-bit integer.
 *
 * @example Pack the key of a frame
 * ```ts
 * import { readMaskKey } from "./mask.ts";
 * console.log(readMaskKey(new Uint8Array([1, 2, 3, 4]), 0).toString(16)); // "1020304"
 * ```
 */
export function readMaskKey(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3];
}

/**
 * XORs `buf[start..end)` with a packed masking key, in place.
 *
 * Large ranges go through the WebAssembly SIMD kernel, mid-sized ones a 32-bit word at a
 * time once aligned; tails and tiny payloads go a byte at a time.
 *
 * @param buf The bytes to (un)mask in place.
 * @param start The first byte to (un)mask.
 * @param end One past the last byte to (un)mask.
 * @param key The key from {@linkcode readMaskKey}.
 * @param phase How many payload bytes came before `start`: a payload split across chunks
 * continues the key where the previous part stopped.
 *
 * @example Mask then unmask a payload
 * ```ts
 * import { mask } from "./mask.ts";
 * const data = new TextEncoder().encode("Hello");
 * mask(data, 0, data.length, 0x37fa213d, 0);
 * console.log(data); // Uint8Array [0x7f, 0x9f, 0x4d, 0x51, 0x58] (RFC 6455 section 5.7)
 * mask(data, 0, data.length, 0x37fa213d, 0);
 * console.log(new TextDecoder().decode(data)); // "Hello"
 * ```
 */
export function mask(
  buf: Uint8Array,
  start: number,
  end: number,
  key: number,
  phase: number,
): void {
  maskInto(buf, start, end, buf, start, key, phase);
}

/**
 * XORs `src[start..end)` with a packed masking key and writes the result to `dst` at
 * `at`: unmasking and copying in one pass. `dst` may be `src` when `at <= start`, so a
 * payload can be unmasked and moved towards the front of its own chunk.
 *
 * @param src The bytes to read.
 * @param start The first byte to read.
 * @param end One past the last byte to read.
 * @param dst Where the result goes.
 * @param at Where in `dst` the result starts.
 * @param key The key from {@linkcode readMaskKey}.
 * @param phase How many payload bytes came before `start` (see {@linkcode mask}).
 *
 * @example Unmask "Hello" two bytes to the front
 * ```ts
 * import { maskInto } from "./mask.ts";
 * const chunk = new Uint8Array([0, 0, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
 * maskInto(chunk, 2, 7, chunk, 0, 0x37fa213d, 0);
 * console.log(new TextDecoder().decode(chunk.subarray(0, 5))); // "Hello"
 * ```
 */
export function maskInto(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  at: number,
  key: number,
  phase: number,
): void {
  const k = rotate(key, phase);
  // Small payloads (most messages) take the byte loop alone: kept out of the larger
  // paths so that this function stays small enough for the JIT to inline it into the
  // parser, saving a call per frame.
  if (end - start < WORD_THRESHOLD) return maskBytes(src, start, end, dst, at, k);
  maskLarge(src, start, end, dst, at, k);
}

/**
 * Whether {@linkcode maskMove} can move a payload of this length this far, and beats
 * {@linkcode maskInto} at it: from a few words (below, the alignment bytes cost more than
 * the words save) to where the SIMD kernel wins, over a distance of whole words.
 *
 * @param length The payload's length.
 * @param distance How far towards the front it moves (`start - at`).
 * @returns Whether to call {@linkcode maskMove}.
 *
 * @example
 * ```ts
 * import { movesByWords } from "./mask.ts";
 * console.log(movesByWords(32, 4), movesByWords(4, 4), movesByWords(32, 6)); // true false false
 * ```
 */
export function movesByWords(length: number, distance: number): boolean {
  return length >= MOVE_WORDS_FROM && length < SIMD_THRESHOLD && (distance & 3) === 0;
}

/**
 * Unmasks `buf[start..end)` to `at` in the same buffer, a 32-bit word at a time through
 * `words`, a view of the whole of `buf`'s `ArrayBuffer` made once for many payloads (a
 * view per payload would cost more than the words save). `start - at` must be a
 * multiple of 4 and not negative: a payload moved to the front of its chunk by the
 * length of the masking key (`frame_reader.ts`), or unmasked in place.
 *
 * @param buf The bytes.
 * @param words `new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2)`.
 * @param start The first byte to read.
 * @param end One past the last byte to read.
 * @param at Where the result starts.
 * @param key The key from {@linkcode readMaskKey} (the payload's first byte at `start`).
 *
 * @example Unmask "Hello" four bytes to the front
 * ```ts
 * import { maskMove } from "./mask.ts";
 * const chunk = new Uint8Array([0, 0, 0, 0, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
 * const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
 * maskMove(chunk, words, 4, 9, 0, 0x37fa213d);
 * console.log(new TextDecoder().decode(chunk.subarray(0, 5))); // "Hello"
 * ```
 */
export function maskMove(
  buf: Uint8Array,
  words: Int32Array,
  start: number,
  end: number,
  at: number,
  key: number,
): void {
  if (end <= start) return;
  const offset = buf.byteOffset, lane = (offset + start) & 3;
  // The key turned so that the payload's first byte, in its lane, meets the key's first.
  const k = lane === 0 ? key : (key >>> (lane << 3)) | (key << (32 - (lane << 3)));
  const w = LITTLE_ENDIAN ? swapBytes(k) : k;
  let from = (offset + start) >> 2, to = (offset + at) >> 2;
  // The word holding the last byte; past the last whole word of the buffer, the tail
  // goes a byte at a time.
  let last = (offset + end - 1) >> 2, tail = end;
  if (last >= words.length) last = words.length - 1, tail = ((last + 1) << 2) - offset;
  // The first and last words are partial: the bytes outside the payload keep what the
  // destination held (our header's room, the payload before), no byte loop.
  const head = LITTLE_ENDIAN ? -1 << (lane << 3) : -1 >>> (lane << 3);
  const endLane = (offset + tail) & 3;
  const rest = endLane === 0
    ? -1
    : LITTLE_ENDIAN
    ? ~(-1 << (endLane << 3))
    : ~(-1 >>> (endLane << 3));
  if (from === last) {
    const m = head & rest;
    words[to] = (words[to] & ~m) | ((words[from] ^ w) & m);
  } else {
    words[to] = (words[to] & ~head) | ((words[from] ^ w) & head);
    // Forwards: a word is read before the write that may land on it (`at <= start`).
    for (from++, to++; from < last; from++, to++) words[to] = words[from] ^ w;
    words[to] = (words[to] & ~rest) | ((words[from] ^ w) & rest);
  }
  if (tail < end) maskBytes(buf, tail, end, buf, at + tail - start, rotate(key, tail - start));
}

/**
 * Unmasks a payload to `at`, towards the front of the same buffer, the cheapest way for a
 * small payload the parser moves (`frame_reader.ts`): a 32-bit word at a time when it
 * moves by a positive multiple of 4 (a client's header is 4 bytes longer than ours),
 * else through {@linkcode maskInto}. The bytes of the last word past the payload are
 * written too: garbage in `[at + (end - start), end)`, bytes already read (the payload's
 * own or its header). Nothing at or after `end` is touched, nor before `at`.
 *
 * @param buf The bytes.
 * @param words The whole of `buf`'s `ArrayBuffer` as 32-bit words.
 * @param offset `buf.byteOffset`.
 * @param start The first byte to read.
 * @param end One past the last byte to read (more than `start`).
 * @param at Where the result starts, before `start`.
 * @param key The key from {@linkcode readMaskKey} (the payload's first byte at `start`).
 *
 * @example Unmask "Hello" four bytes to the front
 * ```ts
 * import { maskFront } from "./mask.ts";
 * const chunk = new Uint8Array([0, 0, 0, 0, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0, 0, 0]);
 * maskFront(chunk, new Int32Array(chunk.buffer), 0, 4, 9, 0, 0x37fa213d);
 * console.log(new TextDecoder().decode(chunk.subarray(0, 5))); // "Hello"
 * ```
 */
export function maskFront(
  buf: Uint8Array,
  words: Int32Array,
  offset: number,
  start: number,
  end: number,
  at: number,
  key: number,
): void {
  const last = (offset + end - 1) >> 2;
  // Past the buffer's last whole word (its last bytes), or not by whole words.
  if (last >= words.length || ((start - at) & 3) !== 0 || at >= start) {
    return maskInto(buf, start, end, buf, at, key, 0);
  }
  const lane = (offset + start) & 3, shift = lane << 3;
  // The key turned so that the payload's first byte, in its lane, meets the key's first.
  const k = lane === 0 ? key : (key >>> shift) | (key << (32 - shift));
  const w = LITTLE_ENDIAN ? swapBytes(k) : k;
  let from = (offset + start) >> 2, to = (offset + at) >> 2;
  // The first word keeps what the destination held before `at` (an earlier payload).
  const head = LITTLE_ENDIAN ? -1 << shift : -1 >>> shift;
  words[to] = (words[to] & ~head) | ((words[from] ^ w) & head);
  // Forwards: each word is read before the write that may land on it.
  while (from < last) words[++to] = words[++from] ^ w;
}

// The key as it stands `phase` bytes into the payload.
function rotate(key: number, phase: number): number {
  const shift = (phase & 3) << 3;
  return shift === 0 ? key | 0 : (key << shift) | (key >>> (32 - shift));
}

function maskLarge(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  at: number,
  key: number,
): void {
  let k = key;
  if (end - start >= SIMD_THRESHOLD && simdMaskInto(src, start, end, dst, at, k)) return;
  let i = start, j = at;
  // Words need both sides at the same alignment: always so in place, and for moves by a
  // multiple of 4 (a client header is 4 bytes longer than ours, the masking key).
  if (((src.byteOffset + i - dst.byteOffset - j) & 3) === 0) {
    while (((src.byteOffset + i) & 3) !== 0) {
      dst[j++] = src[i++] ^ (k >>> 24);
      k = (k << 8) | (k >>> 24);
    }
    const words = (end - i) >>> 2;
    xorWords(
      new Int32Array(src.buffer, src.byteOffset + i, words),
      src === dst && i === j ? null : new Int32Array(dst.buffer, dst.byteOffset + j, words),
      LITTLE_ENDIAN ? swapBytes(k) : k,
    );
    i += words << 2;
    j += words << 2;
  }
  maskBytes(src, i, end, dst, j, k);
}

// A byte at a time, four per round (the key's bytes in registers).
function maskBytes(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  at: number,
  k: number,
): void {
  const b0 = k >>> 24, b1 = (k >>> 16) & 0xff, b2 = (k >>> 8) & 0xff, b3 = k & 0xff;
  let i = start, j = at;
  for (; i + 4 <= end; i += 4, j += 4) {
    dst[j] = src[i] ^ b0;
    dst[j + 1] = src[i + 1] ^ b1;
    dst[j + 2] = src[i + 2] ^ b2;
    dst[j + 3] = src[i + 3] ^ b3;
  }
  if (i < end) dst[j++] = src[i++] ^ b0;
  if (i < end) dst[j++] = src[i++] ^ b1;
  if (i < end) dst[j] = src[i] ^ b2;
}

// Unrolled by 8: bounds checks and loop overhead dominate a plain loop. `to` is null in
// place; otherwise it may overlap `from` only at a lower address (a move to the front).
function xorWords(from: Int32Array, to: Int32Array | null, w: number): void {
  const n = from.length, out = to ?? from;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    out[j] = from[j] ^ w;
    out[j + 1] = from[j + 1] ^ w;
    out[j + 2] = from[j + 2] ^ w;
    out[j + 3] = from[j + 3] ^ w;
    out[j + 4] = from[j + 4] ^ w;
    out[j + 5] = from[j + 5] ^ w;
    out[j + 6] = from[j + 6] ^ w;
    out[j + 7] = from[j + 7] ^ w;
  }
  for (; j < n; j++) out[j] = from[j] ^ w;
}

function swapBytes(k: number): number {
  return ((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24);
}

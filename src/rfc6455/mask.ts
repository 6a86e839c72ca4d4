/**
 * Payload masking ([RFC 6455 section 5.3](https://www.rfc-editor.org/rfc/rfc6455#section-5.3)):
 * XOR with a 4-byte key, in place. Masking and unmasking are the same operation.
 *
 * @module
 */

// Below this many bytes, creating the Int32Array view costs more than it saves.
const WORD_THRESHOLD = 128;

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
 * Large ranges go a 32-bit word at a time once aligned; tails and tiny payloads go a
 * byte at a time.
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
  const shift = (phase & 3) << 3;
  let k = shift === 0 ? key | 0 : (key << shift) | (key >>> (32 - shift));
  let i = start;
  if (end - i >= WORD_THRESHOLD) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      buf[i++] ^= k >>> 24;
      k = (k << 8) | (k >>> 24);
    }
    const words = (end - i) >>> 2;
    xorWords(
      new Int32Array(buf.buffer, buf.byteOffset + i, words),
      LITTLE_ENDIAN ? swapBytes(k) : k,
    );
    i += words << 2;
  }
  const b0 = k >>> 24, b1 = (k >>> 16) & 0xff, b2 = (k >>> 8) & 0xff, b3 = k & 0xff;
  for (; i + 4 <= end; i += 4) {
    buf[i] ^= b0;
    buf[i + 1] ^= b1;
    buf[i + 2] ^= b2;
    buf[i + 3] ^= b3;
  }
  if (i < end) buf[i++] ^= b0;
  if (i < end) buf[i++] ^= b1;
  if (i < end) buf[i] ^= b2;
}

// Unrolled by 8: bounds checks and loop overhead dominate a plain loop.
function xorWords(view: Int32Array, w: number): void {
  const n = view.length;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    view[j] ^= w;
    view[j + 1] ^= w;
    view[j + 2] ^= w;
    view[j + 3] ^= w;
    view[j + 4] ^= w;
    view[j + 5] ^= w;
    view[j + 6] ^= w;
    view[j + 7] ^= w;
  }
  for (; j < n; j++) view[j] ^= w;
}

function swapBytes(k: number): number {
  return ((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24);
}

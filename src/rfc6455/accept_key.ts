/**
 * `Sec-WebSocket-Accept` for the key every client sends
 * ([RFC 6455 section 4.2.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2)):
 * base64 of the SHA-1 ([RFC 3174](https://www.rfc-editor.org/rfc/rfc3174)) of the key and
 * the protocol's GUID, in JavaScript. A valid key is 24 characters, so the hashed input
 * is always 60 bytes: two blocks, of which only the key's six words vary; the second
 * block (padding and length) is the same for every key, so its message schedule is
 * computed once. Between two handshakes a server runs so much else that a native hash
 * (a call into OpenSSL, a context, a string made from its output) costs several times
 * its cost in a loop; this runs on the JavaScript heap alone. It is synchronous and
 * reuses module-level buffers (the key's block, the state, the digest): no two calls
 * overlap.
 *
 * @module
 */

import { WEBSOCKET_GUID } from "./handshake.ts";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The message schedule of one block (80 words), filled from its first 16.
function schedule(w: Int32Array): void {
  for (let t = 16; t < 80; t++) {
    const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
    w[t] = (x << 1) | (x >>> 31);
  }
}

// The key's 24 bytes are words 0-5 of the first block; the GUID's 36 are words 6-14;
// then the 0x80 that starts the padding.
const FIRST = new Int32Array(80);
for (let i = 0; i < 9; i++) {
  let word = 0;
  for (let j = 0; j < 4; j++) word = (word << 8) | WEBSOCKET_GUID.charCodeAt(4 * i + j);
  FIRST[6 + i] = word;
}
FIRST[15] = 0x80000000 | 0;

// The second block: zeros, then the input's length in bits (60 bytes).
const SECOND = new Int32Array(80);
SECOND[15] = 60 * 8;
schedule(SECOND);

const state = new Int32Array(5);
const digest = new Uint8Array(21); // 20 bytes and a zero byte for the last base64 group
const chars: number[] = new Array(28).fill(0);

// One block of SHA-1 on `state` (RFC 3174 section 6.1), one loop per round function.
function compress(w: Int32Array): void {
  let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], t = 0;
  for (; t < 20; t++) {
    const temp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[t]) | 0;
    e = d, d = c, c = (b << 30) | (b >>> 2), b = a, a = temp;
  }
  for (; t < 40; t++) {
    const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[t]) | 0;
    e = d, d = c, c = (b << 30) | (b >>> 2), b = a, a = temp;
  }
  for (; t < 60; t++) {
    const f = (b & c) | (b & d) | (c & d);
    const temp = (((a << 5) | (a >>> 27)) + f + e - 0x70e44324 + w[t]) | 0;
    e = d, d = c, c = (b << 30) | (b >>> 2), b = a, a = temp;
  }
  for (; t < 80; t++) {
    const temp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + w[t]) | 0;
    e = d, d = c, c = (b << 30) | (b >>> 2), b = a, a = temp;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

/**
 * The `Sec-WebSocket-Accept` value of a key of 24 ASCII characters (every valid key):
 * what `acceptValue` (`handshake.ts`) returns with a SHA-1 in base64.
 *
 * @param key The `Sec-WebSocket-Key` value, trimmed.
 * @returns The accept value (28 characters of base64), or `undefined` for a key of
 * another length or with other characters (hash those with `acceptValue`).
 * @example
 * ```ts
 * import { acceptKey } from "./accept_key.ts";
 * acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptKey(key: string): string | undefined {
  if (key.length !== 24) return undefined;
  let any = 0;
  for (let i = 0; i < 6; i++) {
    const at = 4 * i;
    const b0 = key.charCodeAt(at), b1 = key.charCodeAt(at + 1);
    const b2 = key.charCodeAt(at + 2), b3 = key.charCodeAt(at + 3);
    any |= b0 | b1 | b2 | b3;
    FIRST[i] = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  }
  if (any > 0x7f) return undefined;
  schedule(FIRST);
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  state[4] = 0xc3d2e1f0 | 0;
  compress(FIRST);
  compress(SECOND);
  for (let i = 0; i < 5; i++) {
    const word = state[i];
    digest[4 * i] = word >>> 24;
    digest[4 * i + 1] = word >>> 16;
    digest[4 * i + 2] = word >>> 8;
    digest[4 * i + 3] = word;
  }
  // 20 bytes: six whole groups of three, then two bytes and one "=".
  for (let i = 0, o = 0; i < 21; i += 3, o += 4) {
    const n = (digest[i] << 16) | (digest[i + 1] << 8) | digest[i + 2];
    chars[o] = BASE64.charCodeAt(n >>> 18);
    chars[o + 1] = BASE64.charCodeAt((n >>> 12) & 63);
    chars[o + 2] = BASE64.charCodeAt((n >>> 6) & 63);
    chars[o + 3] = BASE64.charCodeAt(n & 63);
  }
  chars[27] = 0x3d; // "="
  return String.fromCharCode.apply(null, chars);
}

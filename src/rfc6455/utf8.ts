/**
 * UTF-8 validation ([RFC 3629](https://www.rfc-editor.org/rfc/rfc3629#section-4)): a pure
 * incremental state machine that fails on the first offending byte yet accepts a code
 * point split across chunks, plus a whole-buffer check with an injectable native fast path.
 *
 * Refused: stray continuation bytes, overlong forms (C0, C1, E0 80-9F, F0 80-8F),
 * surrogates (ED A0-BF) and code points above U+10FFFF (F4 90-BF, F5-FF).
 *
 * @module
 */

/**
 * A whole-buffer UTF-8 check, such as `isUtf8` from `node:buffer`.
 *
 * @example A check that accepts ASCII only
 * ```ts
 * import type { Utf8Check } from "./utf8.ts";
 * const check: Utf8Check = (bytes) => bytes.every((b) => b < 0x80);
 * ```
 */
export type Utf8Check = (bytes: Uint8Array) => boolean;

// Scan state, packed in one small integer so the hot loop allocates nothing:
// bits 0-1 continuation bytes still needed, bits 2-9 lowest and bits 10-17 highest
// allowed value of the next one. 0 means "between code points"; -1 means "failed".
const ACCEPT = 0;
const FAILED = -1;

// Native checks cost a call and a view; below this size the JS loop is as fast.
const NATIVE_MIN = 64;

/**
 * Runs the state machine over `bytes[start..end)` from a packed state.
 *
 * @param bytes The bytes to scan.
 * @param start The first byte to scan.
 * @param end One past the last byte to scan.
 * @param state The packed state left by the previous part; `0` at a message start.
 * @returns The packed state after the last byte: `0` between code points, `-1` invalid.
 *
 * @example Feed a code point split in two
 * ```ts
 * import { scanUtf8 } from "./utf8.ts";
 * const euro = new Uint8Array([0xe2, 0x82, 0xac]);
 * const mid = scanUtf8(euro, 0, 1, 0);
 * console.log(mid > 0, scanUtf8(euro, 1, 3, mid)); // true 0
 * ```
 */
export function scanUtf8(bytes: Uint8Array, start: number, end: number, state: number): number {
  if (state < 0) return FAILED;
  let need = state & 3, lo = (state >>> 2) & 0xff, hi = state >>> 10;
  let i = start;
  while (i < end) {
    const b = bytes[i++];
    if (need > 0) {
      if (b < lo || b > hi) return FAILED;
      need--, lo = 0x80, hi = 0xbf;
    } else if (b >= 0x80) {
      lo = 0x80, hi = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b === 0xe0) lo = 0xa0; // overlong
        else if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
      } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b === 0xf0) lo = 0x90; // overlong
        else if (b === 0xf4) hi = 0x8f; // above U+10FFFF
      } else return FAILED;
    }
  }
  return need === 0 ? ACCEPT : need | (lo << 2) | (hi << 10);
}

/**
 * Checks that `bytes[start..end)` is complete, valid UTF-8: with `native` when given and
 * the range is long enough, else in JS, ASCII first.
 *
 * @param bytes The bytes to check.
 * @param start The first byte.
 * @param end One past the last byte.
 * @param native An optional whole-buffer check, such as `isUtf8` from `node:buffer`.
 * @returns `true` when the range is valid UTF-8 ending on a code point boundary.
 *
 * @example Check two byte sequences
 * ```ts
 * import { isValidUtf8 } from "./utf8.ts";
 * console.log(isValidUtf8(new Uint8Array([0xc3, 0xa9]), 0, 2)); // true
 * console.log(isValidUtf8(new Uint8Array([0xc0, 0xaf]), 0, 2)); // false
 * ```
 */
export function isValidUtf8(
  bytes: Uint8Array,
  start: number,
  end: number,
  native?: Utf8Check,
): boolean {
  if (native !== undefined && end - start >= NATIVE_MIN) return native(bytes.subarray(start, end));
  let i = start;
  while (i < end && bytes[i] < 0x80) i++;
  return i === end || scanUtf8(bytes, i, end, ACCEPT) === ACCEPT;
}

/**
 * Where the last complete code point of `bytes[start..end)` ends: `end`, or the index of
 * a trailing lead byte whose sequence is cut off. Stray bytes are left for the validator.
 *
 * @param bytes The bytes.
 * @param start The first byte of the range.
 * @param end One past the last byte of the range.
 * @returns The index where a cut splits no code point.
 * @example
 * ```ts
 * import { lastBoundary } from "./utf8.ts";
 * console.log(lastBoundary(new Uint8Array([0x61, 0xe2, 0x82]), 0, 3)); // 1
 * ```
 */
export function lastBoundary(bytes: Uint8Array, start: number, end: number): number {
  const stop = Math.max(start, end - 4);
  for (let j = end - 1; j >= stop; j--) {
    const b = bytes[j];
    if ((b & 0xc0) === 0x80) continue;
    const len = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    return j + len <= end ? end : j;
  }
  return end;
}

/**
 * An incremental UTF-8 validator for a message that arrives in parts (fragments or
 * chunks). It fails on the first invalid byte, so a bad message is refused before its
 * last fragment arrives ([RFC 6455 section 8.1](https://www.rfc-editor.org/rfc/rfc6455#section-8.1)).
 *
 * @example Validate a message in two parts
 * ```ts
 * import { Utf8Validator } from "./utf8.ts";
 * const v = new Utf8Validator();
 * const bytes = new TextEncoder().encode("€uro");
 * console.log(v.write(bytes, 0, 2), v.write(bytes, 2, bytes.length), v.end()); // true true true
 * ```
 */
export class Utf8Validator {
  #state = ACCEPT;
  #native: Utf8Check | undefined;

  /**
   * Creates a validator at the start of a message.
   *
   * @param native An optional whole-buffer check used for long runs.
   */
  constructor(native?: Utf8Check) {
    this.#native = native;
  }

  /**
   * Validates the next part of the message.
   *
   * @param bytes The bytes holding the part.
   * @param start The first byte of the part.
   * @param end One past the last byte of the part.
   * @returns `false` as soon as the message can no longer be valid UTF-8.
   */
  write(bytes: Uint8Array, start: number, end: number): boolean {
    let state = this.#state, i = start;
    // Finish a code point left open by the previous part before any bulk check.
    while (state > 0 && i < end) {
      state = scanUtf8(bytes, i, i + 1, state);
      i++;
    }
    const native = this.#native;
    if (state === ACCEPT && native !== undefined && end - i >= NATIVE_MIN) {
      const cut = lastBoundary(bytes, i, end);
      if (cut > i && !isValidUtf8(bytes, i, cut, native)) state = FAILED;
      else i = cut;
    }
    this.#state = scanUtf8(bytes, i, end, state);
    return this.#state !== FAILED;
  }

  /**
   * Whether the message may end here: valid so far and not inside a code point.
   *
   * @returns `true` when every byte written so far forms complete, valid UTF-8.
   */
  end(): boolean {
    return this.#state === ACCEPT;
  }

  /** Forgets the current message, ready for the next one. */
  reset(): void {
    this.#state = ACCEPT;
  }
}

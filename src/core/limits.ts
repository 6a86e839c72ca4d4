/**
 * Size checks the core makes where a runtime cannot: message size against `maxMsgSize`
 * and the close arguments an application may send.
 *
 * @module
 */

import { isValidWireCode } from "./protocol/close_codes.ts";

/**
 * The UTF-8 length of a string, counted without encoding it.
 *
 * @param text The string.
 * @returns Its length in UTF-8 bytes.
 * @example
 * ```ts
 * import { utf8Length } from "./limits.ts";
 * utf8Length("é€😀"); // 2 + 3 + 4 = 9
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // four bytes for two UTF-16 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Whether a message is larger than `max` bytes (strings counted in UTF-8).
 *
 * @param data The message.
 * @param max The limit in bytes.
 * @returns `true` when the message is over the limit.
 * @example
 * ```ts
 * import { exceedsLimit } from "./limits.ts";
 * exceedsLimit(new Uint8Array(11), 10); // true
 * ```
 */
export function exceedsLimit(data: string | Uint8Array, max: number): boolean {
  if (data.length > max) return true;
  // A UTF-16 unit is at most 3 UTF-8 bytes: count only when the string could be over.
  return typeof data === "string" && data.length * 3 > max && utf8Length(data) > max;
}

/**
 * Throws `RangeError` unless an application may send this close code and reason: a
 * code allowed on the wire ({@linkcode isValidWireCode}), with a reason of at most
 * 123 UTF-8 bytes (section 5.5).
 *
 * @param code The close code.
 * @param reason The close reason.
 * @example
 * ```ts
 * import { checkCloseArgs } from "./limits.ts";
 * checkCloseArgs(4000, "bye");
 * ```
 */
export function checkCloseArgs(code: number, reason: string): void {
  if (!isValidWireCode(code)) {
    throw new RangeError(
      `Invalid close code ${code}: expected 1000-1003, 1007-1014 or 3000-4999`,
    );
  }
  if (typeof reason !== "string") {
    throw new TypeError(`Invalid close reason: expected a string, got ${typeof reason}`);
  }
  if (utf8Length(reason) > 123) {
    throw new RangeError("Invalid close reason: expected at most 123 UTF-8 bytes");
  }
}

/**
 * The HTTP field grammar wsx checks, in one place
 * ([RFC 9110 section 5.6](https://www.rfc-editor.org/rfc/rfc9110#section-5.6)): tokens
 * (header names, subprotocols, extension names, cookie names), field values, optional
 * whitespace and comma-separated lists. The core, the engine and the Node.js head parser
 * all read it from here.
 *
 * @module
 */

/**
 * One `tchar` (RFC 9110 section 5.6.2), for scanners that walk a string character by
 * character.
 *
 * @example Scan a token
 * ```ts
 * import { TCHAR } from "./tokens.ts";
 * console.log(TCHAR.test("a"), TCHAR.test(";")); // true false
 * ```
 */
export const TCHAR: RegExp = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * A whole token: `token = 1*tchar` (RFC 9110 section 5.6.2).
 *
 * @example Check a header name
 * ```ts
 * import { TOKEN } from "./tokens.ts";
 * console.log(TOKEN.test("Sec-WebSocket-Protocol"), TOKEN.test("a b")); // true false
 * ```
 */
export const TOKEN: RegExp = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A field value wsx writes: visible ASCII, space and tab. CR, LF, NUL and non-ASCII are
 * refused so that no caller-supplied value can split or corrupt a response.
 *
 * @example Refuse a value that would split the response
 * ```ts
 * import { FIELD_VALUE } from "./tokens.ts";
 * console.log(FIELD_VALUE.test("a=1"), FIELD_VALUE.test("a\r\nb: 2")); // true false
 * ```
 */
export const FIELD_VALUE: RegExp = /^[\t\x20-\x7e]*$/;

/**
 * A field value as received, its surrounding whitespace already gone: visible ASCII,
 * with spaces and tabs only inside.
 *
 * @example Check a trimmed value
 * ```ts
 * import { TRIMMED_FIELD_VALUE } from "./tokens.ts";
 * console.log(TRIMMED_FIELD_VALUE.test("keep-alive, Upgrade"), TRIMMED_FIELD_VALUE.test(" x")); // true false
 * ```
 */
export const TRIMMED_FIELD_VALUE: RegExp = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;

/**
 * Whether a character code is optional whitespace (`OWS`: space or horizontal tab).
 *
 * @param code A UTF-16 code unit.
 * @returns `true` for space and tab.
 * @example
 * ```ts
 * import { isOws } from "./tokens.ts";
 * console.log(isOws(0x20), isOws(0x41)); // true false
 * ```
 */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * `value.slice(start, end)` without the optional whitespace at either end.
 *
 * @param value The string.
 * @param start Where to start. @default {0}
 * @param end Where to end. @default {value.length}
 * @returns The trimmed part.
 * @example
 * ```ts
 * import { trimOws } from "./tokens.ts";
 * console.log(trimOws(" \t13 ")); // "13"
 * ```
 */
export function trimOws(value: string, start = 0, end: number = value.length): string {
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/**
 * The trimmed, non-empty elements of a comma-separated header (RFC 9110 section 5.6.1).
 *
 * @param value The header value.
 * @returns Its elements in order.
 * @example
 * ```ts
 * import { listElements } from "./tokens.ts";
 * console.log(listElements("chat, , superchat")); // ["chat", "superchat"]
 * ```
 */
export function listElements(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= value.length;) {
    let j = value.indexOf(",", i);
    if (j < 0) j = value.length;
    const item = trimOws(value, i, j);
    if (item !== "") out.push(item);
    i = j + 1;
  }
  return out;
}

/**
 * Whether a comma-separated header lists `token` (compared without case), among others.
 *
 * @param value The header value, or `null` when absent.
 * @param token The token, in lower case.
 * @returns `true` when it is listed.
 * @example
 * ```ts
 * import { listsToken } from "./tokens.ts";
 * console.log(listsToken("keep-alive, Upgrade", "upgrade")); // true
 * ```
 */
export function listsToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  // Read on every handshake. The usual value is the token alone ("websocket", "Upgrade"):
  // one comparison, and the loop below (compiled only once it runs) stays cold.
  if (value.length === token.length && sameLetters(value, 0, token)) return true;
  // Element by element, compared in place (no list, no lower-cased copy).
  for (let i = 0; i <= value.length;) {
    let j = value.indexOf(",", i);
    if (j < 0) j = value.length;
    let end = j;
    while (i < end && isOws(value.charCodeAt(i))) i++;
    while (end > i && isOws(value.charCodeAt(end - 1))) end--;
    if (end - i === token.length && sameLetters(value, i, token)) return true;
    i = j + 1;
  }
  return false;
}

// Whether value[at, at + token.length) is `token` (lower case) in any case: ASCII letters
// folded. Header values arrive as Latin-1, where no other character lower-cases to ASCII.
function sameLetters(value: string, at: number, token: string): boolean {
  for (let k = 0; k < token.length; k++) {
    const c = value.charCodeAt(at + k);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== token.charCodeAt(k)) return false;
  }
  return true;
}

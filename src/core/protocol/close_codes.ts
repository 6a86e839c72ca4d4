/**
 * Close codes ([RFC 6455 section 7.4](https://www.rfc-editor.org/rfc/rfc6455#section-7.4)):
 * which ones may appear on the wire and which an application may send. The one place
 * that knows: the engine checks a peer's close frame with it, the core a user's
 * `close(code)`.
 *
 * @module
 */

/**
 * The close codes that carry a meaning of their own in wsx.
 *
 * @example Report a closing handshake that carried no code
 * ```ts
 * import { CLOSE } from "./close_codes.ts";
 * console.log(CLOSE.noStatus); // 1005
 * ```
 */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  // RFC 6455 section 7.4.1: 1005 and 1006 are never sent, only reported locally.
  noStatus: 1005,
  abnormal: 1006,
  invalidData: 1007,
  policy: 1008,
  tooBig: 1009,
  internalError: 1011,
} as const;

/**
 * Whether `code` may appear in a close frame on the wire.
 *
 * Valid: 1000-1003, 1007-1014 and 3000-4999. Refused, following
 * [RFC 6455 section 7.4](https://www.rfc-editor.org/rfc/rfc6455#section-7.4):
 * below 1000, 1004 (reserved), 1005 and 1006 (local only), 1015 (TLS failure, local
 * only), 1016-2999 (reserved for future revisions) and 5000 or more.
 * 1012-1014 were registered with IANA after the RFC and are accepted.
 *
 * @param code The close code read from or about to be written to a close frame.
 * @returns `true` when the code is allowed on the wire.
 *
 * @example Check a code from a peer
 * ```ts
 * import { isValidWireCode } from "./close_codes.ts";
 * console.log(isValidWireCode(1000), isValidWireCode(1005)); // true false
 * ```
 */
export function isValidWireCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

/**
 * Whether an application may choose `code` itself: 1000, or 3000-4999 (registered and
 * private-use codes, [RFC 6455 section 7.4.2](https://www.rfc-editor.org/rfc/rfc6455#section-7.4.2)).
 * The protocol codes (1001-1014) are reserved for wsx to send on its own account.
 *
 * @param code The close code an application asked for.
 * @returns `true` when an application may send it.
 *
 * @example Validate the code passed to `close()`
 * ```ts
 * import { isApplicationCode } from "./close_codes.ts";
 * console.log(isApplicationCode(4000), isApplicationCode(1002)); // true false
 * ```
 */
export function isApplicationCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return code === 1000 || (code >= 3000 && code <= 4999);
}

/**
 * The payload of a close frame, read by the engine's parser
 * ([RFC 6455 section 5.5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1)). Which
 * codes are allowed is protocol knowledge the core shares: src/core/protocol/close_codes.ts.
 *
 * @module
 */

import type { WsxErrorCode } from "../errors.ts";
import { isValidWireCode } from "../core/protocol/close_codes.ts";
import type { Utf8Decode } from "./types.ts";
import { isValidUtf8, type Utf8Check } from "./utf8.ts";

/**
 * Reads the payload of a close frame
 * ([RFC 6455 section 5.5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1)): an
 * optional 2-byte code, then an optional UTF-8 reason.
 *
 * @param buf The unmasked payload's bytes.
 * @param start The payload's first byte.
 * @param end One past its last byte.
 * @param isUtf8 An optional native UTF-8 check.
 * @param decode The UTF-8 decoder.
 * @returns The code (1005 when absent) and reason, or the error code of a bad payload.
 * @example
 * ```ts
 * import { readClose } from "./close_frame.ts";
 * const decode = (b: Uint8Array, s: number, e: number) => new TextDecoder().decode(b.subarray(s, e));
 * console.log(readClose(new Uint8Array([0x03, 0xe8]), 0, 2, undefined, decode)); // { code: 1000, reason: "" }
 * ```
 */
export function readClose(
  buf: Uint8Array,
  start: number,
  end: number,
  isUtf8: Utf8Check | undefined,
  decode: Utf8Decode,
): { code: number; reason: string } | WsxErrorCode {
  if (end - start === 1) return "close-payload";
  if (end - start === 0) return { code: 1005, reason: "" };
  const code = (buf[start] << 8) | buf[start + 1];
  if (!isValidWireCode(code)) return "close-code";
  if (!isValidUtf8(buf, start + 2, end, isUtf8)) return "invalid-utf8-reason";
  return { code, reason: decode(buf, start + 2, end) };
}

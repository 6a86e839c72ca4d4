/**
 * Control frames a server sends: close, ping, pong
 * ([RFC 6455 section 5.5](https://www.rfc-editor.org/rfc/rfc6455#section-5.5)). Their
 * payload is at most 125 bytes, so they always fit a 2-byte header. Pure.
 *
 * @module
 */

import { isValidWireCode } from "../core/protocol/close_codes.ts";
import { OPCODE, writeHeader } from "./encoder.ts";

/**
 * The largest control frame: a 2-byte header and a 125-byte payload.
 *
 * @example Size a buffer for any control frame
 * ```ts
 * import { MAX_CONTROL_FRAME } from "./control.ts";
 * console.log(MAX_CONTROL_FRAME); // 127
 * ```
 */
export const MAX_CONTROL_FRAME = 127;

// RFC 6455 section 5.5.1: 125 bytes of payload, 2 of them taken by the code.
const MAX_REASON = 123;
const textEncoder = new TextEncoder();

/**
 * Writes a ping or pong frame.
 *
 * @param target The buffer, with {@linkcode MAX_CONTROL_FRAME} bytes free at `offset`.
 * @param offset Where the frame starts.
 * @param opcode `OPCODE.ping` or `OPCODE.pong`.
 * @param payload At most 125 bytes, echoed from a ping or empty.
 * @returns The offset just after the frame.
 * @throws {RangeError} When the payload is longer than 125 bytes.
 *
 * @example Answer a ping
 * ```ts
 * import { writeControlFrame } from "./control.ts";
 * import { OPCODE } from "./encoder.ts";
 * const target = new Uint8Array(127);
 * console.log(writeControlFrame(target, 0, OPCODE.pong, new Uint8Array([1]))); // 3
 * ```
 */
export function writeControlFrame(
  target: Uint8Array,
  offset: number,
  opcode: number,
  payload: Uint8Array,
): number {
  if (payload.byteLength > 125) {
    throw new RangeError(
      `Cannot write control frame: payload is ${payload.byteLength} bytes, at most 125 allowed`,
    );
  }
  const at = writeHeader(target, offset, opcode, payload.byteLength);
  target.set(payload, at);
  return at + payload.byteLength;
}

/**
 * Writes a close frame. A code of 1005 (or any code not allowed on the wire) gives an
 * empty payload, which is how "no status" travels; a reason is cut to 123 bytes on a
 * code point boundary.
 *
 * @param target The buffer, with {@linkcode MAX_CONTROL_FRAME} bytes free at `offset`.
 * @param offset Where the frame starts.
 * @param code The close code.
 * @param reason The reason text.
 * @returns The offset just after the frame.
 *
 * @example Write a close frame with a reason
 * ```ts
 * import { writeCloseFrame } from "./control.ts";
 * const target = new Uint8Array(127);
 * console.log(target.subarray(0, writeCloseFrame(target, 0, 1000, "ok"))); // Uint8Array [136, 4, 3, 232, 111, 107]
 * ```
 */
export function writeCloseFrame(
  target: Uint8Array,
  offset: number,
  code: number,
  reason: string,
): number {
  if (!isValidWireCode(code)) return writeHeader(target, offset, OPCODE.close, 0);
  const body = offset + 2;
  target[body] = code >>> 8;
  target[body + 1] = code;
  const room = target.subarray(body + 2, body + 2 + MAX_REASON);
  const n = reason === "" ? 0 : textEncoder.encodeInto(reason, room).written;
  writeHeader(target, offset, OPCODE.close, 2 + n);
  return body + 2 + n;
}

/**
 * Builds a standalone close frame, as {@linkcode writeCloseFrame} does.
 *
 * @param code The close code; 1005 for an empty payload.
 * @param reason The reason text, cut to 123 bytes. @default {""}
 * @returns The frame.
 *
 * @example Build an empty close frame
 * ```ts
 * import { encodeClose } from "./control.ts";
 * console.log(encodeClose(1005)); // Uint8Array [136, 0]
 * ```
 */
export function encodeClose(code: number, reason = ""): Uint8Array {
  const out = new Uint8Array(MAX_CONTROL_FRAME);
  return out.subarray(0, writeCloseFrame(out, 0, code, reason));
}

/**
 * Builds a standalone ping or pong frame, as {@linkcode writeControlFrame} does.
 *
 * @param opcode `OPCODE.ping` or `OPCODE.pong`.
 * @param payload At most 125 bytes. @default {empty}
 * @returns The frame.
 * @throws {RangeError} When the payload is longer than 125 bytes.
 *
 * @example Build an empty ping
 * ```ts
 * import { encodeControl } from "./control.ts";
 * import { OPCODE } from "./encoder.ts";
 * console.log(encodeControl(OPCODE.ping)); // Uint8Array [137, 0]
 * ```
 */
export function encodeControl(opcode: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + payload.byteLength);
  writeControlFrame(out, 0, opcode, payload);
  return out;
}

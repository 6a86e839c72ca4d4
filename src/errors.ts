/**
 * The one table of wsx protocol and policy errors: a stable code, the close code
 * sent to the peer, and the reason text. The README lists the same table.
 *
 * @module
 */

/**
 * Every error wsx can close a connection with, keyed by its stable code.
 *
 * @example Look up the close code of an error
 * ```ts
 * import { ERRORS } from "./errors.ts";
 * console.log(ERRORS["message-too-big"].closeCode); // 1009
 * ```
 */
export const ERRORS = {
  // RFC 6455 section 5.2: RSV1-3 MUST be 0 unless an extension defines them.
  "frame-rsv": {
    closeCode: 1002,
    message: "Invalid frame: RSV bits set without a negotiated extension",
  },
  // RFC 7692 section 6: RSV1 marks the first frame of a compressed message, nothing else.
  "frame-rsv1": {
    closeCode: 1002,
    message: "Invalid frame: RSV1 set on a continuation or control frame",
  },
  "frame-opcode": { closeCode: 1002, message: "Invalid frame: reserved opcode" },
  // RFC 6455 section 5.1: a server MUST close on an unmasked client frame.
  "frame-unmasked": { closeCode: 1002, message: "Invalid frame: client frames must be masked" },
  // RFC 6455 section 5.2: the most significant bit of a 64-bit length MUST be 0.
  "frame-length": { closeCode: 1002, message: "Invalid frame: 64-bit length with the top bit set" },
  // RFC 6455 section 5.5: control frames carry at most 125 bytes and are never fragmented.
  "control-too-long": {
    closeCode: 1002,
    message: "Invalid frame: control frame longer than 125 bytes",
  },
  "control-fragmented": { closeCode: 1002, message: "Invalid frame: fragmented control frame" },
  // RFC 6455 section 5.4: continuation rules.
  "unexpected-continuation": {
    closeCode: 1002,
    message: "Invalid frame: continuation without a message to continue",
  },
  "expected-continuation": {
    closeCode: 1002,
    message: "Invalid frame: new data frame before the previous message ended",
  },
  "close-payload": { closeCode: 1002, message: "Invalid close frame: 1-byte payload" },
  "close-code": { closeCode: 1002, message: "Invalid close frame: close code not allowed" },
  // RFC 6455 section 8.1: invalid UTF-8 in a text message or a close reason.
  "invalid-utf8": { closeCode: 1007, message: "Invalid UTF-8 in a text message" },
  "invalid-utf8-reason": { closeCode: 1007, message: "Invalid UTF-8 in a close reason" },
  // RFC 7692 section 8.2.2: data that does not inflate fails the connection.
  "inflate-failed": {
    closeCode: 1007,
    message: "Invalid compressed message: the payload does not inflate",
  },
  "too-many-fragments": {
    closeCode: 1008,
    message: "Policy violation: too many fragments in one message",
  },
  "buffer-full": {
    closeCode: 1008,
    message: "Policy violation: outbound buffer over maxBufferedBytes",
  },
  "message-too-big": { closeCode: 1009, message: "Message too big: larger than maxMsgSize" },
  "stream-too-big": {
    closeCode: 1009,
    message: "Message too big: streamed message larger than maxStreamSize",
  },
  // The application stopped reading a streamed message (onStream) for streamTimeout seconds.
  "stream-stalled": {
    closeCode: 1011,
    message: "Internal error: a message stream was not read for streamTimeout seconds",
  },
  // What a message stream errors with when its connection ends before the message does;
  // the detail names the connection's close code and reason. Never sent on the wire.
  "stream-interrupted": {
    closeCode: 1006,
    message: "Message stream interrupted: the connection closed before the message ended",
  },
  "handler-error": { closeCode: 1011, message: "Internal error: a handler threw" },
  "ping-timeout": { closeCode: 1006, message: "Ping timeout: no frame from the peer in time" },
  "close-timeout": {
    closeCode: 1006,
    message: "Close timeout: the peer did not finish the closing handshake",
  },
  "going-away": { closeCode: 1001, message: "Server shutting down" },
} as const satisfies Record<string, { closeCode: number; message: string }>;

/**
 * The stable code of a wsx error.
 *
 * @example
 * ```ts
 * import type { WsxErrorCode } from "./errors.ts";
 * const code: WsxErrorCode = "invalid-utf8";
 * ```
 */
export type WsxErrorCode = keyof typeof ERRORS;

/**
 * The error wsx reports when it closes a connection for a protocol or policy reason.
 *
 * @example Build the error for an oversized message
 * ```ts
 * import { WsxError } from "./errors.ts";
 * const err = new WsxError("message-too-big");
 * console.log(err.closeCode, err.message); // 1009 "Message too big: larger than maxMsgSize"
 * ```
 */
export class WsxError extends Error {
  /** The stable code from {@linkcode ERRORS}. */
  readonly code: WsxErrorCode;
  /** The close code sent to the peer. */
  readonly closeCode: number;

  /**
   * Builds the error of a table entry.
   *
   * @param code The stable code from {@linkcode ERRORS}.
   * @param detail Optional detail appended after a colon.
   * @example
   * ```ts
   * import { WsxError } from "./errors.ts";
   * new WsxError("invalid-utf8", "byte 7").message; // "Invalid UTF-8 in a text message: byte 7"
   * ```
   */
  constructor(code: WsxErrorCode, detail?: string) {
    const entry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.name = "WsxError";
    this.code = code;
    this.closeCode = entry.closeCode;
  }
}

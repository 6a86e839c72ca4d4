/**
 * The answers wsx's HTTP/1.1 server gives on its own account, in one table: each with
 * its status and plain-text body, written as a complete response that closes the
 * connection. After a request whose framing is in doubt nothing else may be read from
 * the connection (RFC 9112 section 6.3), so every refusal here closes it.
 *
 * @module
 */

import { reasonPhrase, type Refusal, REFUSALS } from "../core/protocol/responses.ts";

export type { Refusal };
export type { HeaderList } from "../core/protocol/handshake.ts";

const bad = (reason: string): Refusal => ({ status: 400, reason });

/**
 * Every refusal of the HTTP/1.1 server, by cause.
 *
 * @example
 * ```ts
 * import { HTTP1_REFUSALS } from "./http1_refusals.ts";
 * HTTP1_REFUSALS.contentLengthWithTransferEncoding.status; // 400
 * ```
 */
export const HTTP1_REFUSALS: {
  readonly badRequestLine: Refusal;
  readonly unsupportedVersion: Refusal;
  readonly unsupportedMethod: Refusal;
  readonly bareLf: Refusal;
  readonly obsFold: Refusal;
  readonly badHeader: Refusal;
  readonly missingHost: Refusal;
  readonly badHost: Refusal;
  readonly headTooLarge: Refusal;
  readonly tooManyHeaders: Refusal;
  readonly badContentLength: Refusal;
  readonly contentLengthWithTransferEncoding: Refusal;
  readonly chunkedNotFinal: Refusal;
  readonly unknownCoding: Refusal;
  readonly transferEncodingOnHttp10: Refusal;
  readonly badChunk: Refusal;
  readonly chunkExtensionsTooLarge: Refusal;
  readonly trailersTooLarge: Refusal;
  readonly expectationFailed: Refusal;
  readonly headTimeout: Refusal;
  readonly bodyTimeout: Refusal;
  readonly handlerFailed: Refusal;
  readonly headCut: Refusal;
  readonly bodyCut: Refusal;
} = {
  badRequestLine: bad("Bad Request: invalid request line"),
  unsupportedVersion: { status: 505, reason: "HTTP Version Not Supported" },
  unsupportedMethod: { status: 501, reason: "Not Implemented: CONNECT" },
  bareLf: bad("Bad Request: line ends in LF without CR"),
  obsFold: bad("Bad Request: folded header line"),
  badHeader: bad("Bad Request: invalid header line"),
  missingHost: bad("Bad Request: HTTP/1.1 needs exactly one Host header"),
  badHost: bad("Bad Request: invalid Host header"),
  headTooLarge: { status: 431, reason: "Request Header Fields Too Large" },
  tooManyHeaders: { status: 431, reason: "Request Header Fields Too Large: too many fields" },
  badContentLength: bad("Bad Request: invalid Content-Length"),
  contentLengthWithTransferEncoding: bad(
    "Bad Request: Content-Length with Transfer-Encoding",
  ),
  chunkedNotFinal: bad("Bad Request: chunked is not the final transfer coding"),
  unknownCoding: { status: 501, reason: "Not Implemented: transfer coding" },
  transferEncodingOnHttp10: bad("Bad Request: Transfer-Encoding in an HTTP/1.0 request"),
  badChunk: bad("Bad Request: invalid chunked body"),
  chunkExtensionsTooLarge: { status: 413, reason: "Content Too Large: chunk extensions" },
  trailersTooLarge: { status: 431, reason: "Request Header Fields Too Large: trailers" },
  expectationFailed: { status: 417, reason: "Expectation Failed" },
  headTimeout: { status: 408, reason: "Request Timeout" },
  bodyTimeout: { status: 408, reason: "Request Timeout: body" },
  handlerFailed: { status: 500, reason: "Internal Server Error" },
  // The client's FIN inside a head, or inside a body before any answer began: node:http
  // reads a message cut short as malformed, and wsx's server on Node.js and Deno answers
  // it with this refusal; the same bytes here keep the runtimes alike.
  headCut: REFUSALS.malformedHead,
  bodyCut: REFUSALS.malformedHead,
};

/**
 * A refusal as a complete response that closes the connection.
 *
 * @param refusal The refusal.
 * @returns The response, ASCII.
 * @example
 * ```ts
 * import { HTTP1_REFUSALS, refusalBytes } from "./http1_refusals.ts";
 * refusalBytes(HTTP1_REFUSALS.headTimeout).byteLength > 0; // true
 * ```
 */
export function refusalBytes(refusal: Refusal): Uint8Array {
  const body = refusal.reason;
  let head = `HTTP/1.1 ${refusal.status} ${reasonPhrase(refusal.status, "Unknown")}\r\n` +
    `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${body.length}\r\n`;
  for (const [name, value] of refusal.headers ?? []) head += `${name}: ${value}\r\n`;
  return latin1(`${head}\r\n${body}`);
}

/**
 * A string of code units up to 0xff as bytes, one each (header values are byte strings).
 *
 * @param text The string.
 * @returns Its bytes.
 * @example
 * ```ts
 * import { latin1 } from "./http1_refusals.ts";
 * latin1("é")[0]; // 0xe9
 * ```
 */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Bytes as a string of code units up to 0xff, one each.
 *
 * @param bytes The bytes.
 * @param start Where to start. @default {0}
 * @param end Where to end. @default {bytes.length}
 * @returns The string.
 * @example
 * ```ts
 * import { fromLatin1 } from "./http1_refusals.ts";
 * fromLatin1(new Uint8Array([0x68, 0x69])); // "hi"
 * ```
 */
export function fromLatin1(bytes: Uint8Array, start = 0, end: number = bytes.length): string {
  let out = "";
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  }
  return out;
}

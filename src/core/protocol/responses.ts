/**
 * The responses wsx writes on its own account, in one place: every refusal (status,
 * reason phrase, body, headers) as raw bytes for a socket or as a `Response`, and the
 * header lines of a raw response head. The core, the engine and every adapter answer
 * from here, so a refusal reads the same on every runtime. Pure.
 *
 * @module
 */

import type { HeaderList } from "./handshake.ts";
import { FIELD_VALUE, TOKEN } from "./tokens.ts";

/**
 * Returns `value` when it may be written as the value of header `name`.
 *
 * @param name The header's name, for the error.
 * @param value The value.
 * @returns The value.
 * @throws {TypeError} When it holds CR, LF or other control or non-ASCII characters.
 * @example
 * ```ts
 * import { validFieldValue } from "./responses.ts";
 * validFieldValue("Sec-WebSocket-Protocol", "chat"); // "chat"
 * ```
 */
export function validFieldValue(name: string, value: string): string {
  if (!FIELD_VALUE.test(value)) {
    throw new TypeError(`Cannot build response: invalid value for header ${JSON.stringify(name)}`);
  }
  return value;
}

/**
 * Formats header lines for a raw response head, each ending in CRLF.
 *
 * @param headers The headers; a name may repeat.
 * @returns The lines.
 * @throws {TypeError} When a name is not a token or a value is not allowed
 * ({@linkcode validFieldValue}).
 * @example
 * ```ts
 * import { formatHeaderLines } from "./responses.ts";
 * formatHeaderLines([["Set-Cookie", "a=1"]]); // "Set-Cookie: a=1\r\n"
 * ```
 */
export function formatHeaderLines(headers: HeaderList): string {
  let out = "";
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) {
      throw new TypeError(`Cannot build response: invalid header name ${JSON.stringify(name)}`);
    }
    out += `${name}: ${validFieldValue(name, value)}\r\n`;
  }
  return out;
}

/**
 * A refusal of an upgrade or of a request head: its status, its plain-text body and any
 * extra headers.
 *
 * @example Refuse with a retry hint
 * ```ts
 * import type { Refusal } from "./responses.ts";
 * const busy: Refusal = { status: 503, reason: "Busy", headers: [["Retry-After", "5"]] };
 * ```
 */
export interface Refusal {
  /** An HTTP status from 400 to 599. */
  readonly status: number;
  /** The body text, shown to whoever reads the response. */
  readonly reason: string;
  /** Extra headers. @default {[]} */
  readonly headers?: HeaderList;
}

/**
 * Every refusal wsx answers with on its own account, besides those of
 * `checkUpgrade`: adapters and the core answer from this table, so a refusal
 * reads the same on every runtime.
 *
 * @example Answer a request that arrives during shutdown
 * ```ts
 * import { REFUSALS, refusalResponse } from "./responses.ts";
 * console.log(refusalResponse(REFUSALS.shuttingDown).status); // 503
 * ```
 */
export const REFUSALS: {
  /** A browser origin outside `allowedOrigins` (cross-site WebSocket hijacking). */
  readonly originNotAllowed: Refusal;
  /** A new upgrade while the server shuts down. */
  readonly shuttingDown: Refusal;
  /** `upgrade()` on a request that did not arrive as an HTTP/1.1 upgrade. */
  readonly notAnUpgrade: Refusal;
  /** The runtime refused to upgrade a request wsx had accepted. */
  readonly upgradeFailed: Refusal;
  /** A request head over the size limit. */
  readonly headTooLarge: Refusal;
  /** A request head (or TLS handshake) that did not arrive in time. */
  readonly headTimeout: Refusal;
  /** A request head that is not valid HTTP. */
  readonly malformedHead: Refusal;
} = {
  originNotAllowed: { status: 403, reason: "Forbidden: origin not allowed" },
  shuttingDown: { status: 503, reason: "Server shutting down", headers: [["Retry-After", "5"]] },
  notAnUpgrade: { status: 400, reason: "WebSocket upgrade needs an HTTP/1.1 upgrade request" },
  upgradeFailed: { status: 400, reason: "WebSocket upgrade failed" },
  headTooLarge: { status: 431, reason: "" },
  headTimeout: { status: 408, reason: "" },
  malformedHead: { status: 400, reason: "" },
};

// The reason phrases of the statuses wsx refuses with or its HTTP/1.1 server answers with
// (RFC 9110 section 15). A phrase is only informative, but "426 Error" misleads whoever
// reads it.
const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/**
 * The reason phrase of a status, `fallback` for one outside wsx's table.
 *
 * @param status The HTTP status.
 * @param fallback The phrase of any other status.
 * @returns Its reason phrase.
 * @example
 * ```ts
 * import { reasonPhrase } from "./responses.ts";
 * reasonPhrase(431); // "Request Header Fields Too Large"
 * reasonPhrase(599, "Unknown"); // "Unknown"
 * ```
 */
export function reasonPhrase(status: number, fallback = "Error"): string {
  return STATUS_TEXT[status] ?? fallback;
}

/**
 * A refusal as a `Response`, for runtimes whose request handlers return one.
 *
 * @param refusal The refusal: an entry of {@linkcode REFUSALS} or a refused
 * `UpgradeCheck`.
 * @returns A plain-text response with the refusal's status and headers.
 * @example
 * ```ts
 * import { REFUSALS, refusalResponse } from "./responses.ts";
 * refusalResponse(REFUSALS.originNotAllowed).status; // 403
 * ```
 */
export function refusalResponse(refusal: Refusal): Response {
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
  for (const [name, value] of refusal.headers ?? []) headers.append(name, value);
  return new Response(refusal.reason, {
    status: refusal.status,
    statusText: reasonPhrase(refusal.status),
    headers,
  });
}

/**
 * Builds a complete refusal: status line, headers, `Content-Length`,
 * `Connection: close` and a plain-text body. Write it as UTF-8, then end the socket.
 *
 * @param status An HTTP status from 400 to 599.
 * @param reason The body text.
 * @param headers Extra headers, such as those of a refused `UpgradeCheck`. @default {[]}
 * @returns The whole response.
 * @throws {RangeError} When the status is not from 400 to 599.
 * @throws {TypeError} When a header is invalid ({@linkcode formatHeaderLines}).
 *
 * @example Answer an unsupported version
 * ```ts
 * import { buildRefusalResponse } from "./responses.ts";
 * const res = buildRefusalResponse(426, "Use version 13", [["Sec-WebSocket-Version", "13"]]);
 * console.log(res.split("\r\n")[0]); // "HTTP/1.1 426 Upgrade Required"
 * ```
 */
export function buildRefusalResponse(
  status: number,
  reason: string,
  headers: HeaderList = [],
): string {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Cannot build refusal: status must be from 400 to 599, got ${status}`);
  }
  const length = new TextEncoder().encode(reason).byteLength;
  return `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    formatHeaderLines([
      ["Connection", "close"],
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", String(length)],
      ...headers,
    ]) + "\r\n" + reason;
}

/**
 * {@linkcode buildRefusalResponse} for a refusal of the table.
 *
 * @param refusal The refusal.
 * @returns The whole response, to write as UTF-8 before ending the socket.
 * @example
 * ```ts
 * import { REFUSALS, rawRefusal } from "./responses.ts";
 * rawRefusal(REFUSALS.headTimeout).startsWith("HTTP/1.1 408 Request Timeout\r\n"); // true
 * ```
 */
export function rawRefusal(refusal: Refusal): string {
  return buildRefusalResponse(refusal.status, refusal.reason, refusal.headers);
}

/**
 * The opening handshake of a server
 * ([RFC 6455 section 4.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2)): check an
 * upgrade request, compute the accept value, build the raw 101 or refusal response. Pure.
 *
 * @module
 */

/**
 * The GUID appended to the client's key before hashing
 * ([RFC 6455 section 1.3](https://www.rfc-editor.org/rfc/rfc6455#section-1.3)).
 *
 * @example Use the GUID
 * ```ts
 * import { WEBSOCKET_GUID } from "./handshake.ts";
 * console.log(WEBSOCKET_GUID); // "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
 * ```
 */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Reads one request header by lower-case name: `null` when absent, repeated headers
 * joined with `", "`.
 *
 * @example With Node's `IncomingMessage`
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * import type { HeaderGetter } from "./handshake.ts";
 * const getter = (req: IncomingMessage): HeaderGetter => (name) => {
 *   const v = req.headers[name];
 *   return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
 * };
 * ```
 */
export type HeaderGetter = (name: string) => string | null;

/**
 * Response headers as `[name, value]` pairs, so a name may repeat (`Set-Cookie`).
 *
 * @example Send two cookies
 * ```ts
 * import type { HeaderList } from "./handshake.ts";
 * const headers: HeaderList = [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]];
 * ```
 */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * The verdict on an upgrade request: accepted with the client's key and offered
 * subprotocols, or refused with the status, reason and headers to answer with.
 *
 * @example Describe a verdict
 * ```ts
 * import type { UpgradeCheck } from "./handshake.ts";
 * const describe = (c: UpgradeCheck): string => c.ok ? `key ${c.key}` : `${c.status} ${c.reason}`;
 * ```
 */
export type UpgradeCheck =
  | { readonly ok: true; readonly key: string; readonly protocols: readonly string[] }
  | {
    readonly ok: false;
    readonly status: number;
    readonly reason: string;
    readonly headers: HeaderList;
  };

// RFC 9110 section 5.6.2: token = 1*tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, space and tab; CR, LF, NUL and non-ASCII are refused so
// no caller-supplied value can split or corrupt the response.
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
// 16 random bytes in base64: 22 significant characters and "==" (RFC 6455 section 4.1).
const KEY = /^[A-Za-z0-9+/]{22}==$/;

function refuse(status: number, reason: string, headers: HeaderList = []): UpgradeCheck {
  return { ok: false, status, reason, headers };
}

function trimOws(value: string, start: number, end: number): string {
  while (start < end && (value[start] === " " || value[start] === "\t")) start++;
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--;
  return value.slice(start, end);
}

// Splits a comma-separated header into its trimmed, non-empty elements.
function elements(value: string): string[] {
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

function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return elements(value).some((item) => item.toLowerCase() === token);
}

/**
 * Checks an upgrade request against
 * [RFC 6455 section 4.2.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1): method
 * `GET`, `Upgrade` with the token `websocket`, `Connection` with the token `upgrade`
 * (any case, among other tokens), a `Sec-WebSocket-Key` of 16 bytes in base64, and
 * `Sec-WebSocket-Version: 13`; any other version is refused with 426 and the version
 * this server speaks (section 4.4).
 *
 * @param method The request method.
 * @param header Reads a request header by lower-case name.
 * @returns The verdict; never throws, whatever the headers hold.
 *
 * @example Check a valid request
 * ```ts
 * import { checkUpgrade } from "./handshake.ts";
 * const headers: Record<string, string> = {
 *   upgrade: "websocket", connection: "keep-alive, Upgrade",
 *   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13",
 * };
 * console.log(checkUpgrade("GET", (name) => headers[name] ?? null));
 * // { ok: true, key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: [] }
 * ```
 */
export function checkUpgrade(method: string, header: HeaderGetter): UpgradeCheck {
  if (method !== "GET") {
    return refuse(405, "Method not allowed: a WebSocket upgrade must be a GET", [["Allow", "GET"]]);
  }
  if (!hasToken(header("upgrade"), "websocket")) {
    return refuse(400, 'Invalid Upgrade header: expected "websocket"');
  }
  if (!hasToken(header("connection"), "upgrade")) {
    return refuse(400, 'Invalid Connection header: expected "upgrade"');
  }
  const rawKey = header("sec-websocket-key");
  const key = rawKey === null ? "" : trimOws(rawKey, 0, rawKey.length);
  if (key.length !== 24 || !KEY.test(key)) {
    return refuse(400, "Invalid Sec-WebSocket-Key header: expected 16 bytes in base64");
  }
  const version = header("sec-websocket-version");
  if (version === null || trimOws(version, 0, version.length) !== "13") {
    return refuse(426, 'Unsupported Sec-WebSocket-Version: expected "13"', [[
      "Sec-WebSocket-Version",
      "13",
    ]]);
  }
  const offered = header("sec-websocket-protocol");
  const protocols = offered === null ? [] : elements(offered);
  if (!protocols.every((p) => TOKEN.test(p))) {
    return refuse(400, "Invalid Sec-WebSocket-Protocol header: expected tokens");
  }
  return { ok: true, key, protocols };
}

/**
 * Computes `Sec-WebSocket-Accept`: base64 of the SHA-1 of the key and the GUID
 * ([RFC 6455 section 4.2.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2)).
 * Hashing is the runtime's job, so it is passed in.
 *
 * @param key The client's `Sec-WebSocket-Key`.
 * @param sha1Base64 Returns the base64 SHA-1 digest of a string.
 * @returns The accept value.
 *
 * @example On Node.js
 * ```ts
 * import { createHash } from "node:crypto";
 * import { acceptValue } from "./handshake.ts";
 * const sha1 = (s: string) => createHash("sha1").update(s).digest("base64");
 * console.log(acceptValue("dGhlIHNhbXBsZSBub25jZQ==", sha1)); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 */
export function acceptValue(key: string, sha1Base64: (input: string) => string): string {
  return sha1Base64(key + WEBSOCKET_GUID);
}

const ACCEPT_HEAD = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Accept: ";

function checkedValue(name: string, value: string): string {
  if (!FIELD_VALUE.test(value)) {
    throw new TypeError(`Cannot build response: invalid value for header ${JSON.stringify(name)}`);
  }
  return value;
}

function headerLines(headers: HeaderList): string {
  let out = "";
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) {
      throw new TypeError(`Cannot build response: invalid header name ${JSON.stringify(name)}`);
    }
    out += `${name}: ${checkedValue(name, value)}\r\n`;
  }
  return out;
}

/**
 * Builds the complete `101 Switching Protocols` response, ASCII only.
 *
 * @param accept The value from {@linkcode acceptValue}.
 * @param protocol The chosen subprotocol, one the client offered, or `null`.
 * @param headers Extra headers; a name may repeat. @default {[]}
 * @returns The response head, blank line included.
 * @throws {TypeError} When a header name is not a token or a value holds CR, LF or
 * other control or non-ASCII characters.
 *
 * @example Accept with a subprotocol and two cookies
 * ```ts
 * import { buildAcceptResponse } from "./handshake.ts";
 * const head = buildAcceptResponse("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat", [
 *   ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"],
 * ]);
 * console.log(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n")); // true
 * ```
 */
export function buildAcceptResponse(
  accept: string,
  protocol: string | null,
  headers: HeaderList = [],
): string {
  // One string, built from constant parts: on Node.js it is the first write of every
  // connection.
  let head = ACCEPT_HEAD + checkedValue("Sec-WebSocket-Accept", accept) + "\r\n";
  if (protocol !== null) {
    head += `Sec-WebSocket-Protocol: ${checkedValue("Sec-WebSocket-Protocol", protocol)}\r\n`;
  }
  return (headers.length === 0 ? head : head + headerLines(headers)) + "\r\n";
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * Builds a complete refusal: status line, headers, `Content-Length`,
 * `Connection: close` and a plain-text body. Write it as UTF-8, then end the socket.
 *
 * @param status An HTTP status from 400 to 599.
 * @param reason The body text.
 * @param headers Extra headers, such as those of a refused {@linkcode UpgradeCheck}. @default {[]}
 * @returns The whole response.
 * @throws {RangeError} When the status is not from 400 to 599.
 * @throws {TypeError} When a header is invalid, as for {@linkcode buildAcceptResponse}.
 *
 * @example Answer an unsupported version
 * ```ts
 * import { buildRefusalResponse } from "./handshake.ts";
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
  return `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
    headerLines([
      ["Connection", "close"],
      ["Content-Type", "text/plain; charset=utf-8"],
      ["Content-Length", String(length)],
      ...headers,
    ]) + "\r\n" + reason;
}

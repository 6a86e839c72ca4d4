/**
 * The engine's side of the opening handshake
 * ([RFC 6455 section 4.2.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2)): the
 * accept value and the raw `101 Switching Protocols` head. Checking a request and
 * refusing it is runtime-free protocol knowledge the core needs too: it lives in
 * src/core/protocol/handshake.ts. Pure.
 *
 * @module
 */

import type { HeaderList } from "../core/protocol/handshake.ts";
import { formatHeaderLines, validFieldValue } from "../core/protocol/responses.ts";

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
  let head = ACCEPT_HEAD + validFieldValue("Sec-WebSocket-Accept", accept) + "\r\n";
  if (protocol !== null) {
    head += `Sec-WebSocket-Protocol: ${validFieldValue("Sec-WebSocket-Protocol", protocol)}\r\n`;
  }
  return (headers.length === 0 ? head : head + formatHeaderLines(headers)) + "\r\n";
}

/**
 * A WebSocket server side done by hand, for the floor servers of the fault benches: the
 * sockets' own cost, without wsx (heads_server.ts, sweep_floor.ts).
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * The answer to a WebSocket handshake, its accept key computed from the request's.
 *
 * @param request The request head.
 * @returns The 101 response head.
 * @example
 * ```ts
 * import { handshakeAnswer } from "./raw_ws.ts";
 * handshakeAnswer("GET / HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
 * ```
 */
export function handshakeAnswer(request: string): string {
  const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? "";
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/**
 * A client's small masked frame (one read, under 126 bytes) unmasked, as a server sends it.
 *
 * @param frame The frame as received.
 * @returns The same frame, unmasked.
 * @example
 * ```ts
 * import { unmask } from "./raw_ws.ts";
 * unmask(new Uint8Array([0x81, 0x81, 1, 2, 3, 4, 0x69 ^ 1])); // "i", unmasked
 * ```
 */
export function unmask(frame: Uint8Array): Uint8Array {
  const length = frame[1] & 0x7f, mask = frame.subarray(2, 6);
  const out = new Uint8Array(2 + length);
  out[0] = frame[0];
  out[1] = length;
  for (let i = 0; i < length; i++) out[2 + i] = frame[6 + i] ^ mask[i & 3];
  return out;
}

/**
 * Between Node's `node:http` and standard `Request`/`Response`: requests are built from
 * an `IncomingMessage`, responses are written to a `ServerResponse` or, for a refused
 * upgrade, as raw HTTP on the socket.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { headersFrom } from "./node_headers.ts";
import { isEncrypted } from "./node_request.ts";
import type { NodeBody } from "./node_body.ts";

/**
 * A standard `Request` for a Node request, with the body given (streamed as the handler
 * reads it, {@linkcode NodeBody}: an upload is never held whole in memory).
 *
 * @param message Node's request.
 * @param body Its body, for methods that carry one (never for upgrades).
 * @returns The request.
 * @example
 * ```ts
 * import { toRequest } from "./node_http.ts";
 * ```
 */
export function toRequest(message: IncomingMessage, body?: NodeBody): Request {
  const host = message.headers.host ?? "localhost";
  const url = `${isEncrypted(message.socket) ? "https" : "http"}://${host}${message.url ?? "/"}`;
  return new Request(url, {
    method: message.method ?? "GET",
    headers: headersFrom(message.rawHeaders),
    body: body?.stream ?? null,
    // A stream body (undici requires the word; Deno and Bun accept it).
    ...(body === undefined ? {} : { duplex: "half" }),
  } as RequestInit);
}

/**
 * Writes a standard `Response` to Node's response, keeping several `Set-Cookie`.
 *
 * @param response The response.
 * @param out Node's response.
 * @example
 * ```ts
 * import { writeResponse } from "./node_http.ts";
 * ```
 */
export async function writeResponse(response: Response, out: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  out.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null) return void out.end();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
  }
  out.end();
}

// How long a socket may stay open once its response is flushed: time for the client to
// read it and close its side. Destroying at once can reset the connection (RST) before
// the client read the response; never destroying lets a client that keeps its side open
// (half-open) hold the socket, in FIN-WAIT-2, and its descriptor for good.
const LINGER_MS = 1000;
// How long the response may take to flush to a client that does not read it.
const FLUSH_MS = 10_000;

function destroyNow(socket: Duplex): void {
  socket.destroy();
}

/**
 * Ends a socket with its last bytes, then destroys it once they are flushed and the
 * client had a second to close its side, or after 10 s if they never flush. A socket
 * that cannot be written is destroyed at once.
 *
 * @param socket The socket.
 * @param bytes The last bytes: a complete response.
 * @example
 * ```ts
 * import { endThenDestroy } from "./node_http.ts";
 * ```
 */
export function endThenDestroy(socket: Duplex, bytes: Uint8Array | string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(bytes);
  let timer = setTimeout(destroyNow, FLUSH_MS, socket).unref();
  socket.once("finish", () => {
    clearTimeout(timer);
    timer = setTimeout(destroyNow, LINGER_MS, socket).unref();
  });
  socket.once("close", () => clearTimeout(timer));
}

/**
 * Writes a complete HTTP response on a socket that asked for an upgrade, then ends it
 * and destroys it soon after (see {@linkcode endThenDestroy}). What the client still
 * sends is read and dropped, so its FIN is seen and the socket closes as soon as it can.
 *
 * @param response The response.
 * @param socket The socket, which nothing else reads.
 * @example
 * ```ts
 * import { writeRawResponse } from "./node_http.ts";
 * ```
 */
export async function writeRawResponse(response: Response, socket: Duplex): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  // The reason phrase is only informative (https://www.rfc-editor.org/rfc/rfc9112#section-4),
  // but "426 Error" or "200 Error" misleads whoever reads it.
  const reason = response.statusText || STATUS_CODES[response.status] || "Unknown";
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && name !== "content-length" && name !== "connection") {
      head += `${name}: ${value}\r\n`;
    }
  });
  for (const cookie of response.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.resume();
  endThenDestroy(socket, Buffer.concat([Buffer.from(head, "latin1"), body]));
}

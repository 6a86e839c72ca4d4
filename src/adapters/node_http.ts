/**
 * Between Node's `node:http` and standard `Request`/`Response`: requests are built from
 * an `IncomingMessage`, responses are written to a `ServerResponse` or, for a refused
 * upgrade, as raw HTTP on the socket.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { headersFrom } from "./node_request.ts";

/**
 * A standard `Request` for a Node request; the body is read in full for methods that
 * carry one.
 *
 * @param message Node's request.
 * @param withBody Whether to read the body (never for upgrades).
 * @returns The request.
 * @example
 * ```ts
 * import { toRequest } from "./node_http.ts";
 * ```
 */
export async function toRequest(message: IncomingMessage, withBody: boolean): Promise<Request> {
  const host = message.headers.host ?? "localhost";
  const url = `http://${host}${message.url ?? "/"}`;
  const method = message.method ?? "GET";
  let body: Uint8Array | undefined;
  if (withBody && method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of message) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  }
  return new Request(url, {
    method,
    headers: headersFrom(message.rawHeaders),
    body: body as BodyInit | undefined,
  });
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

/**
 * Writes a complete HTTP response on a socket that asked for an upgrade, then ends it.
 *
 * @param response The response.
 * @param socket The socket.
 * @example
 * ```ts
 * import { writeRawResponse } from "./node_http.ts";
 * ```
 */
export async function writeRawResponse(response: Response, socket: Duplex): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${response.statusText || "Error"}\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && name !== "content-length" && name !== "connection") {
      head += `${name}: ${value}\r\n`;
    }
  });
  for (const cookie of response.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, "latin1"), body]));
  else socket.destroy();
}

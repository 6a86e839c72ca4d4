/**
 * Writes a web `Response` as HTTP/1.1 (RFC 9112 sections 4 to 7): the status line, the
 * handler's headers (each `Set-Cookie` on its own line), and the body framed by
 * `Content-Length` when its length is known before the head is sent, else chunked on
 * HTTP/1.1 and delimited by closing the connection on HTTP/1.0. No body is sent for
 * HEAD, 204 and 304. The framing headers are wsx's to write: the handler's
 * `Transfer-Encoding`, `Connection` and `Keep-Alive` are replaced, its `Content-Length`
 * is kept and checked against the body.
 *
 * @module
 */

import { latin1 } from "./http1_refusals.ts";
import { reasonPhrase } from "../core/protocol/responses.ts";

/**
 * Where a response goes: the connection's socket, with its backpressure.
 *
 * @example
 * ```ts
 * import type { ResponseSink } from "./http1_response.ts";
 * const chunks: Uint8Array[] = [];
 * const sink: ResponseSink = { write: (bytes) => void chunks.push(bytes), closed: false };
 * ```
 */
export interface ResponseSink {
  /** Writes bytes; the promise, when there is one, settles once the socket drained. */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** Whether the socket closed: writing stops, and the body is cancelled. */
  readonly closed: boolean;
}

/**
 * What the response answers.
 *
 * @example
 * ```ts
 * import type { Exchange } from "./http1_response.ts";
 * const exchange: Exchange = { method: "GET", minor: 1, keepAlive: true };
 * ```
 */
export interface Exchange {
  /** The request's method. */
  readonly method: string;
  /** The request's minor version. */
  readonly minor: 0 | 1;
  /** Whether the connection may stay open after the response, as far as the request goes. */
  readonly keepAlive: boolean;
}

// Framing headers are the server's to write (RFC 9112 sections 6 and 9.6).
const OWN = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);
const CRLF = latin1("\r\n");
const LAST_CHUNK = latin1("0\r\n\r\n");
let dateSecond = -1;
let dateText = "";

// RFC 9110 section 6.6.1: an origin server with a clock sends Date. Built once a second.
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

function headLines(response: Response): { lines: string; length: number; close: boolean } {
  let lines = "";
  let length = -1;
  let close = false;
  let date = false;
  response.headers.forEach((value, name) => {
    if (name === "content-length") length = /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
    if (name === "connection") close = /(?:^|[\s,])close(?:$|[\s,])/i.test(value);
    if (name === "date") date = true;
    if (OWN.has(name) || name === "set-cookie") return;
    lines += `${name}: ${value}\r\n`;
  });
  for (const cookie of response.headers.getSetCookie()) lines += `set-cookie: ${cookie}\r\n`;
  if (!date) lines += `date: ${httpDate()}\r\n`;
  return { lines, length, close };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

type Read = ReadableStreamReadResult<Uint8Array>;

// How many promise jobs a read may take and still count as settled: a body given as a
// string or bytes is closed by then on Node.js, Deno and Bun (tests/http1 pin it).
const SETTLE_JOBS = 8;

// The read when it settles within a few promise jobs (a body given as a string or
// bytes: its end is known at once), `undefined` when the body is still being produced:
// the head does not wait for it. No timer: a turn of the event loop per response would
// cost more than the head.
async function settledSoon(read: Promise<Read>): Promise<Read | undefined> {
  let result: Read | undefined;
  let failed = false;
  read.then((r) => result = r, () => failed = true);
  for (let i = 0; i < SETTLE_JOBS && result === undefined && !failed; i++) await null;
  return failed ? await read : result;
}

function chunkBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError("Cannot write response: body chunk is not a Uint8Array");
}

/**
 * Writes a response.
 *
 * @param response The handler's response.
 * @param exchange The request it answers.
 * @param sink The socket.
 * @returns Whether the connection may stay open: `false` when the response or the
 * request asked to close it, or when the body was delimited by closing it.
 * @throws When the body fails or does not match its `Content-Length`: the socket must
 * then be destroyed (its head may be out already).
 * @example
 * ```ts ignore
 * import { writeResponse } from "./http1_response.ts";
 * await writeResponse(new Response("hi"), { method: "GET", minor: 1, keepAlive: true }, sink);
 * ```
 */
export async function writeResponse(
  response: Response,
  exchange: Exchange,
  sink: ResponseSink,
): Promise<boolean> {
  const { lines, length, close } = headLines(response);
  let keepAlive = exchange.keepAlive && !close;
  const status = `HTTP/1.1 ${response.status} ${
    response.statusText || reasonPhrase(response.status, "Unknown")
  }\r\n`;
  const noBody = exchange.method === "HEAD" || response.status === 204 ||
    response.status === 304;
  if (noBody || response.body === null) {
    await response.body?.cancel().catch(() => {});
    // HEAD and 304 may announce the length a GET would have; 204 has none at all.
    const declared = noBody
      ? (length >= 0 && response.status !== 204 ? `content-length: ${length}\r\n` : "")
      : "content-length: 0\r\n";
    await sink.write(latin1(status + lines + declared + connection(keepAlive, exchange.minor)));
    return keepAlive;
  }
  const reader = response.body.getReader();
  try {
    if (length >= 0) {
      const head = latin1(
        status + lines + `content-length: ${length}\r\n` +
          connection(keepAlive, exchange.minor),
      );
      await writeExact(reader, head, length, sink);
      return keepAlive;
    }
    const first = await reader.read();
    const body = first.done ? new Uint8Array(0) : chunkBytes(first.value);
    const next = first.done ? undefined : reader.read();
    const settled = next && await settledSoon(next);
    if (next === undefined || settled?.done) {
      const head = latin1(
        status + lines + `content-length: ${body.length}\r\n` +
          connection(keepAlive, exchange.minor),
      );
      await sink.write(concat(head, body));
      return keepAlive;
    }
    // The length is not known: chunked on HTTP/1.1; on HTTP/1.0 the end of the
    // connection ends the body.
    const chunked = exchange.minor === 1;
    if (!chunked) keepAlive = false;
    const te = chunked ? "transfer-encoding: chunked\r\n" : "";
    await sink.write(latin1(status + lines + te + connection(keepAlive, exchange.minor)));
    await streamBody(reader, body, settled ?? next, chunked, sink);
    return keepAlive;
  } finally {
    reader.releaseLock();
  }
}

function connection(keepAlive: boolean, minor: 0 | 1): string {
  if (!keepAlive) return "connection: close\r\n\r\n";
  return minor === 0 ? "connection: keep-alive\r\n\r\n" : "\r\n";
}

async function writeExact(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: Uint8Array,
  length: number,
  sink: ResponseSink,
): Promise<void> {
  let sent = 0;
  let out: Uint8Array = head;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const bytes = chunkBytes(value);
    sent += bytes.length;
    if (sent > length) break;
    out = out.length > 0 ? concat(out, bytes) : bytes;
    await sink.write(out);
    out = new Uint8Array(0);
    if (sink.closed) return void await reader.cancel().catch(() => {});
  }
  if (out.length > 0) await sink.write(out);
  if (sent !== length) {
    await reader.cancel().catch(() => {});
    throw new RangeError(
      `Cannot write response: body is not the ${length} bytes its Content-Length says`,
    );
  }
}

async function streamBody(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  next: Read | Promise<Read>,
  chunked: boolean,
  sink: ResponseSink,
): Promise<void> {
  const send = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    if (!chunked) return sink.write(bytes);
    sink.write(latin1(`${bytes.length.toString(16)}\r\n`));
    sink.write(bytes);
    return sink.write(CRLF);
  };
  await send(first);
  let result = await next;
  while (!result.done && !sink.closed) {
    await send(chunkBytes(result.value));
    result = await reader.read();
  }
  if (sink.closed) return void await reader.cancel().catch(() => {});
  if (chunked) await sink.write(LAST_CHUNK);
}

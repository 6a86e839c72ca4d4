// Real servers and a raw TCP client for the HTTP/1.1 tests: wsx's HTTP/1.1 connection
// on a node:net server, a node:http server answering the same way, and a client that
// sends exact bytes and returns every byte the server sent until it closed.
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { serveHttp1Socket } from "../../src/adapters/http1_net.ts";
import { type Http1Options, resolveHttp1Options } from "../../src/adapters/http1_options.ts";

export interface Running {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  readonly close: () => Promise<void>;
}

function running(server: Server | HttpServer, count: () => number): Promise<Running> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        connections: count,
        close: () => {
          (server as HttpServer).closeAllConnections?.();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

/** The answer both servers give: method, target and the body read in full. */
export async function echo(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = await request.text();
  return new Response(`${request.method} ${url.pathname}${url.search} ${body}`);
}

/** wsx's HTTP/1.1 connection on a node:net server. */
export function startHttp1(options: Partial<Http1Options> = {}): Promise<Running> {
  const settings = resolveHttp1Options({ handler: echo, onError: () => {}, ...options });
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    count++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("close", () => sockets.delete(socket));
    serveHttp1Socket(socket, settings);
  });
  return running(server, () => count).then((r) => ({
    ...r,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return r.close();
    },
  }));
}

/** A node:http server answering as {@linkcode echo} does. */
export function startNodeHttp(): Promise<Running> {
  let count = 0;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => res.end(`${req.method} ${req.url} ${Buffer.concat(chunks)}`));
  });
  server.on("connection", () => count++);
  return running(server, () => count);
}

export interface RawOptions {
  /** Gives up (destroying the socket) after this long. @default {2000} */
  readonly timeoutMs?: number;
  /** Sends FIN after the last part. @default {false} */
  readonly end?: boolean;
  /** Waits this long between parts, so that each arrives as its own chunk. @default {10} */
  readonly gapMs?: number;
  /** Resolves once this many complete responses arrived, without waiting for close. */
  readonly responses?: number;
}

export interface RawResult {
  /** Everything received, as Latin-1. */
  readonly text: string;
  /** Whether the server ended or closed the connection before the timeout. */
  readonly closed: boolean;
}

/** A plain GET head with `fields` (each ending in CRLF). */
export const GET = (path: string, fields = ""): string =>
  `GET ${path} HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;

/** Waits `ms`. */
export const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));

/**
 * Writes body bytes from `from` up to `total` in 64 KiB blocks as fast as the socket takes
 * them, until all are written or `stallMs` pass without a drain (the server stopped
 * reading); returns how many are written by then.
 */
export async function sendUntilStalled(
  socket: Socket,
  from: number,
  total: number,
  stallMs: number,
): Promise<number> {
  const block = new Uint8Array(64 * 1024);
  let sent = from;
  while (sent < total) {
    const size = Math.min(block.length, total - sent);
    sent += size;
    if (socket.write(block.subarray(0, size))) continue;
    const drained = await Promise.race([
      new Promise((resolve) => socket.once("drain", () => resolve(true))),
      sleep(stallMs).then(() => false),
    ]);
    if (!drained) break;
  }
  return sent;
}

/** Promise.withResolvers, which Node.js 20 lacks. */
export function resolvers<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** Sends `parts` in order on a new connection and collects the answer. */
export function raw(
  port: number,
  parts: string | readonly string[],
  options: RawOptions = {},
): Promise<RawResult> {
  const list = typeof parts === "string" ? [parts] : parts;
  return new Promise((resolve) => {
    let text = "";
    let settled = false;
    const socket: Socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), options.timeoutMs ?? 2000);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (options.responses && parseResponses(text).length >= options.responses) done(false);
    });
    // The server's FIN: it closed its side (it then waits for ours).
    socket.on("end", () => done(true));
    socket.on("close", () => done(true));
    socket.on("error", () => done(true));
    socket.on("connect", async () => {
      for (const [i, part] of list.entries()) {
        if (i > 0) await sleep(options.gapMs ?? 10);
        if (!socket.destroyed) socket.write(part, "latin1");
      }
      if (options.end) socket.end();
    });
  });
}

export interface ParsedResponse {
  readonly status: number;
  /** Header lines as sent, names in lower case. */
  readonly headers: [string, string][];
  readonly body: string;
  readonly chunked: boolean;
}

/** The complete responses in `text`, in order (a close-delimited body runs to the end). */
export function parseResponses(text: string, closeDelimited = false): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const [line, ...fields] = text.slice(at, end).split("\r\n");
    const status = Number(line.split(" ")[1]);
    const headers = fields.map((f): [string, string] => {
      const colon = f.indexOf(":");
      return [f.slice(0, colon).toLowerCase(), f.slice(colon + 1).trim()];
    });
    const get = (name: string) => headers.find(([n]) => n === name)?.[1];
    at = end + 4;
    let body = "";
    const chunked = get("transfer-encoding") === "chunked";
    if (status < 200 || status === 204 || status === 304) {
      // No body.
    } else if (get("content-length") !== undefined) {
      const length = Number(get("content-length"));
      if (text.length - at < length) break;
      body = text.slice(at, at + length);
      at += length;
    } else if (chunked) {
      const decoded = dechunk(text, at);
      if (decoded === undefined) break;
      [body, at] = decoded;
    } else if (closeDelimited) {
      body = text.slice(at);
      at = text.length;
    } else break;
    out.push({ status, headers, body, chunked });
  }
  return out;
}

function dechunk(text: string, at: number): [string, number] | undefined {
  let body = "";
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = parseInt(text.slice(at, eol), 16);
    at = eol + 2;
    if (size === 0) {
      const end = text.indexOf("\r\n", at);
      return end < 0 ? undefined : [body, end + 2];
    }
    if (text.length < at + size + 2) return undefined;
    body += text.slice(at, at + size);
    at += size + 2;
  }
}

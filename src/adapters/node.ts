/**
 * wsx's engine: `node:http` serves requests, and upgraded sockets are handed to wsx's
 * own RFC 6455 engine (`src/rfc6455/`), with no WebSocket library at run time. It is
 * the Node.js adapter and `serve()`'s default on Deno (a choice on Bun), which run it
 * through their own `node:http`, `node:net` and `node:cluster`. On
 * a server `serve()` starts, upgrade heads that arrive whole and plain in a connection's
 * first chunk are answered before `node:http` parses them (`node_fast_upgrade.ts`).
 *
 * @example Hello World on Node.js
 * ```ts
 * import { serve } from "./node.ts";
 * import { Websocket } from "../../mod.ts";
 * await serve({
 *   port: 8080,
 *   onRequest: (req) =>
 *     req.headers.get("upgrade") === "websocket"
 *       ? Websocket.upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) })
 *       : new Response("Hello World!"),
 * });
 * ```
 *
 * @module
 */

import { type IncomingMessage, Server } from "node:http";
import type { Http2SecureServer, Http2Server } from "node:http2";
import { Server as HttpsServer } from "node:https";
import type { AddressInfo, Server as NetServer, Socket } from "node:net";
import type { HeadTimeouts } from "./node_head_timeout.ts";
import process from "node:process";
import type { Duplex } from "node:stream";
import { ServerGroup, type ShutdownOptions } from "../core/group.ts";
import type { ServerStats } from "../core/stats.ts";
import {
  type ListenSetup,
  runServer,
  type ServerRuntime,
  type SignalApi,
} from "../core/lifecycle.ts";
import { reportError } from "../core/report.ts";
import { checkServeOptions, type ServeOptions, type WsxServer } from "../core/server.ts";
import { bindRequest } from "../core/upgrade.ts";
import { rawRefusal, REFUSALS } from "../core/protocol/responses.ts";
import { awaitsFirstChunk, type FastUpgrade, takeUpgradesFirst } from "./node_fast_upgrade.ts";
import { bunAcceptor } from "./bun_accept.ts";
import { acceptWithFullOptions } from "./node_accept.ts";
import { watchListener } from "./node_listen_watch.ts";
import { endThenDestroy, toRequest, writeResponse } from "./node_http.ts";
import { NodeBody } from "./node_body.ts";
import {
  failed,
  type Fetch,
  handleUpgrade,
  listenForUpgrades,
  NodeUpgrader,
} from "./node_upgrade.ts";
import { connectionEvent, createEngineServer, isTlsFailure, watchHeads } from "./node_tls.ts";
import { checkRuntimeVersion, detectRuntime } from "../runtime.ts";
import { clusterRole } from "../cluster/node_cluster.ts";

export type { ServeOptions, ServeTransport, WsxServer } from "../core/server.ts";
export type { Fetch } from "./node_upgrade.ts";

async function answer(fetch: Fetch, request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (error) {
    return failed(error);
  }
}

/**
 * What {@linkcode attach} gives back: the counters and the graceful shutdown of the
 * WebSocket connections of a server wsx did not start.
 *
 * @example
 * ```ts
 * import type { Attachment } from "./node.ts";
 * declare const attachment: Attachment;
 * console.log(attachment.stats.open);
 * ```
 */
export interface Attachment {
  /** Counters, live. */
  readonly stats: ServerStats;
  /** Closes every WebSocket connection of the server gracefully (the server keeps listening). */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/**
 * Handles WebSocket upgrades on a `node:http` or `node:https` server that wsx did not
 * start, such as the one `@hono/node-server`'s `serve()` returns (its `ServerType` is
 * accepted as it is): every upgrade request goes through `fetch` (your Hono app's
 * `app.fetch`), which upgrades it with `upgrade()` or the Hono helper, or answers it.
 * The server keeps serving its other requests and keeps listening after `shutdown()`.
 * On a `node:https` server the requests are `https:` and the connections `secure`
 * (`wss:`); its TLS options (certificate, `handshakeTimeout`: 120 s by default) are yours.
 *
 * @param server The Node.js server (HTTP/1.1: an HTTP/2 server has no `upgrade` event).
 * @param fetch The request handler.
 * @param options `allowedOrigins`, as for {@linkcode serve}.
 * @returns `{ stats, shutdown }` for the upgraded connections (not the server).
 * @throws {TypeError} For an HTTP/2 server, or anything else that is not a `node:http`
 * or `node:https` server.
 * @example With @hono/node-server
 * ```ts ignore
 * import { serve } from "@hono/node-server";
 * import { attach } from "@wsx/wsx/node";
 * declare const app: { fetch: (request: Request) => Response | Promise<Response> };
 * const { stats, shutdown } = attach(serve({ fetch: app.fetch, port: 8080 }), app.fetch);
 * setInterval(() => console.log(`${stats.open} open`), 10_000);
 * process.once("SIGTERM", () => shutdown({ reason: "restarting" }));
 * ```
 * @example Your own `node:https` server
 * ```ts ignore
 * import { createServer } from "node:https";
 * import { readFileSync } from "node:fs";
 * import { attach } from "@wsx/wsx/node";
 * declare const app: { fetch: (request: Request) => Response | Promise<Response> };
 * const server = createServer({
 *   cert: readFileSync("cert.pem"),
 *   key: readFileSync("key.pem"),
 *   handshakeTimeout: 10_000, // Node waits 120 s for a TLS handshake by default
 * });
 * attach(server, app.fetch);
 * server.listen(8443);
 * ```
 */
export function attach(
  server: Server | Http2Server | Http2SecureServer,
  fetch: Fetch,
  options: { readonly allowedOrigins?: readonly string[] } = {},
): Attachment {
  // node:https's Server is a tls.Server that behaves as an http.Server, not a subclass.
  if (!(server instanceof Server || server instanceof HttpsServer)) {
    throw new TypeError(
      "Cannot attach: the server must be a node:http or node:https server (an HTTP/2 server has no 'upgrade' event)",
    );
  }
  const checked = checkServeOptions({ onRequest: fetch, allowedOrigins: options.allowedOrigins });
  const group = new ServerGroup(server);
  group.allowedOrigins = checked.allowedOrigins;
  listenForUpgrades(server, new NodeUpgrader(group), fetch);
  return { stats: group.stats, shutdown: (shutdownOptions) => group.shutdown(shutdownOptions) };
}

function listenOn(server: NetServer, port: number, hostname: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      // Before the first accept: this callback runs in the tick that follows listen().
      if (detectRuntime() === "node") acceptWithFullOptions(server);
      resolve(server.address() as AddressInfo);
    });
  });
}

// How long a request body may take to arrive after its head (node:http's default
// requestTimeout, which counts the head too).
const BODY_MS = 300_000;

// Whether a body is still to be received for the request.
function hasBody(message: IncomingMessage): boolean {
  return message.method !== "GET" && message.method !== "HEAD" && !message.complete;
}

interface EngineServer {
  readonly server: Server;
  // `server`, or on Bun the node:net server that accepts for it (`bun_accept.ts`).
  readonly listener: Server | NetServer;
  readonly heads: HeadTimeouts;
}

// A node:http server whose upgrades go to the server's group through wsx's engine.
function engineServer(setup: ListenSetup): EngineServer {
  const { options: { handshakeTimeoutMs }, onRequest } = setup;
  // node:https's with `tls`.
  const server = createEngineServer(setup.options, {
    // Slowloris: a request head must arrive within handshakeTimeoutMs, a body within
    // BODY_MS of its head. wsx's own sweep (HeadTimeouts) cuts late ones first, a few at
    // a time; node:http's check, which would cut every late one in one go, stays a
    // backstop a few seconds later.
    headersTimeout: handshakeTimeoutMs + 5000,
    requestTimeout: handshakeTimeoutMs + BODY_MS + 5000,
    connectionsCheckingInterval: 1000,
  });
  const upgrader = new NodeUpgrader(setup.group);
  // A kept-alive connection that goes quiet is node:http's to close (keepAliveTimeout,
  // which it announces to clients); wsx cuts only one that trickles its next head.
  // On a plain server the first-chunk reader hears every accept: it starts the clock
  // (one `connection` listener). On a TLS one it hears decrypted sockets only.
  const plain = connectionEvent(server) === "connection";
  const heads = watchHeads(
    server,
    handshakeTimeoutMs,
    Math.max(handshakeTimeoutMs, server.keepAliveTimeout + 1000),
    !plain,
  );
  server.on("request", async (message, out) => {
    const { socket } = message;
    const reading = hasBody(message);
    if (reading) {
      heads.readingBody(socket, BODY_MS);
      // The handler reads the body as it likes, within BODY_MS.
      message.once("end", () => out.writableFinished || heads.done(socket));
    } else heads.done(socket);
    const method = message.method;
    const body = method !== "GET" && method !== "HEAD" ? new NodeBody(message) : undefined;
    out.once("finish", () => {
      // The next request head must come in time, once this request's body is in too: a
      // body still arriving keeps its deadline, and is cut without a 408 now (after a
      // handler's failure too, whose 400 skipped the `answering` below).
      if (message.complete) return heads.waiting(socket, true);
      heads.answering(socket);
      body?.answered();
      message.once("end", () => heads.waiting(socket, true));
    });
    try {
      const request = toRequest(message, body);
      bindRequest(request, upgrader);
      const response = await answer(onRequest, request);
      // A body late from here on cuts the connection: a 408 would land in this response.
      if (reading && !message.complete) heads.answering(socket);
      await writeResponse(response, out);
    } catch (error) {
      reportError(error, "request");
      if (!out.headersSent) out.writeHead(400).end();
      else out.destroy();
    }
  });
  listenForUpgrades(server, upgrader, onRequest, heads);
  // Upgrade heads that arrive whole and plain are answered before node:http parses them:
  // in front of node:http's connection listener on Node.js and Deno, and on Bun, whose
  // node:http accepts natively, from wsx's own node:net listener.
  const fast: FastUpgrade = (socket, head, rest) => {
    // Cut meanwhile (its 408 is on the way out): the rest of the head comes too late.
    if (!socket.writable) return void socket.destroy();
    heads.done(socket);
    const { method, target, rawHeaders, fields } = head;
    handleUpgrade(upgrader, onRequest, socket, method, target, rawHeaders, rest, undefined, fields);
  };
  const accepted = plain ? (socket: Socket) => heads.waiting(socket) : undefined;
  const listener = takeUpgradesFirst(server, fast, accepted)
    ? server
    : bunAcceptor(server, setup.options.tls, heads, fast);
  server.on("clientError", answerClientError);
  return { server, listener, heads };
}

// Malformed HTTP, oversized or too slow headers: a complete answer, then close.
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (isTlsFailure(error, socket)) return void socket.destroy();
  // A response under way (a body cut short, say): an answer would land inside it.
  const current = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (current?.headersSent) return void socket.destroy();
  const refusal = error.code === "HPE_HEADER_OVERFLOW"
    ? REFUSALS.headTooLarge
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_HEADERS_TIMEOUT"
    ? REFUSALS.headTimeout
    : REFUSALS.malformedHead;
  endThenDestroy(socket, rawRefusal(refusal));
}

// wsx's engine in the server lifecycle: node:http listens, upgrades go through the engine.
const ENGINE: ServerRuntime = {
  transport: "engine",
  capabilities: Object.freeze({
    handshakeTimeout: "configurable",
    reportsAcceptErrors: detectRuntime() === "deno",
  }),
  async listen(setup) {
    const { server, listener, heads } = engineServer(setup);
    const { group, options } = setup;
    const address = await listenOn(listener, setup.port, options.hostname);
    // An accept that fails (out of file descriptors) must not end the process as an
    // unhandled 'error': count it; Node.js keeps accepting on its own.
    listener.on("error", () => group.stats.acceptErrors++);
    // Deno's node:net stops accepting for good after such a failure: watch and restore.
    const unwatch = detectRuntime() === "deno"
      ? watchListener(server, options.processes, () => group.stats.acceptErrors++)
      : () => {};
    return {
      port: address.port,
      hostname: address.address,
      raw: server,
      shutdownBegins: unwatch,
      stop: () =>
        new Promise<void>((resolve) => {
          // Not listening itself under the node:net listener: it calls back at once.
          server.close(() => listener === server ? resolve() : listener.close(() => resolve()));
          // In-flight responses (the one that asked for the shutdown, say) may finish.
          server.closeIdleConnections();
          // And those node:http has not seen yet: nothing read from them so far.
          heads.destroyWhere(awaitsFirstChunk);
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        }),
    };
  },
};

const NODE_SIGNALS: SignalApi = {
  listen: (signal, fn) => process.on(signal, fn),
  exit: (code) => process.exit(code),
};

/**
 * Starts a `node:http` server with wsx upgrades: the seed's `start_http_server`.
 *
 * @param options Port, hostname and the request handler.
 * @returns The running server, once it listens.
 * @example
 * ```ts
 * import { serve } from "./node.ts";
 * const server = await serve({ port: 0, onRequest: () => new Response("Hello World!") });
 * await server.shutdown();
 * ```
 */
export async function serve(options: ServeOptions): Promise<WsxServer> {
  const checked = checkServeOptions(options);
  if (checked.transport === "native") {
    throw new RangeError(
      'Invalid "transport": wsx/node runs wsx\'s engine only (Node.js has no native WebSocket server), expected "engine", got "native"',
    );
  }
  checkRuntimeVersion();
  // Several processes: the first forks node:cluster workers, which share the port.
  return await runServer(options, checked, {
    runtime: ENGINE,
    processes: clusterRole,
    signals: NODE_SIGNALS,
  });
}

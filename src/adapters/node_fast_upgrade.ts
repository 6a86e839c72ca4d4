/**
 * Answers WebSocket upgrades before `node:http` sees them. What `node:http` does for an
 * upgrade (a parser from its pool, an `IncomingMessage`, connection tracking, a dozen
 * listeners added and removed, a `head` copy) is about a tenth of the server's CPU time
 * per handshake, and some of its memory stays with the connection (about 450 B of heap
 * per idle WebSocket). So on a server wsx started, the first chunk of every connection
 * is read here first: a complete, plain upgrade head (see `node_head_parser.ts`) is
 * taken, and everything else (other requests; partial, odd, malformed or oversized
 * heads) is put back on the socket and handed to `node:http`'s own connection
 * listener, which then sees exactly the bytes the client sent. On a TLS server
 * (`node:https`) that listener hears `secureConnection`, and the first chunk read here is
 * the first decrypted one (`node_tls.ts`).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { maxHeaderSize as httpMaxHeaderSize, type Server } from "node:http";
import type { Socket } from "node:net";
import {
  MAX_FAST_HEAD,
  MAX_FAST_HEADERS,
  parseUpgradeHead,
  type UpgradeHead,
} from "./node_head_parser.ts";
import { acceptsItself, connectionEvent } from "./node_tls.ts";
import { rawRefusal, REFUSALS } from "../core/protocol/responses.ts";
import { endThenDestroy } from "./node_http.ts";

const END_OF_HEAD = "\r\n\r\n";
const HEAD_TOO_LARGE = rawRefusal(REFUSALS.headTooLarge);

/**
 * Takes an upgrade head read here, with an `error` listener on the socket that destroys
 * it. The socket is still flowing while it runs, so that a `data` listener added now
 * reads on without a resume; if none was added when it returns, the socket is left as
 * `node:http` leaves it on `upgrade`, neither flowing nor paused (what follows waits in
 * it).
 *
 * @example
 * ```ts
 * import type { FastUpgrade } from "./node_fast_upgrade.ts";
 * const refuse: FastUpgrade = (socket) => void socket.destroy();
 * ```
 */
export type FastUpgrade = (socket: Socket, head: UpgradeHead, rest: Uint8Array) => void;

/**
 * A `connection` listener of a `node:http` server.
 *
 * @example
 * ```ts
 * import type { ConnectionListener } from "./node_fast_upgrade.ts";
 * const hand: ConnectionListener = function (socket) {
 *   this.emit("connection", socket);
 * };
 * ```
 */
export type ConnectionListener = (this: Server, socket: Socket) => void;

interface Route {
  readonly server: Server;
  readonly http: ConnectionListener;
  readonly upgrade: FastUpgrade;
}

const kRoute: unique symbol = Symbol("wsx.node.route");
type FirstSocket = Socket & { [kRoute]?: Route };
type LatinBuffer = Buffer & { latin1Slice?(start: number, end: number): string };

// Shared listeners, `this` being the socket: no closure per connection.
function destroySelf(this: Socket): void {
  this.destroy();
}

// The client half-closed before sending anything: what node:http does (it does not
// allow half-open connections).
function endSelf(this: Socket): void {
  this.end();
}

function holdBytes(socket: Socket): void {
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
}

function onFirstChunk(this: FirstSocket, chunk: LatinBuffer): void {
  const route = this[kRoute]!;
  this[kRoute] = undefined;
  this.removeListener("data", onFirstChunk);
  this.removeListener("end", endSelf);
  const server = route.server as Server & { maxHeaderSize?: number };
  // Never more than node:http would take: its limits may be lower than the parser's.
  const maxBytes = Math.min(MAX_FAST_HEAD, server.maxHeaderSize || httpMaxHeaderSize);
  const count = server.maxHeadersCount ?? 0;
  const maxFields = count > 0 ? Math.min(MAX_FAST_HEADERS, count) : MAX_FAST_HEADERS;
  const end = Math.min(chunk.length, maxBytes);
  const text = chunk.latin1Slice ? chunk.latin1Slice(0, end) : chunk.toString("latin1", 0, end);
  const head = parseUpgradeHead(text, maxBytes, maxFields);
  if (head !== undefined) {
    route.upgrade(this, head, chunk.subarray(head.length));
    // An engine that took the socket meanwhile reads on: still flowing, its `data`
    // listener needs no resume (a tick per connection). Otherwise neither flowing nor
    // paused: what follows waits in the socket, as node:http leaves an upgraded one.
    if (this.listenerCount("data") === 0) holdBytes(this);
    return;
  }
  // Until node:http's own `data` listener starts reading.
  holdBytes(this);
  this.removeListener("error", destroySelf);
  // A head already longer than the limit: 431, as node:http would answer. Answered here
  // because Deno's node:http, handed the chunk back, sometimes fails it as a bare parse
  // error (400) instead.
  if (chunk.length > maxBytes && chunk.indexOf(END_OF_HEAD) < 0) {
    this.on("error", destroySelf);
    return endThenDestroy(this, HEAD_TOO_LARGE);
  }
  this.unshift(chunk);
  route.http.call(route.server, this);
}

/**
 * Reads the first chunk of each connection of `server` before `node:http` does, and
 * passes complete, plain upgrade heads to `upgrade`.
 *
 * @param server A server made by `http.createServer` or `https.createServer`, before it
 * listens.
 * @param upgrade Takes an upgrade head.
 * @returns Whether the fast path is installed (false when `node:http`'s connection
 * listener is not where it should be, as on Bun: see {@linkcode firstChunkReader}).
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { takeUpgradesFirst } from "./node_fast_upgrade.ts";
 * takeUpgradesFirst(createServer(), (socket) => void socket.destroy());
 * ```
 */
export function takeUpgradesFirst(server: Server, upgrade: FastUpgrade): boolean {
  if (!acceptsItself(server)) return false;
  const event = connectionEvent(server);
  const [http] = server.listeners(event) as ConnectionListener[];
  server.removeListener(event, http);
  server.prependListener(event, firstChunkReader(server, http, upgrade));
  return true;
}

/**
 * The connection handler that reads a socket's first chunk: a complete, plain upgrade
 * head goes to `upgrade`; anything else is put back on the socket and handed to `http`
 * (called with `server` as `this`).
 *
 * @param server The server whose limits (`maxHeaderSize`, `maxHeadersCount`) apply.
 * @param http Where other connections go: `node:http`'s connection listener, or on Bun
 * a function that emits them as `connection`s of `server`.
 * @param upgrade Takes an upgrade head.
 * @returns The handler, one for the server (no closure per connection).
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { firstChunkReader } from "./node_fast_upgrade.ts";
 * const server = createServer();
 * const read = firstChunkReader(
 *   server,
 *   function (socket) {
 *     this.emit("connection", socket);
 *   },
 *   (socket) => void socket.destroy(),
 * );
 * ```
 */
export function firstChunkReader(
  server: Server,
  http: ConnectionListener,
  upgrade: FastUpgrade,
): (socket: Socket) => void {
  const route: Route = { server, http, upgrade };
  return (socket: FirstSocket) => {
    socket[kRoute] = route;
    socket.on("error", destroySelf);
    socket.on("end", endSelf);
    socket.on("data", onFirstChunk);
  };
}

/**
 * Whether nothing was read yet from a socket of a server with {@linkcode takeUpgradesFirst}
 * (`node:http` has not seen it: its `closeIdleConnections` does not reach it).
 *
 * @param socket A socket of the server.
 * @returns `true` until its first chunk arrives.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { awaitsFirstChunk } from "./node_fast_upgrade.ts";
 * awaitsFirstChunk(new Socket()); // false
 * ```
 */
export function awaitsFirstChunk(socket: Socket): boolean {
  return (socket as FirstSocket)[kRoute] !== undefined;
}

/**
 * Answers WebSocket upgrades before `node:http` sees them. What `node:http` does for an
 * upgrade (a parser from its pool, an `IncomingMessage`, connection tracking, a dozen
 * listeners added and removed, a `head` copy) costs CPU time on every handshake, and
 * some of its memory stays with the connection (bench/README.md has the figures). So on
 * a server wsx started, the head of every connection is read
 * here first: a complete, plain upgrade head (see `node_head_parser.ts`) is taken, and
 * everything else (other requests; odd, malformed or oversized heads) is put back on
 * the socket and handed to `node:http`'s own connection listener, which then sees
 * exactly the bytes the client sent. A plain head that is not complete yet (a slow
 * client, a slowloris) waits here for a few more reads, as a small string: a bare
 * socket costs much less than one in `node:http`. On a TLS server
 * (`node:https`) that listener hears `secureConnection`, and the first chunk read here is
 * the first decrypted one (`node_tls.ts`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
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
import { destroySelf } from "./node_upgrade.ts";

const END_OF_HEAD = "\r\n\r\n";
const EMPTY = new Uint8Array(0);
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

/**
 * Told of each socket the first-chunk reader takes, once its listeners are on (the
 * head timeouts start its clock there: no second `connection` listener, whose emit
 * would copy the listener array for every connection).
 *
 * @example
 * ```ts
 * import type { Accepted } from "./node_fast_upgrade.ts";
 * const accepted: Accepted = (socket) => console.log(socket.remoteAddress);
 * ```
 */
export type Accepted = (socket: Socket) => void;

const kRoute: unique symbol = Symbol("wsx.node.route");
// The part of a head read so far (latin1 text, a copy: the chunk it came in is freed),
// and how many reads it took.
const kHead: unique symbol = Symbol("wsx.node.head");
const kReads: unique symbol = Symbol("wsx.node.reads");
type FirstSocket = Socket & { [kRoute]?: Route; [kHead]?: string; [kReads]?: number };
type LatinBuffer = Buffer & { latin1Slice?(start: number, end: number): string };

// A head that comes in several reads waits here rather than in node:http (whose parser,
// listeners and connection state would stay with it while a slowloris client holds it,
// and run again when it is cut), but only for a few reads and the fast path's bytes: a
// trickle or a larger head is node:http's to read after that.
const MAX_HELD_READS = 4;
// A request line and whole fields so far, plain as the fast path takes them, and the
// start of the next line: anything else goes to node:http at once, which may answer
// it (400) before the head is complete.
const PLAIN_SO_FAR = new RegExp(
  "^(?:[A-Z]{0,20}(?: [^\\x00-\\x20\\x7f]*(?: [HTP/0-9.]{0,8}\\r?)?)?" +
    "|[A-Z]{1,20} [^\\x00-\\x20\\x7f]+ HTTP/1\\.1\\r\\n" +
    "(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\\x00-\\x08\\x0a-\\x1f\\x7f]*\\r\\n)*" +
    "[^\\x00-\\x08\\x0a-\\x1f\\x7f]*\\r?)$",
);
const MALFORMED = rawRefusal(REFUSALS.malformedHead);

// The client half-closed before its head was complete: what node:http does (it does
// not allow half-open connections; a partial head is malformed).
function endSelf(this: FirstSocket): void {
  const held = this[kHead] !== undefined;
  leaveReader(this);
  if (!held) return void this.end();
  endThenDestroy(this, MALFORMED);
}

function holdBytes(socket: Socket): void {
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
}

type StreamState = { reading?: boolean; flowing?: boolean | null; length?: number };

// A socket node:net just accepted is reading already (its handle started at once): set
// flowing, a `data` listener then needs no resume(), which would cost a process.nextTick
// (and a `resume` event) per connection. Elsewhere (a socket not reading yet) the
// listener resumes it as usual.
function flowAtOnce(socket: Socket): void {
  const state = (socket as { _readableState?: StreamState })._readableState;
  // Only with nothing buffered: buffered bytes need the resume() that flows them out.
  if (state?.reading === true && state.flowing === null && state.length === 0) {
    state.flowing = true;
  }
}

function onFirstChunk(this: FirstSocket, chunk: LatinBuffer): void {
  const route = this[kRoute]!;
  const server = route.server as Server & { maxHeaderSize?: number };
  // node:http's limit for a head, and the fast path's, never above it: a head between the
  // two is node:http's to answer.
  const httpMax = server.maxHeaderSize || httpMaxHeaderSize;
  const maxBytes = Math.min(MAX_FAST_HEAD, httpMax);
  const before = this[kHead] ?? "";
  const end = Math.min(chunk.length, maxBytes - before.length);
  const text = before +
    (chunk.latin1Slice ? chunk.latin1Slice(0, end) : chunk.toString("latin1", 0, end));
  if (heldOn(this, text, before.length, chunk.length, maxBytes)) return;
  leaveReader(this);
  const count = server.maxHeadersCount ?? 0;
  const maxFields = count > 0 ? Math.min(MAX_FAST_HEADERS, count) : MAX_FAST_HEADERS;
  const head = parseUpgradeHead(text, maxBytes, maxFields);
  if (head !== undefined) {
    // Nothing follows the head, as a rule: no Buffer view made for nothing.
    const from = head.length - before.length;
    route.upgrade(this, head, from === chunk.length ? EMPTY : chunk.subarray(from));
    // An engine that took the socket meanwhile reads on: still flowing, its `data`
    // listener needs no resume (a tick per connection). Otherwise neither flowing nor
    // paused: what follows waits in the socket, as node:http leaves an upgraded one.
    if (this.listenerCount("data") === 0) holdBytes(this);
    return;
  }
  // Until node:http's own `data` listener starts reading.
  holdBytes(this);
  this.removeListener("error", destroySelf);
  // A head already longer than node:http's limit: 431, as node:http would answer.
  // Answered here because Deno's node:http, handed the chunk back, sometimes fails it as
  // a bare parse error (400) instead.
  const whole = before === "" ? chunk : Buffer.concat([Buffer.from(before, "latin1"), chunk]);
  if (whole.length > httpMax && whole.indexOf(END_OF_HEAD) < 0) {
    this.on("error", destroySelf);
    return endThenDestroy(this, HEAD_TOO_LARGE);
  }
  this.unshift(whole);
  route.http.call(route.server, this);
  handOverHeld(this);
}

// node:http, given the socket, starts reading it and asks for the bytes put back, but
// they would reach its parser on the next tick, and its parser reads the socket's own
// handle directly (`consume`): on Deno the next reads (the rest of a large body) come
// before that tick, and the parser, seeing body bytes first, fails the request (400).
// So the bytes put back go to its `data` listener now, as a flowing stream hands them.
function handOverHeld(socket: Socket): void {
  while (socket.readableFlowing === true && socket.readableLength > 0) {
    if (socket.read() === null) return;
  }
}

// Keeps an incomplete, plain head of a few reads for the next read; whether it did.
function heldOn(
  socket: FirstSocket,
  text: string,
  before: number,
  read: number,
  maxBytes: number,
): boolean {
  const reads = (socket[kReads] ?? 0) + 1;
  if (before + read > maxBytes || reads > MAX_HELD_READS) return false;
  // The terminator was not in what was held: it may start in its last 3 bytes.
  const from = Math.max(0, before - 3);
  if (text.indexOf(END_OF_HEAD, from) >= 0 || !PLAIN_SO_FAR.test(text)) return false;
  socket[kHead] = text;
  socket[kReads] = reads;
  return true;
}

// The head is complete (or not wsx's to wait for): the socket leaves the first reader.
function leaveReader(socket: FirstSocket): void {
  socket[kRoute] = undefined;
  // Only a socket that held a head has the field: no new property on the others.
  if (socket[kHead] !== undefined) socket[kHead] = undefined;
  socket.removeListener("data", onFirstChunk);
  socket.removeListener("end", endSelf);
}

/**
 * Reads the first chunk of each connection of `server` before `node:http` does, and
 * passes complete, plain upgrade heads to `upgrade`.
 *
 * @param server A server made by `http.createServer` or `https.createServer`, before it
 * listens.
 * @param upgrade Takes an upgrade head.
 * @param accepted Told of each socket as the reader takes it.
 * @returns Whether the fast path is installed (false when `node:http`'s connection
 * listener is not where it should be, as on Bun: see {@linkcode firstChunkReader}).
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { takeUpgradesFirst } from "./node_fast_upgrade.ts";
 * takeUpgradesFirst(createServer(), (socket) => void socket.destroy());
 * ```
 */
export function takeUpgradesFirst(
  server: Server,
  upgrade: FastUpgrade,
  accepted?: Accepted,
): boolean {
  if (!acceptsItself(server)) return false;
  const event = connectionEvent(server);
  const [http] = server.listeners(event) as ConnectionListener[];
  server.removeListener(event, http);
  server.prependListener(event, firstChunkReader(server, http, upgrade, accepted));
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
 * @param accepted Told of each socket as the handler takes it.
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
  accepted?: Accepted,
): (socket: Socket) => void {
  const route: Route = { server, http, upgrade };
  return (socket: FirstSocket) => {
    socket[kRoute] = route;
    socket.on("error", destroySelf);
    socket.on("end", endSelf);
    flowAtOnce(socket);
    socket.on("data", onFirstChunk);
    accepted?.(socket);
  };
}

/**
 * Whether a socket of a server with {@linkcode takeUpgradesFirst} has not sent a whole
 * head yet and `node:http` has not seen it (its `closeIdleConnections` does not reach
 * it): nothing read yet, or the start of a head held here.
 *
 * @param socket A socket of the server.
 * @returns `true` until its head is complete or handed to `node:http`.
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

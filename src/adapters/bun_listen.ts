/**
 * wsx's engine on Bun's own TCP sockets (`Bun.listen`), with no `node:net` or
 * `node:http` object per connection: each connection is Bun's native socket and one
 * {@linkcode ListenSocket}. It is what `serve({ transport: "engine" })` runs on Bun
 * (issue 14, target 4). A complete, plain upgrade head that arrives in a connection's
 * first chunk takes the fast path (`node_head_parser.ts`, as on Node.js); every other
 * connection is served by wsx's own HTTP/1.1 server (`http1_*.ts`), whose WebSocket
 * upgrades take the same upgrade path. With `processes`, the first process forks
 * `node:cluster` workers as on Node.js; each worker binds its own listener on the port
 * they share (`reusePort`).
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import process from "node:process";
import { runServer, type ServerRuntime, type SignalApi } from "../core/lifecycle.ts";
import { checkServeOptions, type ServeOptions, type WsxServer } from "../core/server.ts";
import { certChain } from "../core/tls.ts";
import { reportError } from "../core/report.ts";
import { callBound } from "../core/upgrade.ts";
import { checkRuntimeVersion } from "../runtime.ts";
import { ListenSocket } from "./bun_listen_socket.ts";
import type { BunHandlers, BunSocket } from "./bun_listen_api.ts";
import { MAX_FAST_HEAD, parseUpgradeHead } from "./node_head_parser.ts";
import { HeadQueue } from "./bun_listen_heads.ts";
import { serveHttp1Socket } from "./http1_net.ts";
import { type Http1Settings, resolveHttp1Options } from "./http1_options.ts";
import type { Http1Connection } from "./http1_connection.ts";
import { type Fetch, handleUpgrade, NodeUpgrader, upgradeRefusal } from "./node_upgrade.ts";
import { headerValue } from "./http1_request.ts";
import { keepHandshakeOutOfFtl } from "./bun_listen_tiers.ts";
import { clusterRole } from "../cluster/node_cluster.ts";
import { checkKey } from "./node_tls.ts";
import type { ProcessRole } from "../core/lifecycle.ts";
import type { CheckedServeOptions } from "../core/server.ts";

/**
 * A socket of `Bun.listen` whose data is its {@linkcode ListenSocket}.
 *
 * @example
 * ```ts
 * import type { BunTcpSocket } from "./bun_listen.ts";
 * ```
 */
export type BunTcpSocket = BunSocket<ListenSocket>;

/**
 * The `socket` handlers of a `Bun.listen` server whose sockets carry a
 * {@linkcode ListenSocket}.
 *
 * @example
 * ```ts
 * import type { BunSocketHandlers } from "./bun_listen.ts";
 * const quiet: BunSocketHandlers = {
 *   open() {}, data() {}, drain() {}, end() {}, close() {}, error() {},
 * };
 * ```
 */
export type BunSocketHandlers = BunHandlers<ListenSocket>;

interface BunListener {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): void;
}

interface BunListenApi {
  listen(options: {
    hostname: string;
    port: number;
    reusePort?: boolean;
    allowHalfOpen?: boolean;
    tls?: { cert: string; key: string; passphrase?: string };
    socket: BunSocketHandlers;
  }): BunListener;
}

const EMPTY = new Uint8Array(0);
// How long a stopping server waits for its HTTP responses in flight.
const STOP_GRACE_MS = 1000;

// The HTTP/1.1 side of a server: its settings and its connections (until they close or
// upgrade), for a graceful stop.
interface HttpSide {
  readonly settings: Http1Settings;
  readonly open: Map<ListenSocket, Http1Connection>;
}

// A connection's first chunk: a whole plain upgrade head goes to the engine; anything
// else (a plain request, a head split across reads) to the HTTP/1.1 server.
function firstChunk(
  upgrader: NodeUpgrader,
  fetch: Fetch,
  http: HttpSide,
  socket: ListenSocket,
  chunk: Uint8Array,
): void {
  socket.awaitingHead = false;
  const end = Math.min(chunk.length, MAX_FAST_HEAD);
  const text = (chunk as Buffer).toString("latin1", 0, end);
  const head = parseUpgradeHead(text);
  if (head === undefined) {
    // As a node:net server with allowHalfOpen: a client's FIN still gets its answers (the
    // connection ends once they are written; the engine turns it off if it upgrades).
    socket.allowHalfOpen = true;
    const connection = serveHttp1Socket(socket, http.settings);
    http.open.set(socket, connection);
    socket.once("close", () => http.open.delete(socket));
    return connection.received(chunk);
  }
  // What follows the head waits until the engine reads it.
  socket.pause();
  const { method, target, rawHeaders, fields } = head;
  handleUpgrade(
    upgrader,
    fetch,
    socket as never,
    method,
    target,
    rawHeaders,
    // Nothing follows the head, as a rule: Bun's Buffer#subarray is not free.
    head.length === chunk.length ? EMPTY : chunk.subarray(head.length),
    undefined,
    fields,
  );
}

function bunListen(): BunListenApi {
  const bun = (globalThis as { Bun?: BunListenApi }).Bun;
  if (!bun) throw new TypeError("wsx/bun needs the Bun runtime");
  return bun;
}

// Bun's handlers but `open` and `data` (the listener's own). With no `error` listener a
// `ListenSocket` destroys itself on an error, as a `node:net` socket would with one that
// destroys it; the engine adds its own once it reads the socket.
const HANDLERS = {
  drain: (socket: BunTcpSocket) => socket.data?.drained(),
  end: (socket: BunTcpSocket) => socket.data?.ended(),
  close: (socket: BunTcpSocket) => socket.data?.closed(),
  error: (socket: BunTcpSocket, error: Error) => socket.data?.failed(error),
  handshake: (socket: BunTcpSocket) => socket.data?.handshook(),
};

const LISTEN: ServerRuntime = {
  transport: "engine",
  capabilities: Object.freeze({ handshakeTimeout: "configurable", reportsAcceptErrors: false }),
  listen({ options, port, reusePort, group, onRequest }) {
    const { tls, handshakeTimeoutMs } = options;
    const secure = tls !== undefined;
    // A key that cannot be read fails at start, with the message of the other runtimes.
    if (tls !== undefined) checkKey(tls);
    const heads = new HeadQueue(handshakeTimeoutMs);
    const upgrader = new NodeUpgrader(group);
    // Plain requests, and upgrades whose head did not come whole in the first chunk.
    const settings = resolveHttp1Options({
      // Bound to the server's upgrader, so that `upgrade()` answers a plain request (426).
      handler: (request) => callBound(request, upgrader, onRequest),
      secure,
      headTimeoutMs: handshakeTimeoutMs,
      onError: (error) => reportError(error, "request"),
      onUpgrade: (head, rest, socket) => {
        http.open.delete(socket as ListenSocket);
        const { method, target, rawHeaders } = head;
        // As node:http's path refuses them: an upgrade needs HTTP/1.1 and no body.
        const refusal = upgradeRefusal(
          head.minor === 0 ? "1.0" : undefined,
          headerValue(head, "transfer-encoding") ?? undefined,
          headerValue(head, "content-length") ?? undefined,
        );
        handleUpgrade(
          upgrader,
          onRequest,
          socket as Duplex,
          method,
          target,
          rawHeaders,
          rest,
          refusal,
        );
      },
    });
    const http: HttpSide = { settings, open: new Map() };
    const handlers: BunSocketHandlers = {
      ...HANDLERS,
      open(raw) {
        const socket = new ListenSocket(raw, secure);
        raw.data = socket;
        heads.waiting(socket);
      },
      // A connection's first chunk goes to the upgrade path, the rest to its socket: no
      // listener to add and remove per connection, and no reference to the server in it.
      data(raw, chunk) {
        const socket = raw.data;
        if (socket === undefined) return;
        if (socket.awaitingHead) firstChunk(upgrader, onRequest, http, socket, chunk);
        else socket.received(chunk);
      },
    };
    keepHandshakeOutOfFtl([firstChunk, handlers.open]);
    const listener = bunListen().listen({
      hostname: options.hostname,
      port,
      reusePort,
      // Bun would close a socket at the peer's FIN: the socket ends its side itself, once
      // what came before the FIN is read (a paused upgrade still answers).
      allowHalfOpen: true,
      ...(tls && { tls: { cert: certChain(tls), key: tls.key, passphrase: tls.passphrase } }),
      socket: handlers,
    });
    group.raw = listener;
    return Promise.resolve({
      port: listener.port,
      hostname: listener.hostname,
      raw: listener,
      // As node:http's close: no new connections; idle HTTP ones end now, those answering
      // a request (the one that asked for the shutdown, say) after their response; a
      // second later whatever is left is closed.
      stop: () => {
        listener.stop(false);
        for (const connection of http.open.values()) connection.stop();
        return new Promise<void>((resolve) => {
          const started = Date.now();
          const poll = setInterval(() => {
            if (http.open.size > 0 && Date.now() - started < STOP_GRACE_MS) return;
            clearInterval(poll);
            listener.stop(true);
            resolve();
          }, 10);
        });
      },
    });
  },
};

// `serve({ processes })` as on Node.js: node:cluster workers, the first process
// supervising. Bun's node:cluster shares no listening socket with its workers, so each
// worker's Bun.listen binds the port itself, with SO_REUSEPORT.
async function processRole(checked: CheckedServeOptions): Promise<ProcessRole> {
  const role = await clusterRole(checked);
  return role.supervise === undefined ? { ...role, reusePort: true } : role;
}

/**
 * Starts wsx's engine on `Bun.listen`: what `serve({ transport: "engine" })` runs on Bun.
 *
 * @param options As for `serve()`.
 * @returns The running server.
 * @example
 * ```ts ignore
 * import { serveListen } from "./bun_listen.ts";
 * import { Websocket } from "../../mod.ts";
 * await serveListen({ port: 8080, onRequest: (req) => Websocket.upgrade(req, {}) });
 * ```
 */
export async function serveListen(options: ServeOptions): Promise<WsxServer> {
  const checked = checkServeOptions(options);
  checkRuntimeVersion();
  const signals: SignalApi = {
    listen: (signal, fn) => process.on(signal, fn),
    exit: (code) => process.exit(code),
  };
  return await runServer(options, checked, { runtime: LISTEN, processes: processRole, signals });
}

/**
 * The accept of the engine over `node:http` (`node.ts`) when it runs on Bun (`serve()` of
 * `wsx/node` imported there; `serve({ transport: "engine" })` of `wsx/bun` runs the engine
 * on `Bun.listen` instead, `bun_listen.ts`). Bun's `node:http` accepts natively and
 * builds, for every upgrade request, a `NodeHTTPServerSocket`, an `IncomingMessage` and a
 * `ServerResponse` in JavaScript, which stay alive with the connection: most of the CPU time of a
 * handshake and most of the memory of an idle WebSocket. So on Bun wsx accepts the TCP
 * connections itself with a `node:net` server, reads each connection's first chunk
 * (`node_fast_upgrade.ts`, as on Node.js) and answers complete, plain upgrade heads with
 * its own engine. Every other connection gets its first bytes back (`unshift`) and goes
 * to the `node:http` server through its `connection` event, which Bun's `node:http`
 * serves like a connection it accepted (requests, bodies, keep-alive, pipelining,
 * upgrades, its head limits). With `tls` each socket is wrapped first
 * (`bun_tls_wrap.ts`). The head clock starts at the TCP accept, here.
 *
 * @module
 */

import type { Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { TlsOptions } from "../core/tls.ts";
import { type FastUpgrade, firstChunkReader } from "./node_fast_upgrade.ts";
import type { HeadTimeouts } from "./node_head_timeout.ts";
import { tlsWrapper } from "./bun_tls_wrap.ts";

// Shared, `this` being the server: what the fast path does not take goes to node:http.
function handToHttp(this: Server, socket: Socket): void {
  this.emit("connection", socket);
}

/**
 * A `node:net` server that accepts the connections of `server` (never listening
 * itself), answers plain upgrade heads through `upgrade` and hands every other
 * connection to `server`.
 *
 * @param server The `node:http` or `node:https` server that serves the other requests.
 * @param tls The certificate and key, or undefined for plain HTTP.
 * @param heads The sockets waiting for a head: each accepted one joins at once.
 * @param upgrade Takes an upgrade head.
 * @returns The server to listen with, not listening yet.
 * @example
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { bunAcceptor } from "./bun_accept.ts";
 * import { HeadTimeouts } from "./node_head_timeout.ts";
 * const http = createServer((_, res) => res.end("hi"));
 * const heads = new HeadTimeouts(10_000);
 * bunAcceptor(http, undefined, heads, (socket) => void socket.destroy()).listen(8080);
 * ```
 */
export function bunAcceptor(
  server: Server,
  tls: Readonly<TlsOptions> | undefined,
  heads: HeadTimeouts,
  upgrade: FastUpgrade,
): NetServer {
  const read = firstChunkReader(server, handToHttp, upgrade);
  const wrap = tlsWrapper(tls);
  return createNetServer((raw) => {
    const socket = wrap === undefined ? raw : wrap(raw) as unknown as Socket;
    heads.waiting(socket);
    read(socket);
  });
}

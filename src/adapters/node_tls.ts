/**
 * The engine's server with or without TLS: `node:http`, or `node:https` for
 * `serve({ tls })`. What differs under TLS is where a connection's life starts. The
 * `connection` event hands over the raw TCP socket, still in its TLS handshake; the
 * decrypted socket comes later through `secureConnection`, where `node:https` gives it
 * to `node:http`'s connection listener. The request-head timeout starts at the TCP
 * accept and covers the handshake too: a client that never sends its ClientHello is cut
 * off like one that never sends its request head (Node's own `handshakeTimeout`, 120 s by
 * default, is set to the same value). On Bun, `node:https` is not a `tls.Server`: it
 * does the handshake natively and hands over decrypted sockets on `connection`, too late
 * for the clock; there wsx accepts the TCP connections and does the handshake itself
 * (`bun_tls_wrap.ts`), and the `node:https` server serves what it is handed.
 *
 * @module
 */

import { createPrivateKey } from "node:crypto";
import { createServer, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer, Server as HttpsServer } from "node:https";
import type { Server as NetServer, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Server as TlsServer, type TLSSocket } from "node:tls";
import type { CheckedServeOptions } from "../core/server.ts";
import { certChain, type TlsOptions } from "../core/tls.ts";
import { tlsAcceptor } from "./bun_tls_wrap.ts";
import { HeadTimeouts } from "./node_head_timeout.ts";
import { isEncrypted } from "./node_request.ts";

/**
 * A `node:http` server, or a `node:https` one with `tls`; both are `http.Server`s to the
 * rest of the adapter (an `https.Server` has every method of one).
 *
 * @param checked `tls` (the certificate and key, or undefined) and `handshakeTimeoutMs`
 * (the TLS handshake's limit) of the checked `serve()` options.
 * @param options The `node:http` options (head timeouts).
 * @returns The server, not listening yet.
 * @example
 * ```ts
 * import { createEngineServer } from "./node_tls.ts";
 * const server = createEngineServer({ tls: undefined, handshakeTimeoutMs: 10_000 }, {});
 * ```
 */
export function createEngineServer(
  checked: Pick<CheckedServeOptions, "tls" | "handshakeTimeoutMs">,
  options: ServerOptions,
): Server {
  const { tls, handshakeTimeoutMs } = checked;
  if (tls === undefined) return createServer(options);
  checkKey(tls);
  return createHttpsServer({
    ...options,
    cert: certChain(tls),
    key: tls.key,
    passphrase: tls.passphrase,
    handshakeTimeout: handshakeTimeoutMs,
  }) as unknown as Server;
}

// A key that cannot be read fails here, on every runtime: Deno's node:https would take
// it and fail every handshake instead.
function checkKey(tls: Readonly<TlsOptions>): void {
  try {
    createPrivateKey({ key: tls.key, passphrase: tls.passphrase });
  } catch (cause) {
    throw new TypeError(
      tls.passphrase === undefined
        ? 'Invalid "tls.key": cannot read it (an encrypted key needs "tls.passphrase")'
        : 'Invalid "tls.passphrase": it does not decrypt "tls.key"',
      { cause },
    );
  }
}

/**
 * Whether connections reach `node:http` through `secureConnection` (a `tls.Server`:
 * `node:https` on Node.js and Deno) rather than `connection`.
 *
 * @param server The server.
 * @returns The event whose listener is `node:http`'s.
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { connectionEvent } from "./node_tls.ts";
 * connectionEvent(createServer()); // "connection"
 * ```
 */
export function connectionEvent(server: Server): "connection" | "secureConnection" {
  return (server as unknown) instanceof TlsServer ? "secureConnection" : "connection";
}

/**
 * The server that listens for `server`: `server` itself, or with `tls` where the
 * runtime's `node:https` is not a `tls.Server` (Bun), a `node:net` server that does the
 * TLS handshakes and hands `server` the decrypted sockets (`bun_tls_wrap.ts`).
 *
 * @param server The engine's server, from {@linkcode createEngineServer}.
 * @param tls The checked `tls` option.
 * @returns What to call `listen` on (and `close`, at the end).
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { engineListener } from "./node_tls.ts";
 * const server = createServer();
 * engineListener(server, undefined) === server; // true: plain HTTP
 * ```
 */
export function engineListener(
  server: Server,
  tls: Readonly<TlsOptions> | undefined,
): Server | NetServer {
  const hidesHandshake = tls !== undefined && connectionEvent(server) === "connection";
  return hidesHandshake ? tlsAcceptor(server, tls) : server;
}

/**
 * Starts the request-head clock of every connection of `server` at its TCP accept; on a
 * `tls.Server` the decrypted socket inherits the clock of its raw one. On a TLS server a
 * socket still in its handshake is cut off without an answer.
 *
 * @param server The server, before it listens.
 * @param timeoutMs How long the TLS handshake and the request head may take together.
 * @param keepAliveMs How long the next head may take after a response.
 * @returns The sockets waiting for a head.
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { watchHeads } from "./node_tls.ts";
 * const heads = watchHeads(createServer(), 10_000);
 * ```
 */
export function watchHeads(
  server: Server,
  timeoutMs: number,
  keepAliveMs: number = timeoutMs,
): HeadTimeouts {
  // node:https's Server is a tls.Server (Node.js, Deno) or an http.Server (Bun).
  const secure = (server as unknown) instanceof HttpsServer;
  const heads = new HeadTimeouts(timeoutMs, secure, keepAliveMs);
  server.on("connection", (socket: Socket) => heads.waiting(socket));
  if (connectionEvent(server) === "secureConnection") {
    // `_parent`: the TCP socket a server-side TLSSocket wraps (Node.js and Deno).
    server.on("secureConnection", (socket: TLSSocket & { _parent?: Socket }) => {
      heads.moved(socket._parent, socket);
    });
  }
  return heads;
}

/**
 * Whether a `clientError` is the TLS layer's (a failed or too slow handshake), not an
 * HTTP parser's: there is no HTTP answer to give, the socket is destroyed.
 *
 * @param error The error.
 * @param socket Its socket.
 * @returns `true` for a TLS error.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { isTlsFailure } from "./node_tls.ts";
 * isTlsFailure(new Error("x"), new Socket()); // false: not a TLS socket
 * ```
 */
export function isTlsFailure(error: Error & { code?: string }, socket: Duplex): boolean {
  if (!isEncrypted(socket)) return false;
  const code = error.code ?? "";
  return !code.startsWith("HPE_") && !code.startsWith("ERR_HTTP_");
}

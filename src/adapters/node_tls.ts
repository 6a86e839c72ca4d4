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
 * (`bun_accept.ts`, `bun_tls_wrap.ts`), and the `node:https` server serves what it is
 * handed.
 *
 * @module
 */

import { createPrivateKey } from "node:crypto";
import { createServer, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer, Server as HttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Server as TlsServer, type TLSSocket } from "node:tls";
import type { CheckedServeOptions } from "../core/server.ts";
import { certChain, type TlsOptions } from "../core/tls.ts";
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

/**
 * Checks that the key can be read (with its passphrase): a key that cannot fails at
 * start, on every runtime (Deno's node:https would take it and fail every handshake).
 *
 * @param tls The checked `tls` option.
 * @throws {TypeError} Naming `tls.key` or `tls.passphrase`.
 * @example
 * ```ts ignore
 * import { checkKey } from "./node_tls.ts";
 * checkKey({ cert: "...", key: "..." });
 * ```
 */
export function checkKey(tls: Readonly<TlsOptions>): void {
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
 * Whether `node:http`'s own connection listener comes first on `server` (Node.js and
 * Deno), so that `takeUpgradesFirst` (`node_fast_upgrade.ts`) can step in front of it. Bun's `node:http`
 * puts a listener of its own first and accepts natively; there wsx accepts the
 * connections itself (`bun_accept.ts`).
 *
 * @param server A server made by `http.createServer` or `https.createServer`.
 * @returns `true` on Node.js and Deno.
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { acceptsItself } from "./node_tls.ts";
 * acceptsItself(createServer()); // true on Node.js
 * ```
 */
export function acceptsItself(server: Server): boolean {
  const [http] = server.listeners(connectionEvent(server));
  return typeof http === "function" && http.name === "connectionListener";
}

/**
 * Starts the request-head clock of every connection of `server` at its TCP accept; on a
 * `tls.Server` the decrypted socket inherits the clock of its raw one. On a TLS server a
 * socket still in its handshake is cut off without an answer.
 *
 * @param server The server, before it listens.
 * @param timeoutMs How long the TLS handshake and the request head may take together.
 * @param keepAliveMs How long the next head may take after a response.
 * @param atAccept Whether to start the clock from a `connection` listener of its own
 * (`false`: the caller starts it, as `takeUpgradesFirst`'s reader does on a plain
 * server). @default {true}
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
  atAccept: boolean = true,
): HeadTimeouts {
  // node:https's Server is a tls.Server (Node.js, Deno) or an http.Server (Bun).
  const secure = (server as unknown) instanceof HttpsServer;
  const heads = new HeadTimeouts(timeoutMs, secure, keepAliveMs);
  // On Bun wsx's own acceptor starts the clock (`bun_accept.ts`): a connection it hands
  // on later keeps its deadline.
  if (atAccept && acceptsItself(server)) {
    server.on("connection", (socket: Socket) => heads.waiting(socket));
  }
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

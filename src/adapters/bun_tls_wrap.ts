/**
 * The engine's TLS on runtimes whose `node:https` hides the TCP socket (Bun): there the
 * server is not a `tls.Server`, it does the handshake natively and hands over a socket
 * only once it is done, so a client that opens a connection and never sends its
 * ClientHello (or sends half of one) is held until Bun gives up (about 12 s, whatever
 * the options; oven-sh/bun#35672 describes uWebSockets' fixed pre-request timer). wsx
 * then accepts the TCP connections itself with a `node:net` server, wraps each in a
 * server-side `tls.TLSSocket` (one secure context for the server) and hands the
 * wrapped socket to the `node:https` server through its `connection` event, which Bun's
 * `node:http` serves like one it accepted (requests, keep-alive, upgrades). The head
 * clock (`node_head_timeout.ts`) starts at that hand-over, right at the TCP accept, so
 * the handshake and the request head must fit in `handshakeTimeoutMs` together, as on
 * Node.js and Deno.
 *
 * @module
 */

import type { Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { certChain, type TlsOptions } from "../core/tls.ts";

// Shared listener, `this` being the socket: no closure per connection. A failed handshake
// (a client that refuses the certificate, garbage instead of a ClientHello) has no answer.
function destroySelf(this: Socket): void {
  this.destroy();
}

/**
 * A `node:net` server that accepts the TCP connections of `server` (a `node:https`
 * server that is not a `tls.Server`, never listening itself), does their TLS handshake
 * with `tls`, and emits each wrapped socket as a `connection` of `server`.
 *
 * @param server The `node:https` server that serves the decrypted connections.
 * @param tls The certificate, its chain and the key (with its passphrase).
 * @returns The server to listen with, not listening yet.
 * @example
 * ```ts ignore
 * import { createServer } from "node:https";
 * import { tlsAcceptor } from "./bun_tls_wrap.ts";
 * declare const tls: { cert: string; key: string };
 * const https = createServer({ cert: tls.cert, key: tls.key });
 * tlsAcceptor(https as never, tls).listen(8443);
 * ```
 */
export function tlsAcceptor(server: Server, tls: Readonly<TlsOptions>): NetServer {
  const secureContext = createSecureContext({
    cert: certChain(tls),
    key: tls.key,
    passphrase: tls.passphrase,
  });
  // Wrapped at once, before any byte can be read from the TCP socket.
  return createNetServer((raw) => {
    const socket = new TLSSocket(raw, { isServer: true, secureContext });
    socket.on("error", destroySelf);
    server.emit("connection", socket);
  });
}

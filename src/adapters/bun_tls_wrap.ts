/**
 * The engine's TLS on runtimes whose `node:https` hides the TCP socket (Bun): there the
 * server is not a `tls.Server`, it does the handshake natively and hands over a socket
 * only once it is done, so a client that opens a connection and never sends its
 * ClientHello (or sends half of one) is held until Bun gives up (about 12 s, whatever
 * the options; oven-sh/bun#35672 describes uWebSockets' fixed pre-request timer). wsx
 * then accepts the TCP connections itself (`bun_accept.ts`) and wraps each in a
 * server-side `tls.TLSSocket` (one secure context for the server), which it serves like
 * a plain one: the fast upgrade path reads its first decrypted chunk, and everything else
 * goes to the `node:https` server through its `connection` event. The head clock
 * (`node_head_timeout.ts`) starts right at the TCP accept, so the handshake and the
 * request head must fit in `handshakeTimeoutMs` together, as on Node.js and Deno.
 *
 * @module
 */

import type { Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { certChain, type TlsOptions } from "../core/tls.ts";
import { destroySelf } from "./node_upgrade.ts";

/**
 * What wraps each accepted TCP socket in a server-side TLS socket, or `undefined`
 * without `tls`.
 *
 * @param tls The certificate, its chain and the key (with its passphrase), or undefined.
 * @returns The wrapper (one secure context for all connections), or `undefined`.
 * @example
 * ```ts ignore
 * import { createServer } from "node:net";
 * import { tlsWrapper } from "./bun_tls_wrap.ts";
 * declare const tls: { cert: string; key: string };
 * const wrap = tlsWrapper(tls)!;
 * createServer((raw) => void wrap(raw).end("hello over TLS\n")).listen(8443);
 * ```
 */
export function tlsWrapper(
  tls: Readonly<TlsOptions> | undefined,
): ((raw: Socket) => TLSSocket) | undefined {
  if (tls === undefined) return undefined;
  const secureContext = createSecureContext({
    cert: certChain(tls),
    key: tls.key,
    passphrase: tls.passphrase,
  });
  // Wrapped at once, before any byte can be read from the TCP socket.
  return (raw) => {
    const socket = new TLSSocket(raw, { isServer: true, secureContext });
    // A failed handshake (a client that refuses the certificate, garbage instead of a
    // ClientHello) has no answer.
    socket.on("error", destroySelf);
    return socket;
  };
}

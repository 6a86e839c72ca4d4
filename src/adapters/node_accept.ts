/**
 * Accepted connections made into `node:net` sockets without V8's map churn. Node.js's
 * accept (`onconnection` in `lib/net.js`) hands `new Socket()` an options literal that
 * the constructor copies (`{ ...options }`) and then extends with `emitClose`,
 * `autoDestroy` and `decodeStrings`. On the V8 of Node.js 20, a property added to the
 * copy of an object spread makes a new hidden class every time (the copy's class is
 * kept out of the transition tree), so every accepted socket builds a fresh class, and
 * the two dozen property reads the stream constructors make on those options miss
 * their inline caches and run V8's lookup in the runtime, a large share of what a
 * handshake costs a server opening connections (bench/README.md, branch `nodehs`).
 * Handing the constructor options that already hold those three properties leaves the
 * copy's class alone, and the reads hit their caches.
 *
 * Only the usual accept is done here, exactly as Node.js does it; an accept that
 * failed, one past `maxConnections`, and servers with `pauseOnConnect`, `keepAlive` or
 * a `blockList` go to Node.js's own function. And only where Node.js's accept is one this
 * file was checked against (by a digest of its source text): on any other release, and
 * under `NODE_DEBUG=net` (whose accept logs a line), Node.js's own accept stays.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { channel } from "node:diagnostics_channel";
import { type Server as NetServer, Socket } from "node:net";
import process from "node:process";

// What node:net's listening handle passes its accept callback.
interface ClientHandle {
  setNoDelay?(enable: boolean): number;
}
type OnConnection = (this: unknown, status: number, client: ClientHandle) => void;
interface ListenHandle {
  onconnection?: OnConnection;
}

// The fields of node:net's Server its accept reads (public, if undocumented, on Node.js 20).
interface AcceptingServer {
  _handle?: ListenHandle | null;
  _connections: number;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  highWaterMark?: number;
  maxConnections?: number;
  blockList?: unknown;
}

// Node.js publishes each accepted socket here (documented: `net.server.socket`).
const accepted = channel("net.server.socket");

// SHA-256 (base64) of the source of the node:net accepts this file does as they do,
// whitespace runs made one space: Node.js 20.20.
const CHECKED_ACCEPTS: ReadonlySet<string> = new Set([
  "0nH92dU7VhMXSHpFbhbLLJ1HyzbVJyJd6Br2O6Vh6EY=",
]);

function checked(accept: OnConnection): boolean {
  const source = Function.prototype.toString.call(accept).replace(/\s+/g, " ");
  return CHECKED_ACCEPTS.has(createHash("sha256").update(source).digest("base64"));
}

/**
 * Makes `server`'s accepts build their sockets from complete options (see the module
 * doc). Call it once the server listens and before it accepts (in its `listening`
 * callback). Does nothing when the handle's accept is not Node.js's own, or not one
 * this file was checked against.
 *
 * @param server A listening `node:net` (or `node:http`) server.
 * @returns Whether the accept was replaced.
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { acceptWithFullOptions } from "./node_accept.ts";
 * const server = createServer((socket) => socket.end("hi\n"));
 * server.listen(0, () => acceptWithFullOptions(server));
 * ```
 */
export function acceptWithFullOptions(server: NetServer): boolean {
  const self = server as unknown as AcceptingServer;
  const handle = self._handle;
  const own = handle?.onconnection;
  if (typeof own !== "function" || own.name !== "onconnection" || !checked(own)) return false;
  if (/\bnet\b/i.test(process.env.NODE_DEBUG ?? "")) return false;
  handle!.onconnection = function (status, client) {
    if (
      status !== 0 || self.pauseOnConnect || self.keepAlive || self.blockList != null ||
      (self.maxConnections && self._connections >= self.maxConnections)
    ) {
      return own.call(this, status, client);
    }
    const noDelay = self.noDelay === true && typeof client.setNoDelay === "function";
    const socket = new Socket(
      {
        handle: client,
        allowHalfOpen: self.allowHalfOpen,
        pauseOnCreate: false,
        readable: true,
        writable: true,
        readableHighWaterMark: self.highWaterMark,
        writableHighWaterMark: self.highWaterMark,
        // Recorded by the constructor as Node.js's accept records it after.
        noDelay,
        // What the constructor sets anyway: present here, the copy keeps its class.
        emitClose: false,
        autoDestroy: true,
        decodeStrings: false,
      } as ConstructorParameters<typeof Socket>[0],
    );
    if (noDelay) client.setNoDelay!(true);
    self._connections++;
    const tagged = socket as Socket & { server: NetServer; _server: NetServer };
    tagged.server = server;
    tagged._server = server;
    server.emit("connection", socket);
    if (accepted.hasSubscribers) accepted.publish({ socket });
  };
  return true;
}

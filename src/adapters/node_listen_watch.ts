/**
 * Keeps the engine's listener alive on Deno. Deno's `node:net` stops accepting for good
 * once an accept fails (out of file descriptors) and tells no one: no `error` event, the
 * port stays bound, connections pile up in the kernel's backlog. So on Deno the engine
 * checks its own listener: once a second without other connections, a probe connection
 * to its own port must show up as a `connection`; after three misses in a row the
 * listener is closed and opened again on the same port (connections already accepted
 * are not touched). Where several processes share the port a probe may land on another
 * one, so as many more misses are needed.
 *
 * @module
 */

import { connect, Server, type Socket } from "node:net";

const PROBE_MS = 1000;
const MISSES = 3;

/**
 * Watches a listening server; returns the function that stops watching (at shutdown).
 *
 * @param server The listening server.
 * @param processes How many processes share the port.
 * @param onRestart Called after each restart of the listener.
 * @returns Stops the watch.
 * @example
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { watchListener } from "./node_listen_watch.ts";
 * const server = createServer().listen(0);
 * const stop = watchListener(server, 1, () => console.log("listener restored"));
 * stop();
 * ```
 */
export function watchListener(
  server: Server,
  processes: number,
  onRestart: () => void,
): () => void {
  const pending = new Set<number>();
  const allowed = MISSES * processes;
  let misses = 0;
  let accepted = false;
  let restarting = false;
  const onConnection = (socket: Socket) => {
    // Any accepted connection shows the listener works.
    misses = 0;
    accepted = true;
    const port = socket.remotePort;
    if (port !== undefined && pending.delete(port)) socket.destroy();
  };
  server.on("connection", onConnection);
  const timer = setInterval(() => {
    if (restarting) return;
    const address = server.address();
    if (address === null || typeof address === "string") return;
    // A probe from the last tick that never arrived, with no other connection, is a miss.
    if (pending.size > 0 && !accepted) misses++;
    pending.clear();
    if (accepted) {
      // Connections arrive on their own: no probe needed this time.
      accepted = false;
      return;
    }
    if (misses >= allowed) {
      misses = 0;
      restarting = true;
      restart(server, address.port, address.address, () => {
        restarting = false;
        onRestart();
      });
      return;
    }
    probe(address.port, address.address, pending, () => misses++);
  }, PROBE_MS);
  // A timer of its own must not keep the process alive.
  (timer as { unref?: () => void }).unref?.();
  return () => {
    clearInterval(timer);
    server.off("connection", onConnection);
  };
}

function probe(port: number, host: string, pending: Set<number>, failed: () => void): void {
  const target = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  let socket: Socket;
  try {
    socket = connect(port, target);
  } catch {
    // No descriptor for the probe itself: the process is out of them.
    return failed();
  }
  socket.once("connect", () => {
    if (socket.localPort !== undefined) pending.add(socket.localPort);
  });
  socket.once("error", () => failed());
  socket.setTimeout(PROBE_MS * 2, () => socket.destroy());
  socket.once("close", () => socket.destroy());
  socket.resume();
}

function restart(server: Server, port: number, host: string, done: () => void): void {
  // net.Server's close stops listening and leaves open connections alone (http.Server's
  // would also close idle keep-alive ones).
  Server.prototype.close.call(server);
  const retry = () => {
    const failed = () => setTimeout(retry, PROBE_MS).unref();
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      done();
    });
  };
  retry();
}

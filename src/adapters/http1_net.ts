/**
 * wsx's HTTP/1.1 connection on a `node:net` socket (Node.js, and the `node:net` of Deno
 * and Bun): the socket's events feed the connection.
 *
 * @module
 */

import type { Socket } from "node:net";
import process from "node:process";
import { Http1Connection } from "./http1_connection.ts";
import { type Http1Options, type Http1Settings, http1Settings } from "./http1_options.ts";

/**
 * Serves HTTP/1.1 on a `node:net` socket. A WebSocket upgrade (with `onUpgrade`) gets
 * the socket with none of these listeners left on it.
 *
 * @param socket The socket, from a server created with `allowHalfOpen: true` so that a
 * client's FIN still gets its answers.
 * @param options The handler and limits.
 * @returns The connection.
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { resolveHttp1Options } from "./http1_options.ts";
 * import { serveHttp1Socket } from "./http1_net.ts";
 * const settings = resolveHttp1Options({ handler: () => new Response("hi") });
 * const server = createServer({ allowHalfOpen: true }, (s) => serveHttp1Socket(s, settings));
 * ```
 */
export function serveHttp1Socket(
  socket: Socket,
  options: Http1Settings | Http1Options,
): Http1Connection {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const connection: Http1Connection = new Http1Connection({
    // Responses to pipelined requests are written in the same turn: corked until the
    // turn's promise jobs have run, they leave in one system call (as node:http does).
    write: (bytes) => {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return socket.write(bytes);
    },
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    detach: () => {
      socket.off("data", data).off("drain", drain).off("end", end).off("close", close);
      socket.off("error", error);
    },
  }, http1Settings(options));
  const data = (chunk: Uint8Array) => connection.received(chunk);
  const drain = () => connection.drained();
  const end = () => connection.ended();
  const close = () => connection.closed();
  const error = () => socket.destroy();
  socket.on("data", data).on("drain", drain).on("end", end).on("close", close);
  socket.on("error", error);
  return connection;
}

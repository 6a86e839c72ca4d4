/**
 * wsx's HTTP/1.1 connection on a `node:net` socket (Node.js, and the `node:net` of Deno
 * and Bun): the socket's events feed the connection.
 *
 * @module
 */

import process from "node:process";
import { Http1Connection } from "./http1_connection.ts";
import { type Http1Options, type Http1Settings, http1Settings } from "./http1_options.ts";

/**
 * The part of a `node:net` socket the binding uses: a `Socket` fits, and so does any
 * socket shaped like one (`bun_listen_socket.ts`'s `ListenSocket` on `Bun.listen`).
 *
 * @example
 * ```ts
 * import type { NetLikeSocket } from "./http1_net.ts";
 * import type { Socket } from "node:net";
 * const fits = (socket: Socket): NetLikeSocket => socket;
 * ```
 */
export interface NetLikeSocket {
  /** Writes bytes; `false` when buffered past the high-water mark (`drain` follows). */
  write(bytes: Uint8Array): boolean;
  /** Sends FIN after what is written. */
  end(): unknown;
  /** Closes at once. */
  destroy(): unknown;
  /** Stops `data` events. */
  pause(): unknown;
  /** Resumes `data` events. */
  resume(): unknown;
  /** Holds writes until `uncork`. */
  cork(): void;
  /** Sends what `cork` held. */
  uncork(): void;
  /** Adds a listener of `data`, `drain`, `end`, `close` or `error`. */
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  /** Removes a listener. */
  // deno-lint-ignore no-explicit-any
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

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
  socket: NetLikeSocket,
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
      for (const [event, listener] of listeners) socket.removeListener(event, listener);
      // What comes next waits for the new owner, who resumes reading.
      socket.pause();
      return socket;
    },
  }, http1Settings(options));
  const data = (chunk: Uint8Array) => connection.received(chunk);
  const drain = () => connection.drained();
  const end = () => connection.ended();
  const close = () => connection.closed();
  const error = () => socket.destroy();
  const listeners = [
    ["data", data],
    ["drain", drain],
    ["end", end],
    ["close", close],
    ["error", error],
  ] as const;
  for (const [event, listener] of listeners) socket.on(event, listener);
  return connection;
}

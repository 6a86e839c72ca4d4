/**
 * The socket side of an HTTP/1.1 connection: the small socket interface a binding
 * provides (`node:net`, Bun's sockets), writes that wait for the socket to drain,
 * reading paused while any reason to pause holds, one deadline (on the server's shared
 * wheel, `http1_timers.ts`), and the end of a connection with a linger.
 *
 * @module
 */

import { Deadline, type Http1Timers } from "./http1_timers.ts";

/**
 * The socket a connection writes to; the binding feeds the connection's `received`,
 * `drained`, `ended` and `closed` from its events.
 *
 * @example
 * ```ts
 * import type { Http1Socket } from "./http1_wire.ts";
 * const written: Uint8Array[] = [];
 * const socket: Http1Socket = {
 *   write: (bytes) => written.push(bytes) > 0,
 *   end: () => {},
 *   destroy: () => {},
 *   pause: () => {},
 *   resume: () => {},
 * };
 * ```
 */
export interface Http1Socket {
  /** Writes bytes; `false` when they were buffered and `drained` will follow. */
  write(bytes: Uint8Array): boolean;
  /** Sends FIN once everything written is flushed. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /** Stops reading. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /**
   * Stops feeding the connection: a WebSocket upgrade takes the socket over. Reading
   * stays as it is (the new owner resumes it).
   *
   * @returns The runtime's socket, for the new owner (`onUpgrade`'s third argument).
   */
  detach?(): unknown;
}

/**
 * Why reading may be paused: the handler's body queue is full, or a pipelined request
 * waits for the response before it.
 *
 * @example
 * ```ts
 * import type { PauseReason } from "./http1_wire.ts";
 * const reason: PauseReason = "body";
 * ```
 */
export type PauseReason = "body" | "queue";

// How long an ended connection waits for the client to close its side.
const LINGER_MS = 10_000;

/**
 * A socket with backpressure, pause reasons and one deadline.
 *
 * @example
 * ```ts ignore
 * import { Wire } from "./http1_wire.ts";
 * import { Http1Timers } from "./http1_timers.ts";
 * const wire = new Wire(socket, new Http1Timers());
 * await wire.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
 * ```
 */
export class Wire {
  readonly #socket: Http1Socket;
  #closed = false;
  #ending = false;
  #drains: (() => void)[] = [];
  #paused = new Set<PauseReason>();
  #reading = true;
  readonly #deadline: Deadline;

  /**
   * Wraps a socket.
   *
   * @param socket The socket.
   * @param timers The server's wheel, which holds the connection's deadline.
   */
  constructor(socket: Http1Socket, timers: Http1Timers) {
    this.#socket = socket;
    this.#deadline = new Deadline(timers);
  }

  /** Whether the socket closed (or was destroyed). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Writes bytes.
   *
   * @param bytes The bytes.
   * @returns A promise that settles once the socket drained, when it must be awaited.
   */
  write(bytes: Uint8Array): Promise<void> | undefined {
    // Nothing goes after the last bytes (a late 100 Continue, say).
    if (this.#closed || this.#ending || this.#socket.write(bytes)) return;
    return new Promise((resolve) => this.#drains.push(resolve));
  }

  /** The socket drained: writers waiting go on. */
  drained(): void {
    const drains = this.#drains;
    this.#drains = [];
    for (const resolve of drains) resolve();
  }

  /**
   * Sets or lifts one reason to pause; reading pauses while any holds.
   *
   * @param reason The reason.
   * @param paused Whether it holds.
   */
  pause(reason: PauseReason, paused: boolean): void {
    if (paused) this.#paused.add(reason);
    else this.#paused.delete(reason);
    const reading = this.#paused.size === 0;
    if (reading === this.#reading || this.#closed) return;
    this.#reading = reading;
    if (reading) this.#socket.resume();
    else this.#socket.pause();
  }

  /**
   * Runs `fn` after `ms` (within a beat of the wheel after), replacing the timer set
   * before.
   *
   * @param ms The delay.
   * @param fn What to run.
   */
  timer(ms: number, fn: () => void): void {
    if (!this.#closed) this.#deadline.set(ms, fn);
  }

  /** Clears the timer. */
  clearTimer(): void {
    this.#deadline.clear();
  }

  /**
   * The last bytes, then FIN. What the client still sends is read (and dropped by the
   * connection), so its FIN is seen; a client that never closes is cut after 10 s.
   *
   * @param bytes The last bytes, if any.
   */
  end(bytes?: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    if (bytes !== undefined) this.write(bytes);
    this.#ending = true;
    this.#socket.end();
    this.#paused.clear();
    this.pause("body", false);
    this.timer(LINGER_MS, () => this.destroy());
  }

  /**
   * Hands the socket over: the timer stops, the socket stops feeding the connection.
   *
   * @returns What the socket's `detach` returned: the runtime's socket, for the new owner.
   */
  detach(): unknown {
    this.#deadline.stop();
    return this.#socket.detach?.();
  }

  /** Closes at once. */
  destroy(): void {
    if (!this.#closed) this.#socket.destroy();
  }

  /** The socket closed: the timer stops, writers waiting go on. */
  closed(): void {
    this.#closed = true;
    this.#deadline.stop();
    this.drained();
  }
}

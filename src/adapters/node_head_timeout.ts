/**
 * Cuts off clients that take too long to send a request head (slowloris). Node's own
 * `headersTimeout` stops firing while keep-alive connections are open on the server, so
 * wsx sweeps the sockets still waiting for a head twice a second: one shared interval,
 * running only while such sockets exist. Cutting is sliced: a few milliseconds of work,
 * then the event loop runs before the next slice, so thousands of heads falling due at
 * once never stall established connections (each is still cut within about
 * `handshakeTimeoutMs` + 1 s). On a TLS server the clock starts at the TCP accept: a
 * socket still in its TLS handshake is cut off without an answer (plain text would mean
 * nothing to a TLS client), a decrypted one gets its 408.
 *
 * @module
 */

import type { Socket } from "node:net";
import { rawRefusal, REFUSALS } from "../core/protocol/responses.ts";

const SWEEP_MS = 500;
// The longest one slice of cutting may run before the event loop gets a turn.
const SLICE_MS = 2;

/**
 * The set of sockets waiting for a request head, with the time they started waiting.
 *
 * @example
 * ```ts
 * import { HeadTimeouts } from "./node_head_timeout.ts";
 * const heads = new HeadTimeouts(10_000);
 * ```
 */
export class HeadTimeouts {
  readonly #timeoutMs: number;
  readonly #secure: boolean;
  // Each waiting socket with the time it started waiting.
  readonly #waiting = new Map<Socket, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  // Sockets due to be cut, in the order they fell due; a slice takes from the front.
  #due: Socket[] = [];
  #dueAt = 0;

  /**
   * @param timeoutMs How long a head may take, in ms.
   * @param secure A TLS server's sockets: those not yet decrypted are in their handshake.
   */
  constructor(timeoutMs: number, secure: boolean = false) {
    this.#timeoutMs = timeoutMs;
    this.#secure = secure;
  }

  /** The socket now waits for a request head (a new connection, or keep-alive after a response). */
  waiting(socket: Socket): void {
    if (socket.destroyed) return;
    // No close listener (a closure for the life of every connection): the sweep drops
    // sockets that closed meanwhile.
    this.#waiting.set(socket, Date.now());
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /**
   * A TLS handshake completed: the decrypted socket waits for its head from when its TCP
   * socket started waiting.
   */
  moved(from: Socket | undefined, to: Socket): void {
    const since = from === undefined ? undefined : this.#waiting.get(from);
    if (from !== undefined) this.done(from);
    if (to.destroyed) return;
    this.#waiting.set(to, since ?? Date.now());
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /** The head arrived (or the socket closed). */
  done(socket: Socket): void {
    this.#waiting.delete(socket);
    if (this.#waiting.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * Destroys the waiting sockets `which` picks (at shutdown: the idle ones), and those
   * still in their TLS handshake (`node:http` has not seen them).
   */
  destroyWhere(which: (socket: Socket) => boolean): void {
    for (const socket of this.#waiting.keys()) {
      if (!which(socket) && !this.#handshaking(socket)) continue;
      this.done(socket);
      socket.destroy();
    }
  }

  #sweep(): void {
    // The previous sweep's cutting is still under way: it picks these up next time.
    if (this.#dueAt < this.#due.length) return;
    const limit = Date.now() - this.#timeoutMs;
    const due: Socket[] = [];
    for (const [socket, since] of this.#waiting) {
      if (socket.destroyed) this.done(socket);
      else if (since <= limit) {
        this.done(socket);
        due.push(socket);
      }
    }
    if (due.length === 0) return;
    this.#due = due;
    this.#dueAt = 0;
    this.#cutSlice();
  }

  #cutSlice(): void {
    const due = this.#due;
    const from = this.#dueAt;
    const stopAt = performance.now() + SLICE_MS;
    while (this.#dueAt < due.length) {
      this.#cut(due[this.#dueAt++]);
      if ((this.#dueAt & 15) === 0 && performance.now() >= stopAt) break;
    }
    // Whatever the peers do next (one that never reads holds the 408 back), the slice's
    // sockets are gone in a second: one timer for the slice.
    const slice = due.slice(from, this.#dueAt);
    setTimeout(() => {
      for (const socket of slice) socket.destroy();
    }, 1000).unref();
    if (this.#dueAt < due.length) setImmediate(() => this.#cutSlice());
    else this.#due = [];
  }

  #cut(socket: Socket): void {
    if (socket.destroyed) return;
    if (this.#handshaking(socket)) return void socket.destroy();
    if (socket.writable) socket.end(rawRefusal(REFUSALS.headTimeout));
    socket.destroySoon();
  }

  #handshaking(socket: Socket): boolean {
    return this.#secure && (socket as { encrypted?: boolean }).encrypted !== true;
  }
}

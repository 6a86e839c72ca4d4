/**
 * The head timeouts of wsx's engine on `Bun.listen` (`bun_listen.ts`): a connection that
 * sends no complete request head within `handshakeTimeoutMs` gets a 408 and is closed
 * (slowloris); on a TLS listener the clock starts at the TCP accept, and a connection
 * still in its TLS handshake is cut off without an answer (plain text would mean nothing
 * to a TLS client). Every connection of a server waits as long, so their deadlines fall due
 * in the order they opened: one queue in that order and one shared timer, with no map
 * entry, listener or timer per connection. A head that arrives only clears the socket's
 * `awaitingHead` flag; the next sweep drops it from the queue.
 *
 * @module
 */

import { rawRefusal, REFUSALS } from "../core/protocol/responses.ts";
import type { ListenSocket } from "./bun_listen_socket.ts";
import { endThenDestroy } from "./node_http.ts";

// How often the queue is swept: a late head is found within this long.
const SWEEP_MS = 250;
// The most connections cut in one turn of the event loop; the rest follow a millisecond
// later, and so on (thousands cut in one turn would stall the established ones).
const CUTS_PER_SLICE = 64;
const REFUSAL = rawRefusal(REFUSALS.headTimeout);

/**
 * The connections of one `Bun.listen` server that wait for their request head.
 *
 * @example
 * ```ts
 * import { HeadQueue } from "./bun_listen_heads.ts";
 * const heads = new HeadQueue(10_000);
 * ```
 */
export class HeadQueue {
  readonly #timeoutMs: number;
  // Sockets in the order they started waiting, with their deadlines; those before
  // #at are done.
  #sockets: ListenSocket[] = [];
  #deadlines: number[] = [];
  #at = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param timeoutMs How long a head may take, in ms. */
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /**
   * A new connection waits for its head: cut unless `socket.awaitingHead` is cleared
   * within the timeout.
   *
   * @param socket The connection.
   */
  waiting(socket: ListenSocket): void {
    socket.awaitingHead = true;
    this.#sockets.push(socket);
    this.#deadlines.push(Date.now() + this.#timeoutMs);
    // Stopped by a sweep that finds the queue empty, not when a head arrives: a server
    // taking one connection at a time would start and stop it for each.
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      (this.#timer as { unref?(): void }).unref?.();
    }
  }

  #sweep(): void {
    const sockets = this.#sockets, deadlines = this.#deadlines, now = Date.now();
    let at = this.#at, cuts = 0;
    for (; at < sockets.length; at++) {
      const socket = sockets[at];
      if (!socket.awaitingHead || socket.destroyed) continue;
      if (deadlines[at] > now || cuts === CUTS_PER_SLICE) break;
      cuts++;
      socket.awaitingHead = false;
      // Bun's end() of a TLS socket mid-handshake would wait for the handshake.
      if (socket.handshaking) socket.destroy();
      else endThenDestroy(socket as never, REFUSAL);
    }
    if (at === sockets.length) {
      this.#sockets = [];
      this.#deadlines = [];
      this.#at = 0;
      clearInterval(this.#timer);
      this.#timer = undefined;
    } else if (at > 1024 && at * 2 > sockets.length) {
      // The done front goes, so that a server never idle keeps no socket it is done with.
      this.#sockets = sockets.slice(at);
      this.#deadlines = deadlines.slice(at);
      this.#at = 0;
    } else this.#at = at;
    // More were due than one slice cuts: the next slice soon.
    if (cuts === CUTS_PER_SLICE) {
      const next = setTimeout(() => this.#sweep(), 1);
      (next as { unref?(): void }).unref?.();
    }
  }
}

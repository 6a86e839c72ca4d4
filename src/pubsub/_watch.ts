/**
 * Liveness of one Redis connection. Neither of ioredis's timeouts is enough against a
 * hung Redis (the process stopped, its TCP connection still open): `commandTimeout`
 * rejects a command but keeps its bytes queued for the socket, and `socketTimeout` arms
 * only while a command is pending, so an idle subscriber would wait for ever. The engine
 * therefore counts what each connection waits for, pings it when idle, and rebuilds it
 * when Redis has answered nothing for `timeoutMs` while something was pending.
 *
 * @module
 */

/** What a connection needs now. */
export type WatchState = "ok" | "ping" | "hung";

/** The commands a connection waits for, and since when it waits. */
export class Watch {
  /** Commands sent and not answered yet. */
  pending = 0;
  /** Bytes of the publishes among them. */
  bytes = 0;
  /** Publishes among them. */
  publishes = 0;
  // When Redis last answered (or the wait began); a pending command older than
  // timeoutMs with no answer since means a hung connection.
  #since = Date.now();

  /** Counts `promise` as pending until it settles; returns a promise of the same outcome. */
  track<T>(promise: Promise<T>, bytes = 0): Promise<T> {
    if (this.pending === 0) this.#since = Date.now();
    this.pending++;
    this.bytes += bytes;
    if (bytes > 0) this.publishes++;
    const done = () => {
      this.pending--;
      this.bytes -= bytes;
      if (bytes > 0) this.publishes--;
      this.#since = Date.now();
    };
    return promise.then((value) => {
      done();
      return value;
    }, (error) => {
      done();
      throw error;
    });
  }

  /** Redis sent something (a message to the subscriber): it is alive. */
  heard(): void {
    this.#since = Date.now();
  }

  /** A fresh start (a new connection). */
  reset(): void {
    this.#since = Date.now();
  }

  /**
   * `"hung"` when a command waited `timeoutMs` with no answer since, `"ping"` when the
   * connection was silent for half of it with nothing pending, `"ok"` otherwise.
   */
  state(now: number, timeoutMs: number): WatchState {
    const silent = now - this.#since;
    if (this.pending > 0) return silent >= timeoutMs ? "hung" : "ok";
    return silent >= timeoutMs / 2 ? "ping" : "ok";
  }
}

/**
 * Liveness of one Redis connection. Neither of ioredis's timeouts is enough against a
 * hung Redis (the process stopped, its TCP connection still open): `commandTimeout`
 * rejects a command but keeps its bytes queued for the socket, and `socketTimeout` arms
 * only while a command is pending, so an idle subscriber would wait for ever. The engine
 * therefore counts what each connection waits for, pings it when idle, and rebuilds it
 * when its oldest command has waited `timeoutMs` (so that every publish is answered or
 * failed within about `timeoutMs`, even from a Redis that answers, but too slowly).
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
  // When Redis last sent anything (or the connection began): an idle connection is
  // pinged once it has been silent for half of timeoutMs.
  #since = Date.now();
  // When each pending command was sent, oldest first from #head. Redis answers in order,
  // so each answer retires the oldest.
  #sent: number[] = [];
  #head = 0;

  /** Counts `promise` as pending until it settles; returns a promise of the same outcome. */
  track<T>(promise: Promise<T>, bytes = 0): Promise<T> {
    this.#sent.push(Date.now());
    this.pending++;
    this.bytes += bytes;
    if (bytes > 0) this.publishes++;
    const done = () => {
      this.#retire();
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

  #retire(): void {
    this.#head++;
    if (this.#head === this.#sent.length) {
      this.#sent = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#sent.length) {
      this.#sent = this.#sent.slice(this.#head);
      this.#head = 0;
    }
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
   * `"hung"` when the oldest pending command waited `timeoutMs`, `"ping"` when the
   * connection was silent for half of it with nothing pending, `"ok"` otherwise.
   */
  state(now: number, timeoutMs: number): WatchState {
    if (this.pending > 0) return now - this.#sent[this.#head] >= timeoutMs ? "hung" : "ok";
    return now - this.#since >= timeoutMs / 2 ? "ping" : "ok";
  }
}

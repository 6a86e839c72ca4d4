/**
 * A connection's liveness: when its peer was last heard from, the ping after `timeout`
 * seconds of silence, the close when no frame follows within `pongTimeout`, and the
 * round trip of the last answered ping. The shared heartbeat (`heartbeat.ts`) drives it;
 * no connection owns a timer.
 *
 * @module
 */

import { DRAIN_WANTED, DriverBase, HEARD, OPEN } from "./driver_base.ts";
import type { Heartbeat } from "./heartbeat.ts";

/**
 * The liveness layer of a connection driver (`driver.ts`).
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import { HeartbeatDriver } from "./driver_heartbeat.ts";
 * import { ConnectionDriver } from "./driver.ts";
 * console.log(ConnectionDriver.prototype instanceof HeartbeatDriver); // true
 * ```
 */
export abstract class HeartbeatDriver<U = unknown> extends DriverBase<U> {
  // Times relative to captured.origin, small integers kept in the fields themselves
  // (see #since). They start undefined so that V8 keeps the fields tagged: a value out
  // of small-integer range, if a connection ever lives that long, is then one heap
  // number of that connection, not a boxed field in every connection.
  #lastHeard: number | undefined = undefined; // set when the connection opens
  #pingSent: number | undefined = undefined; // while a ping is unanswered
  #pingRoundTripMs: number | undefined = undefined;

  /** Round trip of the last answered ping in ms, or undefined. */
  get pingRoundTripMs(): number | undefined {
    return this.#pingRoundTripMs;
  }

  /** When the peer was last heard from (ms since the epoch, precise to about a second). */
  get lastHeardAt(): number {
    const captured = this.captured;
    if (this.flags & HEARD) return captured.heartbeat.now();
    return this.#lastHeard === undefined ? 0 : captured.origin + this.#lastHeard;
  }

  /** The timeout in seconds this connection captured when it opened. */
  get timeoutSeconds(): number {
    return this.captured.timeoutMs / 1000;
  }

  /** Any inbound frame arrived. */
  heard(): void {
    this.flags |= HEARD;
  }

  /** A pong arrived. */
  pong(): void {
    this.flags |= HEARD;
    if (this.#pingSent === undefined) return;
    this.#pingRoundTripMs = this.#since(this.captured.heartbeat.now()) - this.#pingSent;
  }

  /** The connection opened: its silence counts from now, and the heartbeat visits it. */
  protected startHeartbeat(): void {
    const heartbeat = this.captured.heartbeat;
    this.#lastHeard = this.#since(heartbeat.now());
    heartbeat.add(this);
  }

  /** The connection is gone: the heartbeat forgets it. */
  protected stopHeartbeat(): void {
    this.captured.heartbeat.remove(this);
  }

  /** Visited by the heartbeat about once a second. */
  tick(now: number, from: Heartbeat): void {
    // The process-wide heartbeat visits every registered driver, also those a test gave
    // a heartbeat of their own.
    if (from !== this.captured.heartbeat) return;
    // Runtimes without a drain event (Deno) are polled here.
    if (this.flags & DRAIN_WANTED && this.transport.bufferedAmount === 0) this.drain();
    // Reading paused for a stream's reader is no silent peer (for streamTimeout at most).
    if (this.rare?.streams?.holdsReading(now)) this.flags |= HEARD;
    const captured = this.captured, at = this.#since(now);
    if (this.flags & HEARD) {
      this.flags &= ~HEARD;
      this.#lastHeard = at;
      this.#pingSent = undefined;
      return;
    }
    if (this.state !== OPEN || captured.timeoutMs === 0) return;
    if (!this.transport.capabilities.ping) return;
    if (this.#pingSent === undefined) {
      if (at - this.#lastHeard! >= captured.timeoutMs) {
        this.#pingSent = at;
        this.transport.ping();
      }
    } else if (at - this.#pingSent >= captured.pongTimeoutMs) {
      this.fail("ping-timeout");
    }
  }

  // Math.floor gives a small integer where the difference of two epoch times (doubles)
  // would be a new heap number.
  #since(now: number): number {
    return Math.floor(now - this.captured.origin);
  }
}

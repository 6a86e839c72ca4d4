/**
 * A connection's liveness: when its peer was last heard from, the ping after `timeout`
 * seconds of silence, the close when no frame follows within `pongTimeout`, and the
 * round trip of the last answered ping. The shared heartbeat (`heartbeat.ts`) drives it;
 * no connection owns a timer, and the heartbeat visits a connection only at the beats it
 * asks for: when its silence may reach the timeout, when its ping's answer is due, and
 * every beat while it waits for a drain or holds reading for a stream's reader.
 *
 * @module
 */

import { DRAIN_WANTED, DriverBase, OPEN } from "./driver_base.ts";

// No beat: not heard since open, no ping unanswered, not in a bucket of the heartbeat.
const NONE = -1;

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
  #openedAt: number | undefined = undefined;
  #pingSent: number | undefined = undefined; // until the first pong after a ping
  #pingRoundTripMs: number | undefined = undefined;
  // Beats of the heartbeat (whole seconds, small integers for decades). A frame records
  // the beat it came in: one store, no clock read per frame.
  #heard = NONE; // the beat of the last frame
  #pingBeat = NONE; // the beat of the ping not answered yet
  #due = NONE; // the beat the heartbeat visits this connection next

  /** Round trip of the last answered ping in ms, or undefined. */
  get pingRoundTripMs(): number | undefined {
    return this.#pingRoundTripMs;
  }

  /** When the peer was last heard from (ms since the epoch, precise to about a second). */
  get lastHeardAt(): number {
    const captured = this.captured, heart = captured.heartbeat, heard = this.#heard;
    if (heard === NONE) return this.#openedAt === undefined ? 0 : captured.origin + this.#openedAt;
    // Heard since the latest tick: now; else at the tick after the frame.
    if (heard >= heart.beat) return heart.now();
    return heart.tickAt - (heart.beat - heard - 1) * heart.intervalMs;
  }

  /** The timeout in seconds this connection captured when it opened. */
  get timeoutSeconds(): number {
    return this.captured.timeoutMs / 1000;
  }

  /** Any inbound frame arrived. */
  heard(): void {
    this.#heard = this.captured.heartbeat.beat;
  }

  /** A pong arrived. */
  pong(): void {
    const heart = this.captured.heartbeat;
    this.#heard = heart.beat;
    if (this.#pingSent === undefined) return;
    this.#pingRoundTripMs = this.#since(heart.now()) - this.#pingSent;
    this.#pingSent = undefined;
  }

  /** Reading stopped for a stream's reader: checked every beat (streamTimeout). */
  readingHeld(): void {
    if (this.state === OPEN) this.#visitAt(this.captured.heartbeat.beat + 1);
  }

  /** A write was queued or dropped: onDrain is due (polled where no drain event comes). */
  protected wantDrain(): void {
    if (this.flags & DRAIN_WANTED) return;
    this.flags |= DRAIN_WANTED;
    if (this.state === OPEN) this.#visitAt(this.captured.heartbeat.beat + 1);
  }

  /** The connection opened: its silence counts from now. */
  protected startHeartbeat(): void {
    const heart = this.captured.heartbeat;
    this.#openedAt = this.#since(heart.now());
    heart.pin(); // the tick runs while any connection is open
    if (this.#pings()) this.#visitAt(this.#silenceEnds());
  }

  /** The connection is gone: the heartbeat forgets it. */
  protected stopHeartbeat(): void {
    const heart = this.captured.heartbeat;
    if (this.#due !== NONE) heart.unschedule(this, this.#due);
    this.#due = NONE;
    heart.unpin();
  }

  /** Visited by the heartbeat at the beat this connection asked for. */
  tick(now: number): void {
    this.#due = NONE; // the heartbeat let go of it
    if (this.state !== OPEN) return;
    try {
      this.#look(now);
    } catch (error) {
      // A ping or a drain that throws must not leave the connection without a heartbeat
      // (the wheel reports the error).
      if (this.state === OPEN && this.#due === NONE) {
        this.#visitAt(this.captured.heartbeat.beat + 1);
      }
      throw error;
    }
  }

  #look(now: number): void {
    const beat = this.captured.heartbeat.beat;
    let next = Infinity;
    // Runtimes without a drain event (Deno) are polled here.
    if (this.flags & DRAIN_WANTED) {
      if (this.transport.bufferedAmount === 0) this.drain();
      if (this.flags & DRAIN_WANTED) next = beat + 1;
    }
    // Reading paused for a stream's reader is no silent peer (for streamTimeout at most).
    if (this.rare?.streams?.holdsReading(now)) {
      this.#heard = beat;
      next = beat + 1;
    }
    if (this.state === OPEN && this.#pings()) next = Math.min(next, this.#checkSilence(now, beat));
    if (next !== Infinity && this.state === OPEN) this.#visitAt(next);
  }

  // Pings or closes a silent peer; returns the next beat that needs a look.
  #checkSilence(now: number, beat: number): number {
    const captured = this.captured, heart = captured.heartbeat;
    const pongBeats = heart.beats(captured.pongTimeoutMs);
    // A peer heard from in this beat or later is due for its next ping no sooner than
    // this, so the next look comes then at the latest.
    const earliestPing = beat + 1 + heart.beats(captured.timeoutMs);
    if (this.#pingBeat !== NONE) {
      if (this.#heard < this.#pingBeat) {
        const deadline = this.#pingBeat + pongBeats;
        if (beat < deadline) return Math.min(deadline, earliestPing);
        this.fail("ping-timeout");
        return Infinity;
      }
      this.#pingBeat = NONE; // any frame after the ping answers it
      this.#pingSent = undefined;
    }
    const due = this.#silenceEnds();
    if (beat < due) return due;
    this.#pingBeat = beat;
    this.#pingSent = this.#since(now);
    this.transport.ping();
    return Math.min(beat + pongBeats, earliestPing);
  }

  // The first beat at which the silence reaches the timeout: `timeout` after the open,
  // or after the tick that followed the last frame.
  #silenceEnds(): number {
    const captured = this.captured, heart = captured.heartbeat;
    if (this.#heard === NONE) {
      return heart.beatAt(captured.origin + this.#openedAt! + captured.timeoutMs);
    }
    return this.#heard + 1 + heart.beats(captured.timeoutMs);
  }

  #pings(): boolean {
    return this.captured.timeoutMs > 0 && this.transport.capabilities.ping;
  }

  // Asks for a visit at `beat` unless one comes sooner.
  #visitAt(beat: number): void {
    const heart = this.captured.heartbeat;
    if (this.#due !== NONE) {
      if (this.#due <= beat) return;
      heart.unschedule(this, this.#due);
    }
    this.#due = heart.schedule(this, beat);
  }

  // Math.floor gives a small integer where the difference of two epoch times (doubles)
  // would be a new heap number.
  #since(now: number): number {
    return Math.floor(now - this.captured.origin);
  }
}

/**
 * The deadlines of one server's HTTP/1.1 connections (a head, a body, a kept-alive idle
 * wait, a linger after the end), all on one timing wheel (`core/wheel.ts`): no timer per
 * connection (issue 16), and the connections that fall due in the same beat are cut in
 * slices that leave the event loop to the others.
 *
 * A connection moves its deadline on every request; the wheel is touched only when the
 * new deadline comes before the beat it waits in. Otherwise the deadline is just
 * written down, and when its beat comes a deadline found later (or cleared) is put back
 * (or let go): a kept-alive connection answering requests back to back costs a field
 * write per request, not a bucket insert and delete.
 *
 * @module
 */

import { type Clock, systemClock } from "../core/clock.ts";
import { Wheel } from "../core/wheel.ts";

// How far apart the beats are: a deadline is met within this long after its time.
const BEAT_MS = 250;

/**
 * The wheel of one server's connections.
 *
 * @example
 * ```ts
 * import { Deadline, Http1Timers } from "./http1_timers.ts";
 * const timers = new Http1Timers();
 * const deadline = new Deadline(timers);
 * deadline.set(5000, () => console.log("late"));
 * deadline.stop();
 * ```
 */
export class Http1Timers {
  /** The wheel (its items are the connections' deadlines). */
  readonly wheel: Wheel<Deadline>;

  /**
   * @param clock The time source. @default {systemClock}
   * @param beatMs Milliseconds between beats. @default {250}
   */
  constructor(clock: Clock = systemClock, beatMs: number = BEAT_MS) {
    this.wheel = new Wheel<Deadline>(clock, (deadline) => deadline.due(), {
      intervalMs: beatMs,
    });
  }

  /** How many deadlines wait in the wheel (cleared ones included, until their beat). */
  get size(): number {
    return this.wheel.size;
  }
}

/**
 * One connection's deadline: at most one at a time, each new one replacing the last.
 *
 * @example
 * ```ts
 * import { Deadline, Http1Timers } from "./http1_timers.ts";
 * const deadline = new Deadline(new Http1Timers());
 * deadline.set(10_000, () => console.log("the head is late"));
 * deadline.clear();
 * ```
 */
export class Deadline {
  readonly #wheel: Wheel<Deadline>;
  // When it falls due (the clock's time), 0 when cleared.
  #at = 0;
  #fn: (() => void) | undefined;
  // The beat whose bucket holds it, -1 when in none.
  #beat = -1;

  /** @param timers The server's wheel. */
  constructor(timers: Http1Timers) {
    this.#wheel = timers.wheel;
  }

  /**
   * Runs `fn` once `ms` have passed (within a beat after), unless set again or cleared
   * before.
   *
   * @param ms The delay.
   * @param fn What to run then.
   */
  set(ms: number, fn: () => void): void {
    const wheel = this.#wheel;
    const at = wheel.now() + ms;
    this.#at = at;
    this.#fn = fn;
    if (this.#beat >= 0) {
      // In the wheel for this time or before: its beat will find the new time.
      if (this.#beat <= wheel.beatAt(at)) return;
      wheel.unschedule(this, this.#beat);
    }
    // scheduleAt: a wheel that stopped when it emptied starts again first, its beats
    // aligned with the new timer.
    this.#beat = wheel.scheduleAt(this, at);
  }

  /** Nothing falls due (it leaves the wheel at its beat, or at {@linkcode Deadline.stop}). */
  clear(): void {
    this.#at = 0;
    this.#fn = undefined;
  }

  /** Clears it and leaves the wheel now: the connection is gone. */
  stop(): void {
    this.clear();
    if (this.#beat < 0) return;
    this.#wheel.unschedule(this, this.#beat);
    this.#beat = -1;
  }

  /** Its beat came (called by the wheel, which has let go of it). */
  due(): void {
    this.#beat = -1;
    if (this.#at === 0) return;
    const wheel = this.#wheel;
    const beat = wheel.beatAt(this.#at);
    // Moved later since it was put in: back in, for its new beat.
    if (beat > wheel.beat) return void (this.#beat = wheel.schedule(this, beat));
    const fn = this.#fn as () => void;
    this.clear();
    fn();
  }
}

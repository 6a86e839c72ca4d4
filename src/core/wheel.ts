/**
 * A timing wheel keyed by beats of about a second: one fuzzy timer for any number of
 * deadlines, none of its own per item. An item waits in the bucket of the beat it falls
 * due in; each tick visits only the buckets that came due, so a tick costs what is due,
 * not what is waiting. The visits are sliced: a few milliseconds of them, then the event
 * loop runs, then the next slice, so that thousands of items falling due in the same
 * beat never stall established connections. The heartbeat (`heartbeat.ts`) and the
 * engine's close timeouts are wheels.
 *
 * @module
 */

import { type Clock, yieldLoop } from "./clock.ts";
import { reportError } from "./report.ts";
import { type PaceOptions, SlicePace } from "./slice_pace.ts";

/**
 * How a {@linkcode Wheel} ticks.
 *
 * @example
 * ```ts
 * import type { WheelOptions } from "./wheel.ts";
 * const options: WheelOptions = { intervalMs: 1000, sliceMs: 1 };
 * ```
 */
export interface WheelOptions extends PaceOptions {
  /** Milliseconds between beats. @default {1000} */
  readonly intervalMs?: number;
  /**
   * Runs the next slice after the event loop had a turn, its pending I/O included.
   * @default {yieldLoop (clock.ts)}
   */
  readonly defer?: (fn: () => void) => void;
}

/**
 * Called for an item whose beat came: the wheel has already let go of it.
 *
 * @typeParam T The item type.
 * @example
 * ```ts
 * import type { Visit } from "./wheel.ts";
 * const visit: Visit<string> = (item, now) => console.log(item, now);
 * ```
 */
export type Visit<T extends NonNullable<unknown>> = (item: T, now: number, wheel: Wheel<T>) => void;

// A timer may fire a little before its time by the clock (Node.js times its timers on
// its own loop clock, Date.now() is another): a tick this close to the next beat counts
// as that beat, so that a beat is not missed for a millisecond.
const EARLY_MS = 5;

/**
 * The wheel. Its timer runs while it holds items or is pinned (`pin`), unreferenced by
 * the clock where the runtime allows it.
 *
 * @typeParam T The item type; an item is in at most one bucket at a time.
 * @example One deadline
 * ```ts
 * import { Wheel } from "./wheel.ts";
 * import { systemClock } from "./clock.ts";
 * const wheel = new Wheel<string>(systemClock, (item) => console.log(item, "is due"));
 * const beat = wheel.scheduleAt("close", Date.now() + 5000);
 * wheel.unschedule("close", beat); // no longer due
 * ```
 */
export class Wheel<T extends NonNullable<unknown>> {
  readonly #clock: Clock;
  readonly #visit: Visit<T>;
  readonly #intervalMs: number;
  readonly #pace: SlicePace;
  readonly #defer: (fn: () => void) => void;
  // Items by the beat they fall due in.
  readonly #buckets = new Map<number, Set<T>>();
  #size = 0;
  #pins = 0;
  // Beat 0's time: beats are whole intervals after it, small integers for decades.
  #origin: number;
  #beat = 0; // the latest tick's beat: every bucket up to it is (being) visited
  #done = 0; // every bucket up to this one is visited
  #tickAt: number;
  #sweeping = false;
  #stop: (() => void) | undefined;

  /**
   * @param clock The time source and its one repeating timer.
   * @param visit Called for each item whose beat came.
   * @param options How it ticks.
   */
  constructor(clock: Clock, visit: Visit<T>, options: WheelOptions = {}) {
    this.#clock = clock;
    this.#visit = visit;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#pace = new SlicePace(options);
    this.#defer = options.defer ?? yieldLoop;
    this.#origin = this.#tickAt = clock.now();
  }

  /** The clock's current time. */
  now(): number {
    return this.#clock.now();
  }

  /** The beat of the latest tick. */
  get beat(): number {
    return this.#beat;
  }

  /** When the latest tick ran (the clock's time). */
  get tickAt(): number {
    return this.#tickAt;
  }

  /** Milliseconds between beats. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Whether a sweep of the items due is under way (its slices yield the loop between them). */
  get sweeping(): boolean {
    return this.#sweeping;
  }

  /** How many items wait. */
  get size(): number {
    return this.#size;
  }

  /**
   * The first beat whose tick comes at or after `time`.
   *
   * @param time A time of the clock.
   * @returns The beat.
   */
  beatAt(time: number): number {
    return Math.ceil((time - this.#origin) / this.#intervalMs);
  }

  /**
   * Adds an item to the bucket of `beat` (of the next beat, if that one already came).
   *
   * @param item The item, in no bucket now.
   * @param beat The beat it falls due in.
   * @returns The beat it was put in, for {@linkcode Wheel.unschedule}.
   */
  schedule(item: T, beat: number): number {
    if (beat <= this.#beat) beat = this.#beat + 1;
    let bucket = this.#buckets.get(beat);
    if (bucket === undefined) this.#buckets.set(beat, bucket = new Set());
    if (!bucket.has(item)) {
      bucket.add(item);
      this.#size++;
      this.#start();
    }
    return beat;
  }

  /**
   * Adds an item that falls due at a time of the clock: it is visited at that time or
   * within one interval after it (a tick may come a few milliseconds early).
   *
   * @param item The item, in no bucket now.
   * @param time When it falls due.
   * @returns The beat it was put in, for {@linkcode Wheel.unschedule}.
   */
  scheduleAt(item: T, time: number): number {
    // A wheel that starts afresh aligns its beats with its timer first.
    this.#start();
    return this.schedule(item, this.beatAt(time));
  }

  /**
   * Takes an item out of the bucket of `beat`, if it is there.
   *
   * @param item The item.
   * @param beat What {@linkcode Wheel.schedule} returned for it.
   */
  unschedule(item: T, beat: number): void {
    const bucket = this.#buckets.get(beat);
    if (bucket === undefined || !bucket.delete(item)) return;
    if (bucket.size === 0) this.#buckets.delete(beat);
    this.#size--;
    this.#idle();
  }

  /** Keeps the timer running without items (beats go on for those who read them). */
  pin(): void {
    this.#pins++;
    // Every connection pins at open: no call while the timer runs.
    if (this.#stop === undefined) this.#start();
  }

  /** Undoes one {@linkcode Wheel.pin}. */
  unpin(): void {
    if (this.#pins > 0) this.#pins--;
    this.#idle();
  }

  /** Visits what is due now, all at once (tests call it by hand; the timer slices). */
  tick(): void {
    this.#advance();
    const now = this.#clock.now();
    for (let item = this.#next(); item !== undefined; item = this.#next()) {
      this.#visitOne(item, now);
    }
    this.#idle();
  }

  #start(): void {
    if (this.#stop !== undefined) return;
    // The timer stops only when nothing waits and nobody reads the beats: a new timer
    // may start a new phase. Beat numbers stay monotonic, and each tick falls at the
    // start of its beat, so that an item is visited within one interval of its time.
    const now = this.#tickAt = this.#clock.now();
    this.#origin = now - this.#beat * this.#intervalMs;
    this.#stop = this.#clock.every(this.#intervalMs, () => this.#onTimer());
  }

  #idle(): void {
    if (this.#size > 0 || this.#pins > 0 || this.#stop === undefined) return;
    this.#stop();
    this.#stop = undefined;
  }

  #onTimer(): void {
    // A sweep still under way (a very large beat, a slow machine) finishes first; the
    // buckets that came meanwhile follow in the next tick.
    if (this.#sweeping) return;
    this.#advance();
    void this.#sweep();
  }

  #advance(): void {
    const now = this.#tickAt = this.#clock.now();
    const beat = Math.floor((now - this.#origin + EARLY_MS) / this.#intervalMs);
    if (beat > this.#beat) this.#beat = beat;
  }

  // Visits the buckets up to #beat in slices paced by `slice_pace.ts`. Every few visits
  // it lets the microtasks they queued run (the engine flushes the writes of a turn,
  // pings included, in one microtask), so that the slice's budget covers that work too;
  // past the budget, the event loop gets a turn before the next slice.
  async #sweep(): Promise<void> {
    this.#sweeping = true;
    const clock = this.#clock;
    const pace = this.#pace;
    let now = clock.now();
    pace.begin();
    try {
      for (let item = this.#next(); item !== undefined; item = this.#next()) {
        this.#visitOne(item, now);
        // The last item due ends the sweep in this turn, with no slice to yield for.
        if (!pace.visited() || !this.#hasDue()) continue;
        await undefined;
        if (!pace.over()) continue;
        pace.pause();
        await new Promise<void>((resolve) => this.#defer(resolve));
        pace.resume();
        now = clock.now();
      }
    } finally {
      this.#sweeping = false;
      this.#idle();
    }
  }

  // A visit that throws is reported, and the sweep goes on: one item's failure must not
  // stop the others' deadlines, nor end the process as an unhandled rejection.
  #visitOne(item: T, now: number): void {
    try {
      this.#visit(item, now, this);
    } catch (error) {
      reportError(error, "timer");
    }
  }

  // Whether an item waits in a bucket up to #beat, without taking it out.
  #hasDue(): boolean {
    for (let beat = this.#done + 1; beat <= this.#beat; beat++) {
      const bucket = this.#buckets.get(beat);
      if (bucket !== undefined && bucket.size > 0) return true;
    }
    return false;
  }

  // Takes the next item due out of its bucket; undefined once the buckets up to #beat
  // are visited.
  #next(): T | undefined {
    const buckets = this.#buckets;
    while (this.#done < this.#beat) {
      const beat = this.#done + 1;
      const bucket = buckets.get(beat);
      if (bucket !== undefined) {
        const first = bucket.values().next();
        if (!first.done) {
          bucket.delete(first.value);
          this.#size--;
          return first.value;
        }
        buckets.delete(beat);
      }
      this.#done = beat;
    }
    return undefined;
  }
}

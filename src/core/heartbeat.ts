/**
 * One shared tick of about a second drives the ping timers of every connection: no
 * connection owns a timer of its own. The tick is sliced: it visits connections for a
 * few milliseconds, lets the event loop run, and goes on where it stopped, so that
 * thousands of pings or ping timeouts falling due together never stall the loop.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

// The longest one slice of a tick may run before the event loop gets a turn, in ms.
const SLICE_MS = 2;

/**
 * Something the heartbeat visits on every tick.
 *
 * @example
 * ```ts
 * import type { Tickable } from "./heartbeat.ts";
 * const t: Tickable = { tick(now) { console.log(now); } };
 * ```
 */
export interface Tickable {
  /**
   * Called about once a second with the clock's time and the heartbeat that ticks (a
   * set shared with a registry may hold members of another heartbeat, which ignore it).
   */
  tick(now: number, from: Heartbeat): void;
}

/**
 * The shared tick. It runs only while it has members.
 *
 * @example
 * ```ts
 * import { Heartbeat } from "./heartbeat.ts";
 * import { systemClock } from "./clock.ts";
 * const beat = new Heartbeat(systemClock, 1000);
 * const member = { tick(now: number) { console.log(now); } };
 * beat.add(member);
 * beat.remove(member);
 * ```
 */
export class Heartbeat {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #members: Set<Tickable>;
  #stop: (() => void) | undefined;
  // Where a sliced tick stopped; undefined when no tick is under way.
  #cursor: Iterator<Tickable> | undefined;

  /**
   * @param clock The time source.
   * @param intervalMs Milliseconds between ticks.
   * @param members The set that holds the members; one that a registry fills too may be
   * shared, as long as a member is added to both and removed from both. @default {new Set()}
   */
  constructor(clock: Clock, intervalMs = 1000, members: Set<Tickable> = new Set()) {
    this.#clock = clock;
    this.#intervalMs = intervalMs;
    this.#members = members;
  }

  /** The clock's current time. */
  now(): number {
    return this.#clock.now();
  }

  /** Adds a member; the tick starts with the first. */
  add(member: Tickable): void {
    this.#members.add(member);
    if (this.#stop === undefined) {
      this.#stop = this.#clock.every(this.#intervalMs, () => this.#startSlices());
    }
  }

  /** Removes a member; the tick stops with the last. */
  remove(member: Tickable): void {
    this.#members.delete(member);
    if (this.#members.size === 0 && this.#stop !== undefined) {
      this.#stop();
      this.#stop = undefined;
    }
  }

  /** Visits every member once, at once (tests call it by hand; the interval slices). */
  tick(): void {
    const now = this.#clock.now();
    for (const member of this.#members) member.tick(now, this);
  }

  #startSlices(): void {
    // A tick still under way (a very large set, a slow machine) finishes first.
    if (this.#cursor !== undefined) return;
    this.#cursor = this.#members.values();
    this.#slice();
  }

  // A Set's iterator visits members added meanwhile and skips those removed.
  #slice(): void {
    const cursor = this.#cursor!;
    const now = this.#clock.now();
    for (let visited = 1;; visited++) {
      const next = cursor.next();
      if (next.done) {
        this.#cursor = undefined;
        return;
      }
      next.value.tick(now, this);
      if ((visited & 63) === 0 && this.#clock.now() - now >= SLICE_MS) break;
    }
    setTimeout(() => this.#slice(), 0);
  }
}

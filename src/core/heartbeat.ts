/**
 * One shared tick of about a second drives the ping timers of every connection: no
 * connection owns a timer of its own.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

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
      this.#stop = this.#clock.every(this.#intervalMs, () => this.tick());
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

  /** Visits every member once (the interval calls it; tests may call it by hand). */
  tick(): void {
    const now = this.#clock.now();
    for (const member of this.#members) member.tick(now, this);
  }
}

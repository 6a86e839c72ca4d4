/**
 * One shared tick of about a second drives the ping timers of every connection: no
 * connection owns a timer of its own. The heartbeat is a timing wheel (`wheel.ts`): a
 * connection waits in the bucket of the beat at which it may need a ping or a close
 * check, so a tick visits only the connections that fall due then, not every open one
 * (a connection with `timeout` 0 is never visited). Visits are sliced, so thousands of
 * pings or ping timeouts falling due together never stall the loop.
 *
 * @module
 */

import type { Clock } from "./clock.ts";
import { Wheel } from "./wheel.ts";

/**
 * Something the heartbeat visits when its beat comes.
 *
 * @example
 * ```ts
 * import type { Tickable } from "./heartbeat.ts";
 * const t: Tickable = { tick(now) { console.log(now); } };
 * ```
 */
export interface Tickable {
  /** Called with the clock's time when the beat it was scheduled for comes. */
  tick(now: number, from: Heartbeat): void;
}

const visit = (member: Tickable, now: number, wheel: Wheel<Tickable>): void =>
  member.tick(now, wheel as Heartbeat);

/**
 * The shared tick. Each open connection pins it ({@linkcode Wheel.pin}), so it runs while
 * any connection is open, whether or not one is due: its beats also time when each
 * connection was last heard from.
 *
 * @example
 * ```ts
 * import { Heartbeat } from "./heartbeat.ts";
 * import { systemClock } from "./clock.ts";
 * const beat = new Heartbeat(systemClock, 1000);
 * const member = { tick(now: number) { console.log(now); } };
 * beat.pin(); // a connection opened: the tick runs
 * beat.schedule(member, beat.beat + 5); // visited in about 5 s
 * beat.unschedule(member, beat.beat + 5);
 * beat.unpin(); // the last connection is gone: the tick stops
 * ```
 */
export class Heartbeat extends Wheel<Tickable> {
  /**
   * @param clock The time source.
   * @param intervalMs Milliseconds between ticks.
   */
  constructor(clock: Clock, intervalMs = 1000) {
    super(clock, visit, { intervalMs });
  }

  /**
   * How many beats span `ms` milliseconds, rounded up.
   *
   * @param ms A duration.
   * @returns The beats.
   */
  beats(ms: number): number {
    return Math.ceil(ms / this.intervalMs);
  }
}

/**
 * Time for the core, injectable so that tests can drive the heartbeat by hand.
 *
 * @module
 */

/**
 * A source of time and of one repeating callback.
 *
 * @example A clock driven by hand
 * ```ts
 * import type { Clock } from "./clock.ts";
 * let now = 0;
 * const fns: (() => void)[] = [];
 * const manual: Clock = { now: () => now, every: (_ms, fn) => { fns.push(fn); return () => {}; } };
 * now += 1000; fns.forEach((fn) => fn());
 * ```
 */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale. */
  now(): number;
  /** Calls `fn` about every `ms` milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

/**
 * The real clock: `Date.now()` and one `setInterval`, unreferenced where the runtime
 * allows it so that an idle tick never keeps the process alive.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const stop = systemClock.every(1000, () => console.log(systemClock.now()));
 * stop();
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const id: unknown = setInterval(fn, ms);
    const timer = id as { unref?: () => void };
    if (typeof timer === "object" && typeof timer.unref === "function") timer.unref();
    return () => clearInterval(id as number);
  },
};

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

/**
 * How the core yields the event loop for a turn in which pending I/O runs (a wheel's
 * sweep between two slices). A timer by default, which lets I/O in on every runtime;
 * an adapter that knows better sets it with {@linkcode setLoopYield}.
 */
let loopYield: (fn: () => void) => void = (fn) => void setTimeout(fn, 0);

/**
 * Runs `fn` after the event loop had a turn, its pending I/O included.
 *
 * @param fn What to run then.
 * @example
 * ```ts
 * import { yieldLoop } from "./clock.ts";
 * yieldLoop(() => console.log("the loop had a turn"));
 * ```
 */
export function yieldLoop(fn: () => void): void {
  loopYield(fn);
}

/**
 * Sets how {@linkcode yieldLoop} yields, for the whole process. Node.js and Bun run an
 * immediate in the loop's next turn, after its I/O, with no timer's minimum delay (and
 * a zero timer there may run in the same turn as the one that set it, with no I/O
 * between); Deno runs a chain of immediates before any I/O, so it keeps the timer.
 *
 * @param fn The yield, say `setImmediate`.
 * @example
 * ```ts
 * import { setLoopYield } from "./clock.ts";
 * setLoopYield((fn) => void setTimeout(fn, 0));
 * ```
 */
export function setLoopYield(fn: (fn: () => void) => void): void {
  loopYield = fn;
}

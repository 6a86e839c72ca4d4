/**
 * Telling an async handler's result apart: handlers may return a promise, or anything
 * with a `then` method (a thenable, as `await` accepts), and only then does wsx wait.
 *
 * @module
 */

/**
 * Whether a handler's result is a promise or another thenable.
 *
 * @param value What the handler returned.
 * @returns `true` when `value` has a callable `then`.
 *
 * @example
 * ```ts
 * import { isThenable } from "./thenable.ts";
 * console.log(isThenable(Promise.resolve(1))); // true
 * console.log(isThenable({ then() {} })); // true
 * console.log(isThenable(undefined)); // false
 * ```
 */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}

/**
 * Where errors thrown by user callbacks go: one replaceable reporter, so that nothing a
 * handler does can crash the process.
 *
 * @module
 */

/**
 * Receives an error thrown by a user callback, with the name of the callback.
 *
 * @example
 * ```ts
 * import type { ErrorReporter } from "./report.ts";
 * const quiet: ErrorReporter = (_error, _where) => {};
 * ```
 */
export type ErrorReporter = (error: unknown, where: string) => void;

const consoleReporter: ErrorReporter = (error, where) => {
  console.error(`wsx: ${where} threw:`, error);
};

let current: ErrorReporter = consoleReporter;

/**
 * Replaces the error reporter; `undefined` restores the default, which logs to the console.
 *
 * @param reporter The new reporter.
 * @example
 * ```ts
 * import { setErrorReporter } from "./report.ts";
 * setErrorReporter((error, where) => console.warn(where, error));
 * ```
 */
export function setErrorReporter(reporter: ErrorReporter | undefined): void {
  current = reporter ?? consoleReporter;
}

/**
 * Reports an error without ever throwing.
 *
 * @param error What was thrown.
 * @param where The callback that threw.
 * @example
 * ```ts
 * import { reportError } from "./report.ts";
 * reportError(new Error("boom"), "onMessage");
 * ```
 */
export function reportError(error: unknown, where: string): void {
  try {
    current(error, where);
  } catch {
    // A reporter that throws must not take the process down either.
  }
}

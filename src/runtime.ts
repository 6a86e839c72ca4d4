/**
 * The one place wsx tells the runtimes apart, for the runtime-neutral `serve()`.
 * Prefer the explicit entry points (`@wsx/wsx/deno`, `@wsx/wsx/bun`, `@wsx/wsx/node`) in applications.
 *
 * @module
 */

/**
 * A runtime wsx runs on.
 *
 * @example
 * ```ts
 * import type { RuntimeName } from "./runtime.ts";
 * const r: RuntimeName = "deno";
 * ```
 */
export type RuntimeName = "deno" | "bun" | "node";

interface RuntimeGlobals {
  Deno?: { version?: { deno?: unknown } };
  Bun?: { version?: unknown };
  process?: { versions?: { node?: unknown } };
}

/**
 * Which runtime this is. Deno and Bun also expose Node's `process`, so they are asked first.
 *
 * @param globals The global object to look at (tests pass their own).
 * @returns The runtime.
 * @throws {TypeError} On any other runtime.
 * @example
 * ```ts
 * import { detectRuntime } from "./runtime.ts";
 * console.log(detectRuntime());
 * ```
 */
export function detectRuntime(globals: unknown = globalThis): RuntimeName {
  const g = globals as RuntimeGlobals;
  if (typeof g.Deno?.version?.deno === "string") return "deno";
  if (typeof g.Bun?.version === "string") return "bun";
  if (typeof g.process?.versions?.node === "string") return "node";
  throw new TypeError("Unsupported runtime: expected Deno, Bun or Node.js");
}

/**
 * The one place wsx tells the runtimes apart, for the runtime-neutral `serve()`.
 * Prefer the explicit entry points (`@wsx/wsx/deno`, `@wsx/wsx/bun`, `@wsx/wsx/node`) in applications.
 *
 * @module
 */

import { setLoopYield } from "./core/clock.ts";

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

/**
 * The oldest Deno and Bun versions wsx runs on: the release lines its test suite runs
 * (package.json's devDependencies). wsx's engine relies on their `node:http` upgrade
 * event handing over real `node:net` sockets, on `node:http`'s request-head limits and
 * on `node:cluster` workers sharing a port, which older lines did not all provide.
 *
 * @example
 * ```ts
 * import { MIN_VERSIONS } from "./runtime.ts";
 * console.log(MIN_VERSIONS.deno); // "2.9.0"
 * ```
 */
export const MIN_VERSIONS: Readonly<Record<"deno" | "bun", string>> = Object.freeze({
  deno: "2.9.0",
  bun: "1.4.0",
});

function atLeast(version: string, floor: string): boolean {
  const have = version.split(/[.+-]/, 3).map(Number);
  const need = floor.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] || 0) !== need[i]) return (have[i] || 0) > need[i];
  }
  return true;
}

/**
 * Throws when this is a Deno or Bun older than {@linkcode MIN_VERSIONS}.
 *
 * @param globals The global object to look at (tests pass their own).
 * @throws {Error} Naming the runtime, its version and the one needed.
 * @example
 * ```ts
 * import { checkRuntimeVersion } from "./runtime.ts";
 * checkRuntimeVersion(); // passes on a supported runtime
 * ```
 */
export function checkRuntimeVersion(globals: unknown = globalThis): void {
  const runtime = detectRuntime(globals);
  if (runtime === "node") return;
  const g = globals as RuntimeGlobals;
  const version = String(runtime === "deno" ? g.Deno?.version?.deno : g.Bun?.version);
  const floor = MIN_VERSIONS[runtime];
  if (!atLeast(version, floor)) {
    const name = runtime === "deno" ? "Deno" : "Bun";
    throw new Error(`Cannot serve on ${name} ${version}: wsx needs ${name} ${floor} or later`);
  }
}

// The core's loop yield (`yieldLoop` in core/clock.ts), set for this runtime as soon as
// any adapter loads: an immediate on Node.js and Bun (a turn after the pending I/O, no
// timer's minimum delay); Deno keeps the core's timer, as a chain of its immediates
// runs before any I/O.
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
if (typeof immediate === "function" && (globalThis as RuntimeGlobals).Deno === undefined) {
  setLoopYield((fn) => void immediate(fn));
}

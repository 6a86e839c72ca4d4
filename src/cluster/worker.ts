/**
 * How a process started by `serve({ processes })` knows it is one: the environment
 * variable `WSX_WORKER` holds its place, `index/processes` on Node.js (node:cluster
 * shares the port and the IPC channel) and `index/processes/port/control/token` on Bun
 * and Deno (the port to listen on with `reusePort`, the first process's control port on
 * 127.0.0.1 and the token to show there).
 *
 * @module
 */

import type { ProcessInfo } from "../core/server.ts";

/** The environment variable that marks a worker process. */
export const WORKER_ENV = "WSX_WORKER";

/** A worker's place, read from {@linkcode WORKER_ENV}. */
export interface WorkerPlace extends ProcessInfo {
  /** The port to listen on (Bun, Deno). */
  readonly port: number;
  /** The first process's control port on 127.0.0.1 (Bun, Deno). */
  readonly control: number;
  /** The token to present on the control connection (Bun, Deno). */
  readonly token: string;
}

/**
 * Reads a worker's place.
 *
 * @param value The variable's value.
 * @param processes The `processes` option this process was given.
 * @returns The place.
 * @throws {Error} When the value is not one wsx wrote, or the option differs.
 */
export function parseWorker(value: string, processes: number): WorkerPlace {
  const [index, count, port = 0, control = 0] = value.split("/", 4).map(Number);
  const token = value.split("/")[4] ?? "";
  if (!(index >= 1 && index <= count && count === processes)) {
    throw new Error(
      `Cannot serve as a worker: ${WORKER_ENV}="${value}" does not match "processes": ${processes}`,
    );
  }
  return { role: "worker", index, processes, port, control, token };
}

/**
 * The place of the first process of a multi-process server.
 *
 * @param processes How many processes serve.
 * @returns The primary's place.
 */
export function primaryPlace(processes: number): ProcessInfo {
  return Object.freeze({ role: "primary", index: 0, processes });
}

/** Reads and removes environment variables (so that a worker's own children do not inherit the mark). */
export interface EnvAccess {
  get(name: string): string | undefined;
  delete(name: string): void;
}

/**
 * This process's place when it is a worker, read from {@linkcode WORKER_ENV} (and
 * removed from the environment).
 *
 * @param env The environment.
 * @param processes The `processes` option.
 * @returns The place, or undefined in the first process.
 */
export function workerFrom(env: EnvAccess, processes: number): WorkerPlace | undefined {
  const value = env.get(WORKER_ENV);
  if (value === undefined) return undefined;
  env.delete(WORKER_ENV);
  return parseWorker(value, processes);
}

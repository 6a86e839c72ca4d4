/**
 * How Bun and Deno start a copy of the running program for `serve({ processes })`,
 * with the runtime APIs declared as small local interfaces.
 *
 * @module
 */

import type { Spawn, SpawnedCopy } from "./copies.ts";
import { WORKER_ENV } from "./worker.ts";

interface BunChild {
  readonly exited: Promise<number>;
  kill(signal?: number): void;
}

interface BunGlobals {
  Bun: {
    spawn(options: {
      cmd: string[];
      env: Record<string, string | undefined>;
      stdin: "ignore";
      stdout: "inherit";
      stderr: "inherit";
    }): BunChild;
  };
  process: {
    execPath: string;
    execArgv: string[];
    argv: string[];
    env: Record<string, string | undefined>;
    platform: string;
  };
}

function needsLinux(os: string, processes: number): void {
  if (os !== "linux") {
    throw new Error(
      `Cannot serve "processes": ${processes} on ${os}: reusePort spreads connections on Linux only`,
    );
  }
}

/**
 * Bun: the same executable, flags, entry script and arguments (`process.argv`).
 *
 * @param processes The `processes` option, for messages.
 * @returns How to start a copy.
 */
export function bunSpawn(processes: number): Spawn {
  const { Bun, process } = globalThis as unknown as BunGlobals;
  needsLinux(process.platform, processes);
  return (env) => {
    const child = Bun.spawn({
      cmd: [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      env: { ...process.env, ...env },
      stdin: "ignore",
      stdout: "inherit",
      stderr: "inherit",
    });
    return { exited: child.exited, kill: () => child.kill(9) };
  };
}

type PermissionName = "read" | "write" | "net" | "env" | "sys" | "run" | "ffi" | "import";
const PERMISSIONS: readonly PermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
  "import",
];

interface DenoGlobals {
  Deno: {
    execPath(): string;
    readonly mainModule: string;
    readonly args: readonly string[];
    readonly build: { readonly os: string };
    permissions: {
      querySync(descriptor: { name: string; command?: string }): { state: string };
    };
    Command: new (command: string, options: {
      args: string[];
      env: Record<string, string>;
      stdin: "null";
      stdout: "inherit";
      stderr: "inherit";
    }) => {
      spawn(): { status: Promise<{ code: number }>; kill(signal: "SIGKILL"): void };
    };
  };
}

/**
 * The permission flags of a copy: each permission the first process holds without a
 * scope, and, where it holds none, just what a copy needs (listening on the port,
 * reaching the control port, reading {@linkcode WORKER_ENV}). Scoped grants cannot be
 * read back from Deno, so they are not passed on.
 */
function permissionFlags(
  granted: (name: PermissionName) => boolean,
  hostname: string,
  port: number,
  control: number,
): string[] {
  const flags = PERMISSIONS.filter(granted).map((name) => `--allow-${name}`);
  if (!granted("net")) flags.push(`--allow-net=${hostname}:${port},127.0.0.1:${control}`);
  if (!granted("env")) flags.push(`--allow-env=${WORKER_ENV}`);
  return flags;
}

/**
 * Checks that this Deno process may start the Deno executable (`--allow-run`); a no-op
 * on other runtimes.
 *
 * @param processes The `processes` option, for messages.
 * @param what What would be started, for messages.
 * @returns The Deno executable's path (empty off Deno).
 * @throws {Error} Naming the flag, without it.
 */
export function mayRunDeno(processes: number, what: string): string {
  const { Deno } = globalThis as unknown as Partial<DenoGlobals>;
  if (Deno === undefined) return "";
  const execPath = Deno.execPath();
  if (Deno.permissions.querySync({ name: "run", command: execPath }).state !== "granted") {
    throw new Error(
      `Cannot serve "processes": ${processes} on Deno: starting ${what} needs --allow-run=${execPath}`,
    );
  }
  return execPath;
}

/**
 * Deno: `deno run --no-prompt --unstable-net <permissions> <main module> <args>`, after
 * checking that this process may start the Deno executable.
 *
 * @param processes The `processes` option, for messages.
 * @param hostname The address the server listens on.
 * @returns How to start a copy.
 * @throws {Error} Off Linux, or without `--allow-run` for the Deno executable.
 */
export function denoSpawn(processes: number, hostname: string): Spawn {
  const { Deno } = globalThis as unknown as DenoGlobals;
  needsLinux(Deno.build.os, processes);
  const execPath = mayRunDeno(processes, "copies of the program");
  const granted = (name: PermissionName) =>
    Deno.permissions.querySync({ name }).state === "granted";
  return (env, place): SpawnedCopy => {
    const args = [
      "run",
      "--no-prompt",
      "--unstable-net", // reusePort
      ...permissionFlags(granted, hostname, place.port, place.control),
      Deno.mainModule,
      ...Deno.args,
    ];
    const child = new Deno.Command(execPath, {
      args,
      env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return {
      exited: child.status.then((status) => status.code),
      kill: () => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already exited.
        }
      },
    };
  };
}

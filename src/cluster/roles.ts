/**
 * This process's role in `serve({ processes })` with the native transports (Bun, Deno):
 * every process listens with `reusePort`; the first starts the copies once it listens,
 * a copy joins the first. The lifecycle (`src/core/lifecycle.ts`) takes it as it is.
 *
 * @module
 */

import type { ProcessRole } from "../core/lifecycle.ts";
import type { CheckedServeOptions } from "../core/server.ts";
import type { Spawn } from "./copies.ts";
import { type EnvAccess, primaryPlace, workerFrom } from "./worker.ts";

/**
 * The role of this process among copies that share the port with `reusePort`.
 *
 * @param options The server's checked options.
 * @param env The process's environment (a copy finds its place there).
 * @param spawn Makes the way to start a copy (it checks the platform first).
 * @param exit Ends the process (a copy exits once shut down).
 * @returns The role.
 */
export async function copiesRole(
  options: CheckedServeOptions,
  env: EnvAccess,
  spawn: () => Spawn,
  exit: (code: number) => void,
): Promise<ProcessRole> {
  const worker = workerFrom(env, options.processes);
  // Checked before listening: a platform without reusePort fails at once.
  const start = worker ? undefined : spawn();
  // Loaded only with several processes: it brings node:net along.
  const { joinFirst, startCopies } = await import("./copies.ts");
  if (worker) {
    return {
      place: worker,
      port: worker.port,
      reusePort: true,
      joined: async (server) => {
        await joinFirst(server, worker, exit);
        return server;
      },
    };
  }
  return {
    place: primaryPlace(options.processes),
    reusePort: true,
    joined: (server) => startCopies(server, options.processes, start!),
  };
}

/**
 * `serve({ processes })` on Node.js: the first process forks workers with `node:cluster`
 * (same entry script, arguments and `execArgv`, such as `--import tsx`); each worker runs
 * the script, calls `serve()` and listens on the port the cluster shares; the primary
 * serves nothing itself and supervises. A worker that exits is reported, not restarted.
 * Workers exit when the primary dies (node:cluster does it).
 *
 * @module
 */

import cluster, { type Worker } from "node:cluster";
import { type AddressInfo, createServer } from "node:net";
import process from "node:process";
import type { ShutdownOptions } from "../core/group.ts";
import { reportError } from "../core/report.ts";
import type { ProcessRole } from "../core/lifecycle.ts";
import type { CheckedServeOptions, WsxServer } from "../core/server.ts";
import { createStats } from "../core/stats.ts";
import { mayRunDeno } from "./spawn.ts";
import { parseWorker, primaryPlace, WORKER_ENV, type WorkerPlace } from "./worker.ts";

/** How long a worker may take from fork to listening, in ms. */
const START_TIMEOUT_MS = 60_000;
/** Extra time after the shutdown timeout before a worker is killed, in ms. */
const EXIT_GRACE_MS = 5000;

type ControlMessage =
  | { readonly wsx: "listening"; readonly port: number; readonly hostname: string }
  | { readonly wsx: "shutdown"; readonly options: ShutdownOptions };

const isControl = (m: unknown): m is ControlMessage =>
  typeof m === "object" && m !== null && typeof (m as { wsx?: unknown }).wsx === "string";

/**
 * This process's place when it is a worker forked by {@linkcode startPrimary}.
 *
 * @param processes The `processes` option.
 * @returns The place, or undefined in the first process.
 * @throws {Error} In a node:cluster worker that wsx did not fork.
 */
export function clusterWorker(processes: number): WorkerPlace | undefined {
  if (!cluster.isWorker) return undefined;
  const value = process.env[WORKER_ENV];
  if (value === undefined) {
    throw new Error(
      `Cannot serve "processes": ${processes} from a node:cluster worker that wsx did not fork`,
    );
  }
  delete process.env[WORKER_ENV]; // not inherited by this worker's own children
  return parseWorker(value, processes);
}

/**
 * In a worker: tells the primary where it listens, and shuts down (then exits) when the
 * primary asks.
 *
 * @param server The worker's server.
 */
export function obeyPrimary(server: WsxServer): void {
  process.on("message", (message: unknown) => {
    if (!isControl(message) || message.wsx !== "shutdown") return;
    server.shutdown(message.options).finally(() => process.exit(0));
  });
  // The IPC channel alone must not keep a worker alive.
  (process as { channel?: { unref(): void } }).channel?.unref();
  process.send?.({ wsx: "listening", port: server.port, hostname: server.hostname });
}

function listening(worker: Worker, index: number): Promise<{ port: number; hostname: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off("exit", early);
      reject(new Error(`Cannot start worker ${index}: not listening after ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const early = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(
        new Error(`Cannot start worker ${index}: it exited (${signal ?? `code ${code}`}) first`),
      );
    };
    worker.once("exit", early);
    worker.on("message", (message: unknown) => {
      if (!isControl(message) || message.wsx !== "listening") return;
      clearTimeout(timer);
      worker.off("exit", early);
      resolve({ port: message.port, hostname: message.hostname });
    });
  });
}

function exited(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => worker.once("exit", () => resolve()));
}

async function stopWorkers(workers: readonly Worker[], options: ShutdownOptions = {}) {
  for (const worker of workers) {
    if (!worker.isDead() && worker.isConnected()) {
      try {
        worker.send({ wsx: "shutdown", options });
      } catch {
        // Already on its way out.
      }
    }
  }
  const killer = setTimeout(() => {
    for (const worker of workers) if (!worker.isDead()) worker.process.kill("SIGKILL");
  }, (options.timeoutMs ?? 10_000) + EXIT_GRACE_MS);
  await Promise.all(workers.map(exited));
  clearTimeout(killer);
}

/**
 * The port workers listen on. Node.js's primary holds the listening socket, so port 0
 * is one port for all; Deno's and Bun's workers each bind their own socket with
 * SO_REUSEPORT, so port 0 would give each its own: a free port is picked for them first.
 */
function sharedPort(port: number, hostname: string): Promise<number> {
  const versions = process.versions as { bun?: string; deno?: string };
  if (port !== 0 || (versions.bun === undefined && versions.deno === undefined)) {
    return Promise.resolve(port);
  }
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, hostname, () => {
      const picked = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(picked));
    });
  });
}

/**
 * In the first process: forks `processes` workers and resolves once every one listens.
 *
 * @param processes How many workers.
 * @param port The port to share (0: a free one).
 * @param hostname The address workers listen on.
 * @returns A handle whose `shutdown()` shuts every worker down gracefully.
 * @throws {Error} When a worker exits or does not listen in time (the others are stopped).
 */
export async function startPrimary(
  processes: number,
  port = 0,
  hostname = "0.0.0.0",
): Promise<WsxServer> {
  // Deno's node:cluster starts workers with Deno.Command: say which flag that needs.
  mayRunDeno(processes, "node:cluster workers");
  const shared = await sharedPort(port, hostname);
  const workers: Worker[] = [];
  for (let index = 1; index <= processes; index++) {
    workers.push(cluster.fork({ [WORKER_ENV]: `${index}/${processes}/${shared}` }));
  }
  let addresses;
  try {
    addresses = await Promise.all(workers.map((worker, i) => listening(worker, i + 1)));
  } catch (error) {
    for (const worker of workers) if (!worker.isDead()) worker.process.kill("SIGKILL");
    await Promise.all(workers.map(exited));
    throw error;
  }
  let stopping: Promise<void> | undefined;
  workers.forEach((worker, i) => {
    worker.on("exit", (code, signal) => {
      if (stopping) return;
      reportError(
        new Error(`Worker ${i + 1} of ${processes} exited (${signal ?? `code ${code}`})`),
        "processes",
      );
    });
  });
  return {
    port: addresses[0].port,
    hostname: addresses[0].hostname,
    raw: cluster,
    // The primary holds no connection: its counters stay zero.
    stats: createStats(),
    capabilities: { handshakeTimeout: "configurable", reportsAcceptErrors: false },
    transport: "engine",
    process: primaryPlace(processes),
    shutdown(options) {
      stopping ??= stopWorkers(workers, options);
      return stopping;
    },
  };
}

/**
 * This process's role with wsx's engine: the first process forks `node:cluster` workers
 * and only supervises them; a worker listens on the port they share.
 *
 * @param options The server's checked options.
 * @returns The role.
 */
export function clusterRole(options: CheckedServeOptions): Promise<ProcessRole> {
  const { processes, port, hostname } = options;
  const worker = clusterWorker(processes);
  if (!worker) {
    return Promise.resolve({
      place: primaryPlace(processes),
      reusePort: false,
      supervise: () => startPrimary(processes, port, hostname),
      joined: (server) => Promise.resolve(server),
    });
  }
  return Promise.resolve({
    place: worker,
    // Deno's and Bun's workers are told the port their primary picked.
    port: worker.port,
    reusePort: false,
    joined: (server) => {
      obeyPrimary(server);
      return Promise.resolve(server);
    },
  });
}

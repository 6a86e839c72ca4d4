/**
 * `serve({ processes })` on Bun and Deno: every process listens on the same port with
 * `reusePort` (the kernel spreads connections, Linux only). The first process serves
 * too, starts `processes - 1` copies of the program and supervises them through a
 * control connection on 127.0.0.1, one line a message:
 *
 * ```text
 * copy -> first   ready <token> <index>        once the copy listens
 * first -> copy   shutdown <options as JSON>   shut down gracefully, then exit
 * ```
 *
 * A copy whose control connection ends (the first process died) shuts down and exits,
 * so no copy outlives the first process. A copy that exits is reported, not restarted.
 *
 * @module
 */

import { connect, createServer, type Server, type Socket } from "node:net";
import type { ShutdownOptions } from "../core/group.ts";
import { reportError } from "../core/report.ts";
import type { WsxServer } from "../core/server.ts";
import { primaryPlace, WORKER_ENV, type WorkerPlace } from "./worker.ts";

/** How long a copy may take from spawn to listening, in ms. */
const START_TIMEOUT_MS = 60_000;
/** Extra time after the shutdown timeout before a copy is killed, in ms. */
const EXIT_GRACE_MS = 5000;

/** One running copy. */
export interface SpawnedCopy {
  /** Resolves with the exit code when the copy has exited. */
  readonly exited: Promise<number>;
  /** Kills it at once. */
  kill(): void;
}

/** Starts one copy of this program with extra environment variables. */
export type Spawn = (env: Record<string, string>, place: WorkerPlace) => SpawnedCopy;

function onLines(socket: Socket, fn: (line: string) => void): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    if (buffered.length > 65536) return socket.destroy(); // not a wsx peer
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      fn(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
}

function listenControl(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Waits for the `ready` line of every copy; fails when one exits or takes too long. */
function gather(
  control: Server,
  token: string,
  copies: readonly SpawnedCopy[],
): Promise<Map<number, Socket>> {
  const sockets = new Map<number, Socket>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Cannot start copies: not listening after ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    copies.forEach((copy, i) =>
      copy.exited.then((code) => {
        if (sockets.has(i + 1)) return;
        clearTimeout(timer);
        reject(new Error(`Cannot start copy ${i + 1}: it exited with code ${code} first`));
      })
    );
    control.on("connection", (socket: Socket) => {
      socket.on("error", () => socket.destroy());
      onLines(socket, (line) => {
        const [word, presented, index] = line.split(" ");
        if (word !== "ready" || presented !== token) return socket.destroy();
        sockets.set(Number(index), socket);
        if (sockets.size < copies.length) return;
        clearTimeout(timer);
        resolve(sockets);
      });
    });
  });
}

async function stopCopies(
  copies: readonly SpawnedCopy[],
  sockets: Map<number, Socket>,
  options: ShutdownOptions,
): Promise<void> {
  for (const socket of sockets.values()) socket.write(`shutdown ${JSON.stringify(options)}\n`);
  const killer = setTimeout(() => {
    for (const copy of copies) copy.kill();
  }, (options.timeoutMs ?? 10_000) + EXIT_GRACE_MS);
  await Promise.all(copies.map((copy) => copy.exited));
  clearTimeout(killer);
}

/**
 * In the first process, once it listens: starts the copies and resolves when all of
 * them listen.
 *
 * @param server The first process's server (listening with `reusePort`).
 * @param processes How many processes serve, the first one included.
 * @param spawn Starts one copy.
 * @returns The first process's handle; its `shutdown()` also shuts every copy down.
 * @throws {Error} When a copy exits or does not listen in time (everything is stopped).
 */
export async function startCopies(
  server: WsxServer,
  processes: number,
  spawn: Spawn,
): Promise<WsxServer> {
  const control = await listenControl();
  const token = crypto.randomUUID();
  const controlPort = (control.address() as { port: number }).port;
  const copies: SpawnedCopy[] = [];
  let sockets: Map<number, Socket>;
  try {
    for (let index = 1; index < processes; index++) {
      const place: WorkerPlace = {
        role: "worker",
        index,
        processes,
        port: server.port,
        control: controlPort,
        token,
      };
      const value = `${index}/${processes}/${server.port}/${controlPort}/${token}`;
      copies.push(spawn({ [WORKER_ENV]: value }, place));
    }
    sockets = await gather(control, token, copies);
  } catch (error) {
    for (const copy of copies) copy.kill();
    await Promise.all(copies.map((copy) => copy.exited));
    control.close();
    await server.shutdown({ timeoutMs: 0 });
    throw error;
  }
  let stopping: Promise<void> | undefined;
  copies.forEach((copy, i) =>
    copy.exited.then((code) => {
      if (!stopping) reportError(new Error(`Copy ${i + 1} exited with code ${code}`), "processes");
    })
  );
  return {
    ...server,
    process: primaryPlace(processes),
    shutdown(options = {}) {
      stopping ??= Promise.all([stopCopies(copies, sockets, options), server.shutdown(options)])
        .then(() => new Promise<void>((resolve) => control.close(() => resolve())));
      return stopping;
    },
  };
}

/**
 * In a copy, once it listens: reports ready to the first process, shuts down and exits
 * when told to or when the first process is gone.
 *
 * @param server The copy's server.
 * @param place The copy's place.
 * @param exit Ends the process.
 * @returns A promise that resolves once the first process has the `ready` line.
 */
export function joinFirst(
  server: WsxServer,
  place: WorkerPlace,
  exit: (code: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const stop = (options: ShutdownOptions) => {
      if (stopping) return;
      stopping = true;
      server.shutdown(options).finally(() => exit(0));
    };
    const socket = connect(place.control, "127.0.0.1", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      socket.on("close", () => stop({}));
      socket.write(`ready ${place.token} ${place.index}\n`, () => resolve());
    });
    socket.once("error", reject);
    onLines(socket, (line) => {
      if (!line.startsWith("shutdown ")) return;
      let options: ShutdownOptions = {};
      try {
        options = JSON.parse(line.slice(9)) as ShutdownOptions;
      } catch {
        // Shut down with the defaults.
      }
      stop(options);
    });
  });
}

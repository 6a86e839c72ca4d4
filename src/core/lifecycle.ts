/**
 * One server lifecycle, written once for every runtime and transport: check the options,
 * take this process's place among several, listen, build the {@linkcode WsxServer}
 * (graceful shutdown once: the connections first, then the listener), and shut down on
 * signals. A runtime contributes only what differs ({@linkcode ServerRuntime}: how it
 * listens and routes requests to the server's group, how it stops listening, what it can
 * do); process orchestration (`src/cluster/`) and the process's signals are injected, so
 * this file stays runtime-free.
 *
 * @module
 */

import { ServerGroup, type ShutdownOptions } from "./group.ts";
import { serverSettings } from "./server_settings.ts";
import type {
  CheckedServeOptions,
  ProcessInfo,
  ServeOptions,
  ServerCapabilities,
  ServeTransport,
  WsxServer,
} from "./server.ts";

/**
 * What a runtime's listener needs: where to listen, and whom to hand requests to.
 *
 * @example
 * ```ts
 * import type { ListenSetup } from "./lifecycle.ts";
 * ```
 */
export interface ListenSetup {
  /** The server's checked options. */
  readonly options: CheckedServeOptions;
  /** The port to listen on (a worker's may differ from the option). */
  readonly port: number;
  /** Whether several processes listen on the port with `SO_REUSEPORT`. */
  readonly reusePort: boolean;
  /** The server's connections: every upgrade the listener routes lands in it. */
  readonly group: ServerGroup;
  /** The application's request handler. */
  readonly onRequest: (request: Request) => Response | Promise<Response>;
}

/**
 * A runtime's listening server.
 *
 * @example
 * ```ts
 * import type { Listener } from "./lifecycle.ts";
 * ```
 */
export interface Listener {
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** The runtime's server object (it may change: Deno's restored listener). */
  readonly raw: unknown;
  /** Called once when shutdown begins, before the connections close (stop watching). */
  shutdownBegins?(): void;
  /** Stops listening; called once, after every connection of the group is gone. */
  stop(): Promise<void>;
}

/**
 * What differs between runtimes and transports.
 *
 * @example
 * ```ts
 * import type { ServerRuntime } from "./lifecycle.ts";
 * ```
 */
export interface ServerRuntime {
  /** The WebSocket server it runs. */
  readonly transport: ServeTransport;
  /** What it can do about abusive handshakes. */
  readonly capabilities: ServerCapabilities;
  /** Listens and routes requests to `setup.group` and `setup.onRequest`. */
  listen(setup: ListenSetup): Promise<Listener>;
}

/**
 * This process's role among the processes of one server (`src/cluster/` makes them).
 *
 * @example
 * ```ts
 * import type { ProcessRole } from "./lifecycle.ts";
 * ```
 */
export interface ProcessRole {
  /** This process's place. */
  readonly place: ProcessInfo;
  /** The port to listen on when it is not the option's (a worker told by its primary). */
  readonly port?: number;
  /** Whether every process listens on the port with `SO_REUSEPORT`. */
  readonly reusePort: boolean;
  /** In a first process that only supervises (`node:cluster`): starts the others. */
  supervise?(): Promise<WsxServer>;
  /** Once this process listens: joins the first process, or starts the copies. */
  joined(server: WsxServer): Promise<WsxServer>;
}

/**
 * How the process hears signals and exits (`process`, `Deno`).
 *
 * @example
 * ```ts
 * import type { SignalApi } from "./lifecycle.ts";
 * ```
 */
export interface SignalApi {
  /** Calls `fn` on the signal. */
  listen(signal: "SIGINT" | "SIGTERM", fn: () => void): void;
  /** Ends the process. */
  exit(code: number): void;
}

/**
 * The parts a runtime's `serve()` injects into {@linkcode runServer}.
 *
 * @example
 * ```ts
 * import type { ServerParts } from "./lifecycle.ts";
 * ```
 */
export interface ServerParts {
  /** How it listens. */
  readonly runtime: ServerRuntime;
  /** This process's role when `processes` is above 1. */
  readonly processes: (options: CheckedServeOptions) => Promise<ProcessRole>;
  /** The process's signals. */
  readonly signals: SignalApi;
}

/** The place of a server of one process. */
export const SINGLE: ProcessInfo = Object.freeze({ role: "single", index: 0, processes: 1 });

const ALONE: ProcessRole = {
  place: SINGLE,
  reusePort: false,
  joined: (server) => Promise.resolve(server),
};

/**
 * Runs a server: the lifecycle every `serve()` shares.
 *
 * @param options The options as given (for `onRequest` and `shutdownOnSignals`).
 * @param checked The options, checked.
 * @param parts What the runtime, the process orchestration and the process contribute.
 * @returns The running server, once it (and every process) listens.
 * @example
 * ```ts ignore
 * import { runServer } from "./lifecycle.ts";
 * ```
 */
export async function runServer(
  options: ServeOptions,
  checked: CheckedServeOptions,
  parts: ServerParts,
): Promise<WsxServer> {
  const role = checked.processes > 1 ? await parts.processes(checked) : ALONE;
  const server = role.supervise
    ? await role.supervise()
    : await role.joined(await listenOnce(options, checked, parts.runtime, role));
  if (options.shutdownOnSignals) {
    onShutdownSignals(server, options.shutdownOnSignals, parts.signals);
  }
  return server;
}

async function listenOnce(
  options: ServeOptions,
  checked: CheckedServeOptions,
  runtime: ServerRuntime,
  role: ProcessRole,
): Promise<WsxServer> {
  // The server's settings, built once and passed down through its group.
  const group = new ServerGroup(null, serverSettings(checked.settings));
  group.allowedOrigins = checked.allowedOrigins;
  const listener = await runtime.listen({
    options: checked,
    port: role.port || checked.port,
    reusePort: role.reusePort,
    group,
    onRequest: options.onRequest,
  });
  group.raw = listener.raw;
  let stopping: Promise<void> | undefined;
  return {
    port: listener.port,
    hostname: listener.hostname,
    get raw() {
      return listener.raw;
    },
    stats: group.stats,
    capabilities: runtime.capabilities,
    transport: runtime.transport,
    process: role.place,
    shutdown(shutdownOptions) {
      // Connections first (new upgrades get 503 meanwhile), then the listener.
      if (stopping === undefined) {
        listener.shutdownBegins?.();
        stopping = group.shutdown(shutdownOptions).then(() => listener.stop());
      }
      return stopping;
    },
  };
}

/**
 * Shuts the server down gracefully on the first SIGINT or SIGTERM, then exits with 0; a
 * second signal exits at once with 130.
 *
 * @param server The server.
 * @param options `true` for the default shutdown options, or the options.
 * @param api The process's signal functions.
 * @example
 * ```ts ignore
 * import { onShutdownSignals } from "./lifecycle.ts";
 * ```
 */
export function onShutdownSignals(
  server: WsxServer,
  options: true | ShutdownOptions,
  api: SignalApi,
): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return api.exit(130);
    stopping = true;
    server.shutdown(options === true ? {} : options).finally(() => api.exit(0));
  };
  api.listen("SIGINT", handler);
  api.listen("SIGTERM", handler);
}

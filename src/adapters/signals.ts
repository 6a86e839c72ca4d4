/**
 * Graceful shutdown on SIGINT and SIGTERM, shared by the adapters; each passes its
 * runtime's way to listen for a signal and to exit.
 *
 * @module
 */

import type { ShutdownOptions } from "../core/group.ts";
import type { WsxServer } from "../core/server.ts";

/**
 * How a runtime listens for signals and exits.
 *
 * @example
 * ```ts
 * import type { SignalApi } from "./signals.ts";
 * ```
 */
export interface SignalApi {
  /** Calls `fn` on the signal. */
  listen(signal: "SIGINT" | "SIGTERM", fn: () => void): void;
  /** Ends the process. */
  exit(code: number): void;
}

/**
 * Shuts the server down gracefully on the first SIGINT or SIGTERM, then exits; a second
 * signal exits at once.
 *
 * @param server The server.
 * @param options `true` for the default shutdown options, or the options.
 * @param api The runtime's signal functions.
 * @example
 * ```ts
 * import { onShutdownSignals } from "./signals.ts";
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

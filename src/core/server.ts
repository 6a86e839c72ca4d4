/**
 * What `serve()` takes and returns on every runtime.
 *
 * @module
 */

import type { ShutdownOptions } from "./group.ts";
import type { ServerStats } from "./stats.ts";

/**
 * Options of `serve()`, the seed's `start_http_server`.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./server.ts";
 * const options: ServeOptions = { port: 8080, onRequest: () => new Response("Hello World!") };
 * ```
 */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. @default {8080} */
  readonly port?: number;
  /** Address to listen on. @default {"0.0.0.0"} */
  readonly hostname?: string;
  /**
   * Answers a request with a `Response`, or hands it to `upgrade()` and returns what that
   * returns. May be async.
   */
  readonly onRequest: (request: Request) => Response | Promise<Response>;
  /** Shut down gracefully on SIGINT and SIGTERM, with these options (`true` for the defaults). */
  readonly shutdownOnSignals?: boolean | ShutdownOptions;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import type { WsxServer } from "./server.ts";
 * declare const server: WsxServer;
 * console.log(`listening on ${server.hostname}:${server.port}`);
 * await server.shutdown({ timeoutMs: 5000 });
 * ```
 */
export interface WsxServer {
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly hostname: string;
  /** The runtime's server object (`Deno.HttpServer`, Bun's `Server`, Node's `http.Server`). */
  readonly raw: unknown;
  /** Counters, live. */
  readonly stats: ServerStats;
  /** Graceful shutdown: refuses new upgrades with 503, closes every connection, stops listening. */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/**
 * Checks `serve()` options, throwing `TypeError`/`RangeError` naming the option.
 *
 * @param options The options.
 * @returns Port and hostname with defaults applied.
 * @example
 * ```ts
 * import { checkServeOptions } from "./server.ts";
 * checkServeOptions({ onRequest: () => new Response("") }); // { port: 8080, hostname: "0.0.0.0" }
 * ```
 */
export function checkServeOptions(options: ServeOptions): { port: number; hostname: string } {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid serve options: expected an object with onRequest");
  }
  if (typeof options.onRequest !== "function") {
    throw new TypeError(
      `Invalid "onRequest": expected a function, got ${typeof options.onRequest}`,
    );
  }
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid "port": expected an integer from 0 to 65535, got ${port}`);
  }
  const hostname = options.hostname ?? "0.0.0.0";
  if (typeof hostname !== "string" || hostname.length === 0) {
    throw new TypeError('Invalid "hostname": expected a non-empty string');
  }
  return { port, hostname };
}

/**
 * What `serve()` takes and returns on every runtime.
 *
 * @module
 */

import type { PerMessageDeflate } from "./deflate_options.ts";
import type { ShutdownOptions } from "./group.ts";
import { checkOwnSettings, type OwnSettings } from "./server_settings.ts";
import type { ServerStats } from "./stats.ts";
import { checkTls, type TlsOptions } from "./tls.ts";

export type { TlsOptions } from "./tls.ts";

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
  /**
   * Browser origins (`scheme://host[:port]`) allowed to upgrade; others get 403. Requests
   * without an `Origin` header (non-browser clients) are allowed. @default {undefined} (any)
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Longest time a client may take to send its request head, in ms; slower ones are cut
   * off (slowloris). wsx's engine on every runtime, and Bun's native server (which counts
   * whole seconds of idleness); not Deno's native server. @default {10000}
   */
  readonly handshakeTimeoutMs?: number;
  /**
   * Server processes sharing the port, 1 to 256. With wsx's engine (every runtime) the
   * first process forks workers with `node:cluster` and supervises them, serving nothing
   * itself (Deno also needs `--allow-run` for its own executable). With the native
   * transport (Bun, Deno) it starts copies of the entry script that listen with
   * `reusePort` and serves too (Deno also needs `--unstable-net` and `--allow-run`).
   * Linux only off Node.js: the kernel spreads connections (SO_REUSEPORT). Every process
   * runs the whole script: `count()` and `each()` stay per process, and topics reach every
   * process only through a shared engine such as `RedisEngine`.
   * @default {1}
   */
  readonly processes?: number;
  /**
   * Which WebSocket server runs: `"engine"`, wsx's own RFC 6455 engine (the same
   * behaviour on every runtime: over the runtime's `node:http` server and `node:net`
   * sockets on Node.js and Deno, on Bun's own TCP sockets with wsx's HTTP/1.1 server on
   * Bun), or `"native"`, the runtime's own WebSocket server (`Deno.serve` with
   * `Deno.upgradeWebSocket`, `Bun.serve`; Node.js has none). The README lists what the
   * native servers do differently. @default {"engine"}
   */
  readonly transport?: ServeTransport;
  /**
   * Serve HTTPS and `wss:` with this certificate and key (PEM text). The TLS handshake
   * counts toward `handshakeTimeoutMs`. @default {undefined} (plain HTTP)
   */
  readonly tls?: TlsOptions;
  /**
   * This server's largest incoming message in bytes (a larger one closes with 1009).
   * Unset, the server follows the global `Websocket.maxMsgSize`, live: a change applies
   * to messages received after it. Every setting below works the same way.
   * @default {undefined} (the global setting)
   */
  readonly maxMsgSize?: number;
  /** This server's ping interval in seconds (0 to 255), captured when a connection opens. @default {undefined} (the global setting) */
  readonly timeout?: number;
  /** This server's wait for an answer to a ping in seconds (0: `timeout`), captured at open. @default {undefined} (the global setting) */
  readonly pongTimeout?: number;
  /** This server's largest outbound backlog per connection in bytes, captured at open. @default {undefined} (the global setting) */
  readonly maxBufferedBytes?: number;
  /** What a write over `maxBufferedBytes` does on this server, captured at open. @default {undefined} (the global setting) */
  readonly backpressure?: "close" | "drop";
  /** This server's permessage-deflate, read at each upgrade. @default {undefined} (the global setting) */
  readonly perMessageDeflate?: PerMessageDeflate;
  /** This server's largest streamed message in bytes, read as each stream starts. @default {undefined} (the global setting) */
  readonly maxStreamSize?: number;
  /** Seconds this server waits for a stream's reader before closing with 1011. @default {undefined} (the global setting) */
  readonly streamTimeout?: number;
}

/**
 * The WebSocket servers `serve()` can run: wsx's engine or the runtime's own.
 *
 * @example
 * ```ts
 * import type { ServeTransport } from "./server.ts";
 * const transport: ServeTransport = "engine";
 * ```
 */
export type ServeTransport = "engine" | "native";

const TRANSPORTS: readonly ServeTransport[] = ["engine", "native"];

/**
 * Server options after checking, with defaults applied.
 *
 * @example
 * ```ts
 * import type { CheckedServeOptions } from "./server.ts";
 * ```
 */
export interface CheckedServeOptions {
  /** The port. */
  readonly port: number;
  /** The address. */
  readonly hostname: string;
  /** Allowed origins, lower-cased, or undefined for any. */
  readonly allowedOrigins: ReadonlySet<string> | undefined;
  /** Request-head timeout in ms. */
  readonly handshakeTimeoutMs: number;
  /** Server processes sharing the port. */
  readonly processes: number;
  /** The transport asked for, or undefined for the runtime's default. */
  readonly transport: ServeTransport | undefined;
  /** The certificate and key, or undefined for plain HTTP. */
  readonly tls: Readonly<TlsOptions> | undefined;
  /** The settings the options set; the rest follow the global settings. */
  readonly settings: Readonly<OwnSettings>;
}

/**
 * This process's place in a server of several processes (`serve({ processes })`).
 *
 * @example
 * ```ts
 * import type { ProcessInfo } from "./server.ts";
 * const info: ProcessInfo = { role: "single", index: 0, processes: 1 };
 * ```
 */
export interface ProcessInfo {
  /**
   * `"single"` with `processes: 1`; `"primary"` in the process that started the others
   * (with wsx's engine it serves no connection itself); `"worker"` in every process it started.
   */
  readonly role: "single" | "primary" | "worker";
  /** 0 in the primary; 1 to `processes` in `node:cluster` workers, 1 to `processes - 1` in copies. */
  readonly index: number;
  /** How many processes serve connections on the port. */
  readonly processes: number;
}

/**
 * What a runtime's server can do about abusive handshakes.
 *
 * @example
 * ```ts
 * import type { ServerCapabilities } from "./server.ts";
 * const caps: ServerCapabilities = {
 *   handshakeTimeout: "configurable",
 *   reportsAcceptErrors: false,
 * };
 * ```
 */
export interface ServerCapabilities {
  /**
   * A slow request head (and with `tls`, a slow TLS handshake) is cut off: after
   * `handshakeTimeoutMs` (`"configurable"`: wsx's engine on every runtime), after a delay
   * the runtime fixes (`"runtime"`: Bun's native server, about 10 s, 12 s with `tls`), or
   * not at all (`"none"`: Deno's native server).
   */
  readonly handshakeTimeout: "configurable" | "runtime" | "none";
  /**
   * Whether `stats.acceptErrors` counts failures to accept a connection (out of file
   * descriptors). Deno's servers report them (wsx restores the listener); Node.js's and
   * Bun's keep accepting on their own and report nothing, so they stay uncounted.
   */
  readonly reportsAcceptErrors: boolean;
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
  /**
   * The server object: with wsx's engine, `node:http`'s `Server` (`node:https`'s with
   * `tls`) on Node.js and Deno, and the listener of `Bun.listen` on Bun; with the native
   * transport the runtime's own (`Deno.HttpServer`, Bun's `Server`).
   */
  readonly raw: unknown;
  /** Counters, live. */
  readonly stats: ServerStats;
  /** What this runtime's server can do about abusive handshakes. */
  readonly capabilities: ServerCapabilities;
  /** This process's place among the processes serving the port. */
  readonly process: ProcessInfo;
  /** The WebSocket server that runs: wsx's `"engine"` or the runtime's `"native"` one. */
  readonly transport: ServeTransport;
  /** Graceful shutdown: refuses new upgrades with 503, closes every connection, stops listening. */
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/**
 * Checks `serve()` options, throwing `TypeError`/`RangeError` naming the option.
 *
 * @param options The options.
 * @returns The options with defaults applied.
 * @example
 * ```ts
 * import { checkServeOptions } from "./server.ts";
 * checkServeOptions({ onRequest: () => new Response("") }).port; // 8080
 * ```
 */
export function checkServeOptions(options: ServeOptions): CheckedServeOptions {
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
  const origins = options.allowedOrigins;
  if (
    origins !== undefined && (!Array.isArray(origins) || origins.some((o) => typeof o !== "string"))
  ) {
    throw new TypeError(
      'Invalid "allowedOrigins": expected an array of origins such as "https://example.com"',
    );
  }
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  if (
    !Number.isInteger(handshakeTimeoutMs) || handshakeTimeoutMs < 1000 ||
    handshakeTimeoutMs > 600_000
  ) {
    throw new RangeError(
      `Invalid "handshakeTimeoutMs": expected an integer from 1000 to 600000, got ${handshakeTimeoutMs}`,
    );
  }
  const processes = options.processes ?? 1;
  if (!Number.isInteger(processes) || processes < 1 || processes > 256) {
    throw new RangeError(
      `Invalid "processes": expected an integer from 1 to 256, got ${processes}`,
    );
  }
  return {
    port,
    hostname,
    transport: checkTransport(options.transport),
    allowedOrigins: origins ? new Set(origins.map((o) => o.toLowerCase())) : undefined,
    handshakeTimeoutMs,
    processes,
    tls: checkTls(options.tls),
    settings: checkOwnSettings(options),
  };
}

function checkTransport(transport: unknown): ServeTransport | undefined {
  if (transport !== undefined && !TRANSPORTS.includes(transport as ServeTransport)) {
    throw new TypeError(
      `Invalid "transport": expected "engine" or "native", got ${JSON.stringify(transport)}`,
    );
  }
  return transport as ServeTransport | undefined;
}

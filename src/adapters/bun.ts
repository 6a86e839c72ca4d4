/**
 * The Bun adapter. `serve()` runs wsx's engine on Bun's own TCP sockets by default
 * (`Bun.listen`, `bun_listen.ts`); this module's own server is `Bun.serve` with its
 * native WebSocket handlers behind the wsx core (`serve({ transport: "native" })`, and
 * {@linkcode fetchHandler} with {@linkcode websocketHandler} for an application's own
 * `Bun.serve`).
 * `maxMsgSize` is pushed down to Bun's `maxPayloadLength` (kept in step when the
 * setting changes), Bun's own idle timer is switched off (it counts outbound writes as
 * signs of life) and the core's shared tick pings instead.
 *
 * @example Hello World on Bun
 * ```ts
 * import { serve } from "./bun.ts";
 * import { Websocket } from "../../mod.ts";
 * await serve({
 *   port: 8080,
 *   onRequest: (req) =>
 *     req.headers.get("upgrade") === "websocket"
 *       ? Websocket.upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) })
 *       : new Response("Hello World!"),
 * });
 * ```
 *
 * @module
 */

import { ConnectionDriver } from "../core/driver.ts";
import { ServerGroup } from "../core/group.ts";
import { reportError } from "../core/report.ts";
import { isThenable } from "../core/thenable.ts";
import { refusalResponse, REFUSALS } from "../core/protocol/responses.ts";
import { runServer, type ServerRuntime, type SignalApi } from "../core/lifecycle.ts";
import {
  type CheckedServeOptions,
  checkServeOptions,
  type ServeOptions,
  type WsxServer,
} from "../core/server.ts";
import { certChain } from "../core/tls.ts";
import { onSettingsChange, type Settings, settings as globalSettings } from "../core/settings.ts";
import { deflateConfigOf } from "../core/deflate_options.ts";
import {
  callBound,
  isUpgradedResponse,
  upgradedResponse,
  type UpgradePlan,
  type Upgrader,
  wasUpgraded,
} from "../core/upgrade.ts";
import { asBytes, asText } from "./convert.ts";
import {
  bunCloseInfo,
  BunDeflateTransport,
  type BunSocket,
  BunTransport,
} from "./bun_transport.ts";
import { checkRuntimeVersion } from "../runtime.ts";
import { bunSpawn } from "../cluster/spawn.ts";
import { copiesRole } from "../cluster/roles.ts";
import type { EnvAccess } from "../cluster/worker.ts";

export type { ServeOptions, ServeTransport, WsxServer } from "../core/server.ts";
export type { BunSocket } from "./bun_transport.ts";

/**
 * The `websocket` option of `Bun.serve` that wsx needs. Pass {@linkcode websocketHandler}
 * to your own `Bun.serve` (for example behind Hono) to use wsx upgrades there.
 *
 * @example
 * ```ts
 * import type { BunWebSocketHandler } from "./bun.ts";
 * ```
 */
export interface BunWebSocketHandler {
  /** Bun's cap on one message, in bytes. */
  maxPayloadLength: number;
  /** Bun's idle timer; 0 switches it off. */
  idleTimeout: number;
  /** Bun's own pings; off, the core pings. */
  sendPings: boolean;
  /** Bun's outbound cap before `send` drops; wsx applies `maxBufferedBytes` itself. */
  backpressureLimit: number;
  /** Bun's permessage-deflate: on when the `perMessageDeflate` setting is. */
  perMessageDeflate: boolean;
  /** Called when a connection opens. */
  open(ws: BunSocket): void;
  /** Called with each message. */
  message(ws: BunSocket, message: string | Uint8Array): void;
  /** Called when a connection closes. */
  close(ws: BunSocket, code: number, reason: string): void;
  /** Called when the outbound queue empties. */
  drain(ws: BunSocket): void;
  /** Called with each inbound ping. */
  ping(ws: BunSocket): void;
  /** Called with each inbound pong. */
  pong(ws: BunSocket): void;
}

interface BunServer {
  readonly port: number;
  readonly hostname: string;
  upgrade(request: Request, options: { data: unknown; headers: Headers | undefined }): boolean;
  stop(closeActiveConnections?: boolean): unknown;
  reload(options: { fetch: unknown; websocket: BunWebSocketHandler }): void;
  publish(topic: string, data: string | Uint8Array): number;
}

interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    reusePort: boolean;
    fetch: (request: Request, server: BunServer) => BunAnswer | Promise<BunAnswer>;
    websocket: BunWebSocketHandler;
    idleTimeout: number;
    tls?: { cert: string; key: string; passphrase?: string };
  }): BunServer;
}

const driverOf = (ws: BunSocket) => ws.data as ConnectionDriver<unknown>;

// Bun refuses a maxPayloadLength outside JSC's 52-bit integers (2^51 and above: "expects
// maxPayloadLength to be an integer"), and Bun's source has at times stored it in 32 bits
// (`@truncate`). 2^51-1 is the largest value Bun takes and is all ones in any narrower
// field, so Bun never refuses a message the process could hold (Bun's buffers stop at
// 2^32 bytes); the core enforces the exact setting.
const BUN_MAX_PAYLOAD_LENGTH = 2 ** 51 - 1;
const payloadLengthFor = (maxMsgSize: number): number =>
  maxMsgSize < 2 ** 32 ? maxMsgSize : BUN_MAX_PAYLOAD_LENGTH;

/**
 * The `websocket` handlers for `Bun.serve`, wired to the wsx core.
 *
 * @param settings The settings of the server's connections: the global ones by default,
 * a server's own under `serve()`.
 * @returns A fresh handler object; its `maxPayloadLength` is `maxMsgSize` now (2^51 - 1,
 * the largest value Bun accepts, for a `maxMsgSize` of 2^32 or more).
 * @example Your own Bun.serve with wsx upgrades
 * ```ts
 * import { websocketHandler } from "./bun.ts";
 * const websocket = websocketHandler();
 * console.log(websocket.idleTimeout); // 0: the core pings instead
 * ```
 */
export function websocketHandler(
  settings: Readonly<Settings> = globalSettings,
): BunWebSocketHandler {
  // Bun negotiates permessage-deflate itself, once per server; wsx applies the threshold
  // through send's `compress` flag.
  const deflate = deflateConfigOf(settings.perMessageDeflate);
  const threshold = deflate?.threshold ?? Infinity;
  return {
    perMessageDeflate: deflate !== null,
    maxPayloadLength: payloadLengthFor(settings.maxMsgSize),
    idleTimeout: 0,
    sendPings: false,
    backpressureLimit: 0x7fff_ffff,
    open(ws) {
      const driver = driverOf(ws);
      driver.bind(
        threshold === Infinity ? new BunTransport(ws) : new BunDeflateTransport(ws, threshold),
      );
      driver.open();
    },
    message(ws, message) {
      driverOf(ws).message(message, typeof message === "string");
    },
    close(ws, code, reason) {
      const driver = driverOf(ws);
      const [closeCode, closeReason, error] = bunCloseInfo(code, reason);
      // Bun calls this inside ws.close(), before the closing handshake; Node and Deno
      // report later. Deferred, onClose never runs inside close(), and at shutdown every
      // onShutdown runs before any onClose.
      queueMicrotask(() => driver.closed(closeCode, closeReason, error));
    },
    drain(ws) {
      driverOf(ws).drain();
    },
    ping(ws) {
      const driver = driverOf(ws);
      (driver.transport as BunTransport).pinged();
      driver.heard();
    },
    pong(ws) {
      driverOf(ws).pong();
    },
  };
}

class BunUpgrader implements Upgrader {
  readonly group: ServerGroup;
  readonly secure: boolean | undefined;
  readonly #server: BunServer;

  constructor(group: ServerGroup, server: BunServer, secure: boolean | undefined) {
    this.group = group;
    this.#server = server;
    this.secure = secure;
  }

  accept<U>(request: Request, plan: UpgradePlan<U>): Response {
    const driver = new ConnectionDriver<U>({
      handlers: plan.handlers,
      udata: plan.udata,
      group: this.group,
      protocol: plan.protocol,
      secure: plan.secure,
    });
    // Most upgrades add no header and pick no subprotocol: headersFor is not called.
    const headers = plan.protocol === undefined && plan.headers.length === 0 &&
        !request.headers.has("sec-websocket-protocol")
      ? undefined
      : headersFor(request, plan);
    if (!this.#server.upgrade(request, { data: driver, headers })) {
      this.group.stats.refusedUpgrades++;
      return refusalResponse(REFUSALS.upgradeFailed);
    }
    return upgradedResponse();
  }
}

// The extra headers of the 101, or undefined when there are none (most upgrades: no
// Headers object to build). Bun answers with the first offered protocol unless told
// otherwise; wsx never picks one blindly, so "none" is sent as an empty value.
function headersFor<U>(request: Request, plan: UpgradePlan<U>): Headers | undefined {
  const protocol = plan.protocol ??
    (request.headers.has("sec-websocket-protocol") ? "" : undefined);
  if (protocol === undefined && plan.headers.length === 0) return undefined;
  const headers = new Headers();
  for (const [name, value] of plan.headers) headers.append(name, value);
  if (protocol !== undefined) headers.set("sec-websocket-protocol", protocol);
  return headers;
}

// The upgrader for requests of a Bun server, with the group of its connections; `secure`
// when wsx started the server (and so knows whether it runs TLS).
function upgraderFor(server: unknown, group: ServerGroup, secure?: boolean): Upgrader {
  const bunServer = server as BunServer;
  // Topics use Bun's native pub/sub: one publish per server reaches every subscriber.
  group.publishNative = (topic, data, isText) => {
    bunServer.publish(topic, isText ? asText(data) : asBytes(data));
  };
  return new BunUpgrader(group, bunServer, secure);
}

/**
 * Wraps a `fetch` handler for your own `Bun.serve` (a Hono app's `app.fetch`, say) so
 * that `upgrade()` works inside it; pass {@linkcode websocketHandler} as `websocket`.
 *
 * @param fetch Your request handler.
 * @returns The handler to give `Bun.serve`.
 * @example Hono on Bun
 * ```ts ignore
 * import { fetchHandler, websocketHandler } from "./bun.ts";
 * declare const app: { fetch: (request: Request) => Response | Promise<Response> };
 * Bun.serve({ port: 8080, fetch: fetchHandler(app.fetch), websocket: websocketHandler() });
 * ```
 */
export function fetchHandler(
  fetch: (request: Request, server: unknown) => Response | Promise<Response>,
): (request: Request, server: unknown) => Promise<Response | undefined> {
  // The handler owns the upgrader (and group) of each Bun server it serves.
  const upgraders = new WeakMap<object, Upgrader>();
  return async (request, server) => {
    let upgrader = upgraders.get(server as object);
    if (upgrader === undefined) {
      upgrader = upgraderFor(server, new ServerGroup(server));
      upgraders.set(server as object, upgrader);
    }
    const response = await callBound(request, upgrader, (request) => fetch(request, server));
    return wasUpgraded(request) || isUpgradedResponse(response) ? undefined : response;
  };
}

function bunApi(): BunApi {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (!bun) throw new TypeError("wsx/bun needs the Bun runtime");
  return bun;
}

// Bun.serve in the server lifecycle: upgrades go through the group, Bun's cap follows the
// server's maxMsgSize, its permessage-deflate the server's setting.
const NATIVE: ServerRuntime = {
  transport: "native",
  capabilities: Object.freeze({ handshakeTimeout: "runtime", reportsAcceptErrors: false }),
  listen({ options, port, reusePort, group, onRequest }) {
    const { tls } = options;
    const bound: { upgrader?: Upgrader } = {};
    // Synchronous while onRequest is (an upgrade, most often): no promise per request.
    const fetch = (request: Request): BunAnswer | Promise<BunAnswer> => {
      let response: Response | Promise<Response>;
      try {
        response = callBound(request, bound.upgrader!, onRequest);
      } catch (error) {
        return failedRequest(error);
      }
      if (isThenable<Response>(response)) {
        return Promise.resolve(response).then(answerOf, failedRequest);
      }
      return answerOf(response);
    };
    const server = bunApi().serve({
      port,
      hostname: options.hostname,
      reusePort,
      fetch,
      websocket: websocketHandler(group.settings),
      // Bun's HTTP idle timer (whole seconds) also cuts off a slow request head.
      idleTimeout: Math.min(255, Math.ceil(options.handshakeTimeoutMs / 1000)),
      ...(tls && { tls: { cert: certChain(tls), key: tls.key, passphrase: tls.passphrase } }),
    });
    group.raw = server;
    bound.upgrader = upgraderFor(server, group, tls !== undefined);
    // A change of the global settings reaches the servers that follow them.
    const stopSync = onSettingsChange((name) => {
      if (name === "maxMsgSize" || name === "perMessageDeflate") {
        server.reload({ fetch, websocket: websocketHandler(group.settings) });
      }
    });
    return Promise.resolve({
      port: server.port,
      hostname: server.hostname,
      raw: server,
      stop: () => stopBun(server, stopSync),
    });
  },
};

// What the request handler gives Bun: nothing for an upgrade (Bun answered the 101).
type BunAnswer = Response | undefined;
const answerOf = (response: Response): BunAnswer =>
  isUpgradedResponse(response) ? undefined : response;

function failedRequest(error: unknown): Response {
  reportError(error, "onRequest");
  return new Response("Internal Server Error", { status: 500 });
}

async function stopBun(server: BunServer, stopSync: () => void): Promise<void> {
  stopSync();
  // Let in-flight HTTP responses finish (the one that asked for the shutdown, say),
  // then close whatever is left.
  const graceful = Promise.resolve(server.stop(false));
  await Promise.race([graceful, new Promise((resolve) => setTimeout(resolve, 1000))]);
  await server.stop(true);
}

/**
 * Starts a server with wsx upgrades: the seed's `start_http_server`. By default it runs
 * wsx's engine on Bun's own TCP sockets (`Bun.listen`), with wsx's own HTTP/1.1 server
 * for plain requests, which behaves as on Node.js and Deno; `transport: "native"` runs
 * `Bun.serve` with Bun's own WebSocket server instead (see the README for what it does
 * differently).
 *
 * @param options Port, hostname, the request handler and the transport.
 * @returns The running server.
 * @example
 * ```ts
 * import { serve } from "./bun.ts";
 * const server = await serve({ port: 0, onRequest: () => new Response("Hello World!") });
 * await server.shutdown();
 * ```
 */
export async function serve(options: ServeOptions): Promise<WsxServer> {
  const checked = checkServeOptions(options);
  checkRuntimeVersion();
  // Loaded only when chosen: the native path stays free of node: modules.
  if (checked.transport !== "native") {
    return (await import("./bun_listen.ts")).serveListen(options);
  }
  bunApi();
  const proc = (globalThis as unknown as { process: NodeLikeProcess }).process;
  const signals: SignalApi = {
    listen: (signal, fn) => proc.on(signal, fn),
    exit: (code) => proc.exit(code),
  };
  // Several processes: every one listens with reusePort, the first starts the others.
  const processes = (checked: CheckedServeOptions) =>
    copiesRole(checked, envOf(proc), () => bunSpawn(checked.processes), signals.exit);
  return await runServer(options, checked, { runtime: NATIVE, processes, signals });
}

interface NodeLikeProcess {
  env: Record<string, string | undefined>;
  on(signal: string, fn: () => void): void;
  exit(code: number): void;
}

const envOf = (proc: NodeLikeProcess): EnvAccess => ({
  get: (name) => proc.env[name],
  delete: (name) => delete proc.env[name],
});

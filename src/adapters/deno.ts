/**
 * The Deno adapter. `serve()` runs wsx's engine over Deno's `node:http` by default;
 * `Deno.serve` and `Deno.upgradeWebSocket` (the native transport) serve an application's
 * own `Deno.serve` ({@linkcode fetchHandler}) and `serve({ transport: "native" })`.
 *
 * Limits of the native transport (see the README): Deno hands over whole messages, so
 * `maxMsgSize` is checked after a message arrived; Deno cannot send a ping on request,
 * so a connection's `timeout` drives Deno's own `idleTimeout` keepalive (the first ping
 * after `timeout` seconds without an inbound message or pong, the close `timeout`
 * seconds after an unanswered ping; `pongTimeout` cannot apply); pongs are not reported.
 *
 * @example Hello World on Deno
 * ```ts
 * import { serve } from "./deno.ts";
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

import type { Capabilities, Transport, WriteResult } from "../core/transport.ts";
import { ConnectionDriver } from "../core/driver.ts";
import { ServerGroup } from "../core/group.ts";
import { reportError } from "../core/report.ts";
import { runServer, type ServerRuntime, type SignalApi } from "../core/lifecycle.ts";
import {
  type CheckedServeOptions,
  checkServeOptions,
  type ServeOptions,
  type WsxServer,
} from "../core/server.ts";
import { certChain } from "../core/tls.ts";
import {
  bindRequest,
  setFallbackUpgrader,
  type UpgradePlan,
  type Upgrader,
} from "../core/upgrade.ts";
import { asBytes, asText } from "./convert.ts";
import { type DenoServeFn, KeptListener } from "./deno_listener.ts";
import { checkRuntimeVersion } from "../runtime.ts";
import { denoSpawn } from "../cluster/spawn.ts";
import { copiesRole } from "../cluster/roles.ts";
import type { EnvAccess } from "../cluster/worker.ts";

export type { ServeOptions, ServeTransport, WsxServer } from "../core/server.ts";

interface DenoApi {
  serve: DenoServeFn;
  upgradeWebSocket(
    request: Request,
    options: { protocol?: string; idleTimeout?: number },
  ): { socket: WebSocket; response: Response };
}

interface DenoSignals {
  addSignalListener(signal: "SIGINT" | "SIGTERM" | "SIGWINCH", fn: () => void): void;
  removeSignalListener(signal: "SIGWINCH", fn: () => void): void;
  exit(code: number): never;
  env: EnvAccess;
}

function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new TypeError("wsx/deno needs the Deno runtime");
  return api;
}

const CAPABILITIES: Capabilities = Object.freeze({
  ping: false,
  inboundControlFrames: false,
  pongs: false,
  enforcesMaxMsgSize: false,
  runtimeKeepalive: true,
  headersOn101: true,
  // Deno.upgradeWebSocket has no permessage-deflate option: the 101 never carries it.
  perMessageDeflate: "none",
  // Deno.serve hands over whole messages only.
  streaming: false,
  // No abort: Deno's WebSocket can only be closed with a close frame (see the README).
  abort: false,
});

// Deno closes a connection whose keepalive ping went unanswered with a 1001 close frame
// and this reason, then ends the TCP connection without waiting for the peer.
const DENO_PING_TIMEOUT = "No response from ping frame.";

/**
 * Deno's `idleTimeout` for a connection's `timeout` in seconds. Deno sends its ping
 * `idleTimeout / 2` seconds after the last inbound message or pong (its own pings and
 * our writes do not count) and closes `idleTimeout / 2` seconds after an unanswered
 * ping, so twice the timeout gives the first ping after `timeout` seconds of silence, as
 * the shared tick does on Bun and Node, and waits `timeout` seconds for the answer (the
 * default `pongTimeout`). 0 stays 0: Deno never pings.
 *
 * Deno keeps a timer per connection, and connections that opened together (a reconnect
 * storm after a deploy) would fall due in the same millisecond: thousands of pings, and
 * later thousands of closes, in one turn of the event loop. `spread` (0 to 1) moves each
 * connection's deadlines later by up to a second, the same leeway as the shared tick's
 * beat, so that they fall due over a second instead.
 * See https://github.com/denoland/deno/blob/main/ext/websocket/01_websocket.js
 */
function denoIdleTimeout(timeoutSeconds: number, spread: number): number {
  return timeoutSeconds === 0 ? 0 : 2 * (timeoutSeconds + spread);
}

class DenoTransport implements Transport {
  readonly capabilities: Capabilities = CAPABILITIES;
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  send(data: string | Uint8Array, isText: boolean): WriteResult {
    const socket = this.#socket;
    if (socket.readyState !== 1) return "closed";
    const backlog = socket.bufferedAmount;
    try {
      if (isText) socket.send(asText(data));
      else socket.send(asBytes(data));
    } catch {
      return "closed";
    }
    return backlog > 0 ? "queued" : "sent";
  }

  close(code: number, reason: string): void {
    try {
      this.#socket.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  terminate(): void {
    // Deno offers no abort: a close frame without waiting for the peer is the nearest.
    this.close(1001, "");
  }

  ping(): void {}

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  get raw(): unknown {
    return this.#socket;
  }
}

class DenoUpgrader implements Upgrader {
  readonly group: ServerGroup;

  constructor(group: ServerGroup) {
    this.group = group;
  }

  accept<U>(request: Request, plan: UpgradePlan<U>): Response {
    const driver = new ConnectionDriver<U>({
      handlers: plan.handlers,
      udata: plan.udata,
      group: this.group,
      protocol: plan.protocol,
      secure: plan.secure,
    });
    const { socket, response } = deno().upgradeWebSocket(request, {
      idleTimeout: denoIdleTimeout(driver.timeoutSeconds, Math.random()),
    });
    // Set the chosen protocol ourselves: Deno's own check splits the offer on ", " only
    // and refuses "a,b" as sent by some clients.
    if (plan.protocol !== undefined) response.headers.set("sec-websocket-protocol", plan.protocol);
    for (const [name, value] of plan.headers) response.headers.append(name, value);
    socket.binaryType = "arraybuffer";
    driver.bind(new DenoTransport(socket));
    socket.onopen = () => driver.open();
    socket.onmessage = (event: MessageEvent) => {
      const data = event.data;
      if (typeof data === "string") driver.message(data, true);
      else driver.message(new Uint8Array(data as ArrayBuffer), false);
    };
    socket.onclose = (event: CloseEvent) => {
      // Deno already sent its 1001 close frame: onClose reports that close, as the peer
      // saw it, rather than the 1006 of a cut socket (the ping-timeout entry of ERRORS).
      if (event.reason === DENO_PING_TIMEOUT && !event.wasClean) {
        driver.group.stats.pingTimeouts++;
      }
      // Deno reports an abnormal end as code 0; RFC 6455 section 7.1.5 calls it 1006.
      driver.closed(event.code === 0 ? 1006 : event.code, event.reason);
    };
    socket.onerror = () => {};
    return response;
  }
}

/**
 * Wraps a `fetch` handler for your own `Deno.serve` (a Hono app's `app.fetch`, say) so
 * that `upgrade()` works inside it, with its own counters. (Requests of a plain
 * `Deno.serve` can be upgraded too once this module is loaded.)
 *
 * @param fetch Your request handler.
 * @returns The handler to give `Deno.serve`.
 * @example Hono on Deno
 * ```ts ignore
 * import { fetchHandler } from "./deno.ts";
 * declare const app: { fetch: (request: Request) => Response | Promise<Response> };
 * Deno.serve({ port: 8080 }, fetchHandler(app.fetch));
 * ```
 */
export function fetchHandler(
  fetch: (request: Request) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  const upgrader = new DenoUpgrader(new ServerGroup(null));
  return (request) => {
    bindRequest(request, upgrader);
    return fetch(request);
  };
}

// Requests from a plain Deno.serve() can be upgraded too. Such a server is not wsx's: no
// server object holds their connections, so one group per process does (a global on purpose).
const plainGroup = new ServerGroup(null);
setFallbackUpgrader(new DenoUpgrader(plainGroup));

// Deno.serve in the server lifecycle: every request may upgrade through the group.
const NATIVE: ServerRuntime = {
  transport: "native",
  capabilities: Object.freeze({ handshakeTimeout: "none", reportsAcceptErrors: true }),
  async listen({ options, port, reusePort, group, onRequest }) {
    const { tls } = options;
    const upgrader = new DenoUpgrader(group);
    const denoApi = deno();
    const kept = new KeptListener(
      denoApi.serve.bind(denoApi),
      {
        port,
        hostname: options.hostname,
        reusePort,
        ...(tls && { cert: certChain(tls), key: tls.key }),
      },
      async (request) => {
        bindRequest(request, upgrader);
        try {
          return await onRequest(request);
        } catch (error) {
          reportError(error, "onRequest");
          return new Response("Internal Server Error", { status: 500 });
        }
      },
      // Out of file descriptors: counted, and Deno.serve starts again on the same port.
      () => group.stats.acceptErrors++,
      (restarted) => group.raw = restarted,
    );
    group.raw = kept.server;
    const addr = await kept.ready;
    return {
      port: addr.port,
      hostname: addr.hostname,
      get raw() {
        return kept.server;
      },
      stop: () => kept.shutdown(),
    };
  },
};

/**
 * Deno sets up its signal machinery (a socket pair) the first time anything listens for
 * a signal, and panics if that fails: a server out of file descriptors would die the
 * moment some part of the runtime first listened for one. Listening once at start sets
 * it up while descriptors are free.
 */
function primeSignals(): void {
  const api = (globalThis as unknown as { Deno: DenoSignals }).Deno;
  const nothing = () => {};
  try {
    api.addSignalListener("SIGWINCH", nothing);
    api.removeSignalListener("SIGWINCH", nothing);
  } catch {
    // No signals here (Windows has no SIGWINCH): nothing to set up.
  }
}

/**
 * Starts a server with wsx upgrades: the seed's `start_http_server`. By default it runs
 * wsx's engine over Deno's `node:http` (the same behaviour as on Node.js and Bun);
 * `transport: "native"` runs `Deno.serve` with `Deno.upgradeWebSocket` instead (see the
 * README for what that server does differently).
 *
 * @param options Port, hostname, the request handler and the transport.
 * @returns The running server, once it listens.
 * @example
 * ```ts
 * import { serve } from "./deno.ts";
 * const server = await serve({ port: 0, onRequest: () => new Response("Hello World!") });
 * await server.shutdown();
 * ```
 */
export async function serve(options: ServeOptions): Promise<WsxServer> {
  const checked = checkServeOptions(options);
  checkRuntimeVersion();
  primeSignals();
  // Loaded only when chosen: the native path stays free of node: modules.
  if (checked.transport !== "native") return (await import("./node.ts")).serve(options);
  if (checked.tls?.passphrase !== undefined) {
    throw new TypeError(
      'Invalid "tls.passphrase": Deno.serve takes no encrypted key; give it decrypted, or use the engine transport (the default)',
    );
  }
  const api = (globalThis as unknown as { Deno: DenoSignals }).Deno;
  const signals: SignalApi = {
    listen: (signal, fn) => api.addSignalListener(signal, fn),
    exit: (code) => api.exit(code),
  };
  // Several processes: every one listens with reusePort, the first starts the others.
  const processes = (checked: CheckedServeOptions) =>
    copiesRole(
      checked,
      api.env,
      () => denoSpawn(checked.processes, checked.hostname),
      signals.exit,
    );
  return await runServer(options, checked, { runtime: NATIVE, processes, signals });
}

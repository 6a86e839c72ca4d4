/**
 * Upgrade requests on Node.js, from wherever their head was read (`node:http`'s
 * `upgrade` event, or `node_fast_upgrade.ts`): a lazy `Request` goes through the user's
 * `fetch`, and `upgrade()` answers the 101 and starts wsx's RFC 6455 engine on the
 * socket. When `fetch` upgrades at once, no promise, closure or undici object is made.
 *
 * @module
 */

import * as nodeCrypto from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { ConnectionDriver } from "../core/driver.ts";
import type { ServerGroup } from "../core/group.ts";
import { reportError } from "../core/report.ts";
import { settings } from "../core/settings.ts";
import {
  bindRequest,
  isUpgradedResponse,
  upgradedResponse,
  type UpgradePlan,
  type Upgrader,
  wasUpgraded,
} from "../core/upgrade.ts";
import { acceptValue, buildAcceptResponse } from "../rfc6455/handshake.ts";
import { NodeWebSocket, type NodeWebSocketOptions } from "../rfc6455/socket.ts";
import type { HeadTimeouts } from "./node_head_timeout.ts";
import { writeRawResponse } from "./node_http.ts";
import { lazyRequest, requestUrl, takeUpgrade } from "./node_request.ts";

/**
 * A request handler: a standard `Request` in, a `Response` out.
 *
 * @example
 * ```ts
 * import type { Fetch } from "./node_upgrade.ts";
 * const hello: Fetch = () => new Response("Hello World!");
 * ```
 */
export type Fetch = (request: Request) => Response | Promise<Response>;

const engineOptions: NodeWebSocketOptions = { limits: settings };
// crypto.hash (Node.js 20.12, 21.7) hashes in one call, without a Hash object.
type OneShotHash = (algorithm: string, data: string, encoding: string) => string;
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;
const sha1Base64 = oneShotHash !== undefined
  ? (input: string) => oneShotHash("sha1", input, "base64")
  : (input: string) => nodeCrypto.createHash("sha1").update(input).digest("base64");

/**
 * The Node.js side of `upgrade()`: answers the 101 on the request's socket and starts
 * the engine.
 *
 * @example
 * ```ts
 * import { NodeUpgrader } from "./node_upgrade.ts";
 * import { ServerGroup } from "../core/group.ts";
 * const upgrader = new NodeUpgrader(new ServerGroup(null));
 * ```
 */
export class NodeUpgrader implements Upgrader {
  /** The server the requests arrive on. */
  readonly group: ServerGroup;

  /** @param group The server the requests arrive on. */
  constructor(group: ServerGroup) {
    this.group = group;
  }

  /** Completes the upgrade; a request that did not ask for one gets a 400. */
  accept<U>(request: Request, plan: UpgradePlan<U>): Response {
    const pending = takeUpgrade(request);
    if (pending === undefined) {
      return new Response("WebSocket upgrade needs an HTTP/1.1 upgrade request", { status: 400 });
    }
    const { socket, head } = pending;
    if (socket.destroyed) return upgradedResponse();
    const key = request.headers.get("sec-websocket-key")!.trim();
    socket.write(
      buildAcceptResponse(acceptValue(key, sha1Base64), plan.protocol ?? null, plan.headers),
    );
    const driver = new ConnectionDriver<U>({
      handlers: plan.handlers,
      udata: plan.udata,
      group: this.group,
      protocol: plan.protocol,
    });
    const engine = new NodeWebSocket(socket, head, driver, engineOptions);
    driver.bind(engine);
    driver.open();
    engine.start();
    return upgradedResponse();
  }
}

/**
 * The response to a request handler that threw: reported, then a 500.
 *
 * @param error What it threw.
 * @returns A 500 response.
 * @example
 * ```ts
 * import { failed } from "./node_upgrade.ts";
 * ```
 */
export function failed(error: unknown): Response {
  reportError(error, "onRequest");
  return new Response("Internal Server Error", { status: 500 });
}

/**
 * One shared `error` listener that destroys its socket: no closure per connection.
 *
 * @example
 * ```ts
 * import { destroySelf } from "./node_upgrade.ts";
 * ```
 */
export function destroySelf(this: Duplex): void {
  this.destroy();
}

// After the request handler: a request it did not upgrade gets its response, then the
// socket is closed.
function settle(request: Request, response: Response, socket: Duplex): void {
  if (wasUpgraded(request) || isUpgradedResponse(response)) return;
  writeRawResponse(response, socket).catch((error) => {
    reportError(error, "upgrade");
    socket.destroy();
  });
}

/**
 * Runs an upgrade request through `fetch`. The socket already has an `error` listener.
 *
 * @param upgrader The server's upgrader.
 * @param fetch The request handler.
 * @param socket The socket, paused.
 * @param method The request method.
 * @param target The request target.
 * @param rawHeaders Names and values, alternating.
 * @param head Bytes read past the request head.
 * @example
 * ```ts
 * import { handleUpgrade } from "./node_upgrade.ts";
 * ```
 */
export function handleUpgrade(
  upgrader: NodeUpgrader,
  fetch: Fetch,
  socket: Duplex,
  method: string,
  target: string,
  rawHeaders: readonly string[],
  head: Uint8Array,
): void {
  let request: Request;
  try {
    request = lazyRequest(method, requestUrl(target, rawHeaders), rawHeaders, { socket, head });
  } catch (error) {
    reportError(error, "upgrade");
    return void socket.destroy();
  }
  bindRequest(request, upgrader);
  let response: Response | Promise<Response>;
  try {
    response = fetch(request);
  } catch (error) {
    response = failed(error);
  }
  if (response instanceof Response) return settle(request, response, socket);
  Promise.resolve(response).then(
    (value) => settle(request, value, socket),
    (error) => settle(request, failed(error), socket),
  );
}

/**
 * Answers `node:http`'s `upgrade` events: the request goes through `fetch`, which
 * upgrades it or answers.
 *
 * @param server The server.
 * @param upgrader Its upgrader.
 * @param fetch The request handler.
 * @param heads The sockets waiting for a head, when wsx started the server.
 * @example
 * ```ts
 * import { listenForUpgrades } from "./node_upgrade.ts";
 * ```
 */
export function listenForUpgrades(
  server: Server,
  upgrader: NodeUpgrader,
  fetch: Fetch,
  heads?: HeadTimeouts,
): void {
  server.on("upgrade", (message: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    heads?.done(message.socket);
    socket.on("error", destroySelf);
    const { method = "GET", url = "/", rawHeaders } = message;
    handleUpgrade(upgrader, fetch, socket, method, url, rawHeaders, head);
  });
}

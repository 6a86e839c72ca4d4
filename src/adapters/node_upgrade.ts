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
import { deflateConfigOf } from "../core/deflate_options.ts";
import { agreeDeflate } from "../rfc6455/deflate/session.ts";
import {
  callBound,
  isUpgradedResponse,
  upgradedResponse,
  type UpgradePlan,
  type Upgrader,
  wasUpgraded,
} from "../core/upgrade.ts";
import { acceptValue, buildAcceptResponse } from "../rfc6455/handshake.ts";
import { acceptKey } from "../rfc6455/accept_key.ts";
import { refusalResponse, REFUSALS } from "../core/protocol/responses.ts";
import { isValidKey } from "../core/protocol/handshake.ts";
import { listsToken } from "../core/protocol/tokens.ts";
import { NodeWebSocket, type NodeWebSocketOptions } from "../rfc6455/socket.ts";
import type { HeadFields } from "./node_head_parser.ts";
import type { HeadTimeouts } from "./node_head_timeout.ts";
import { writeRawResponse } from "./node_http.ts";
import { detectRuntime } from "../runtime.ts";
import { lazyEmptyResponse } from "./node_lazy.ts";
import {
  headFields,
  isEncrypted,
  lazyRequest,
  markedUpgraded,
  markUpgraded,
  requestUrl,
  takeUpgrade,
} from "./node_request.ts";

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

// crypto.hash (Node.js 20.12, 21.7) hashes in one call, without a Hash object.
type OneShotHash = (algorithm: string, data: string, encoding: string) => string;
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;
const sha1Base64 = oneShotHash !== undefined
  ? (input: string) => oneShotHash("sha1", input, "base64")
  : (input: string) => nodeCrypto.createHash("sha1").update(input).digest("base64");
// The accept value: SHA-1 in JavaScript on V8 (Node.js, Deno), where a call into the
// native hash costs more than the hash; Bun's native one-shot hash is cheaper than the
// JavaScript one, and needs no JIT to warm up (bench/README.md, branch bunhs).
const acceptFor: (key: string) => string = detectRuntime() === "bun" && oneShotHash !== undefined
  ? (key) => acceptValue(key, sha1Base64)
  : (key) => acceptKey(key) ?? acceptValue(key, sha1Base64);

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

  // The engine reads the server's maxMsgSize as each message starts.
  readonly #options: NodeWebSocketOptions;

  /** @param group The server the requests arrive on. */
  constructor(group: ServerGroup) {
    this.group = group;
    this.#options = { limits: group.settings };
  }

  /**
   * Completes the upgrade; a request that did not ask for one, or cannot have one (see
   * {@linkcode refusalOf}), gets a 400.
   */
  accept<U>(request: Request, plan: UpgradePlan<U>): Response {
    const pending = takeUpgrade(request);
    if (pending === undefined) {
      return refusalResponse(REFUSALS.notAnUpgrade);
    }
    if (pending.refusal !== undefined) {
      this.group.stats.refusedUpgrades++;
      return refusalResponse({ status: 400, reason: pending.refusal });
    }
    const { socket, head } = pending;
    if (socket.destroyed) {
      markUpgraded(request);
      return upgradedResponse();
    }
    // The head parser's fields when the headers are untouched: no Headers object.
    const fields = headFields(request);
    const key = typeof fields?.key === "string"
      ? fields.key
      : request.headers.get("sec-websocket-key")!.trim();
    const driver = new ConnectionDriver<U>({
      handlers: plan.handlers,
      udata: plan.udata,
      group: this.group,
      protocol: plan.protocol,
      secure: plan.secure,
    });
    // permessage-deflate (RFC 7692): the upgrade's choice, else the setting.
    const deflate = agreeDeflate(
      fields !== undefined && fields.extensions !== undefined
        ? fields.extensions
        : request.headers.get("sec-websocket-extensions"),
      plan.perMessageDeflate !== undefined
        ? plan.perMessageDeflate
        : deflateConfigOf(this.group.settings.perMessageDeflate),
    );
    const headers = deflate === null
      ? plan.headers
      : [...plan.headers, ["Sec-WebSocket-Extensions", deflate.header] as [string, string]];
    const engine = new NodeWebSocket(socket, head, driver, this.#options, deflate?.session);
    const accept = acceptFor(key);
    engine.greet(buildAcceptResponse(accept, plan.protocol ?? null, headers));
    driver.bind(engine);
    driver.open();
    engine.start();
    // Marked on the request (a lazy one): core's WeakSet of upgraded requests is spared.
    markUpgraded(request);
    return upgradedResponse(lazyEmptyResponse());
  }

  /**
   * Whether wsx's head parser found the request a valid upgrade (RFC 6455 section 4.2.1:
   * `Upgrade: websocket`, `Connection: upgrade`, a valid key, version 13, no subprotocol
   * offer to check) and its headers are untouched: `upgrade()` skips its own check.
   * Anything else (a field sent twice, an offer) is checked by `upgrade()` as usual.
   */
  checked(request: Request): boolean {
    const fields = headFields(request);
    if (fields === undefined) return false;
    const { upgrade, key, version, protocol } = fields;
    return typeof upgrade === "string" && listsToken(upgrade, "websocket") &&
      typeof key === "string" && isValidKey(key) && version === "13" && protocol === null;
  }

  /** Whether `accept` marked the request as upgraded (a lazy request: most of them). */
  remembers(request: Request): boolean {
    return markedUpgraded(request);
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
  // The placeholder first: no WeakSet lookup for the usual upgrade.
  if (isUpgradedResponse(response) || markedUpgraded(request) || wasUpgraded(request)) return;
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
 * @param refusal Why the request cannot become a WebSocket, if it cannot (from
 * {@linkcode refusalOf}): `upgrade()` then answers 400, the request handler may answer
 * otherwise.
 * @param fields The handshake's fields, when wsx's head parser read the head.
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
  refusal?: string,
  fields?: HeadFields,
): void {
  let request: Request;
  try {
    const url = requestUrl(target, rawHeaders, isEncrypted(socket));
    request = lazyRequest(method, url, rawHeaders, { socket, head, refusal }, fields);
  } catch (error) {
    reportError(error, "upgrade");
    return void socket.destroy();
  }
  let response: Response | Promise<Response>;
  try {
    // Bound to the upgrader while `fetch` runs, and after only if it returns a promise.
    response = callBound(request, upgrader, fetch);
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
 * Why a request `node:http` emits as an upgrade cannot become a WebSocket, if it cannot.
 * RFC 6455 asks for HTTP/1.1 or later
 * ([section 4.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.1),
 * [4.2.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.1)). And a GET upgrade has no body: `node:http` stops at the head of an
 * upgrade, so a body would be read as WebSocket frames. (Heads taken by
 * `node_fast_upgrade.ts` are HTTP/1.1 without a body.)
 *
 * @param message The request `node:http` parsed.
 * @returns The reason, for a 400, or undefined.
 * @example
 * ```ts
 * import { refusalOf } from "./node_upgrade.ts";
 * ```
 */
export function refusalOf(message: IncomingMessage): string | undefined {
  const { httpVersionMajor: major, httpVersionMinor: minor, headers } = message;
  return upgradeRefusal(
    major > 1 || (major === 1 && minor >= 1) ? undefined : message.httpVersion,
    headers["transfer-encoding"],
    headers["content-length"],
  );
}

/**
 * The rule of {@linkcode refusalOf}, for a head any parser read (wsx's HTTP/1.1 server's
 * too): why an upgrade request cannot become a WebSocket, if it cannot.
 *
 * @param olderVersion The request's HTTP version when it is older than 1.1 (`"1.0"`),
 * else undefined.
 * @param coding Its `Transfer-Encoding`, if any.
 * @param length Its `Content-Length`, if any.
 * @returns The reason, for a 400, or undefined.
 * @example
 * ```ts
 * import { upgradeRefusal } from "./node_upgrade.ts";
 * upgradeRefusal(undefined, undefined, "5"); // "Invalid upgrade request: ... Content-Length: 5"
 * ```
 */
export function upgradeRefusal(
  olderVersion: string | undefined,
  coding: string | undefined,
  length: string | undefined,
): string | undefined {
  if (olderVersion !== undefined) {
    return `Unsupported HTTP version: a WebSocket upgrade needs HTTP/1.1 or later, got "HTTP/${olderVersion}"`;
  }
  if (coding !== undefined) {
    return `Invalid upgrade request: a GET upgrade has no body, got "Transfer-Encoding: ${coding}"`;
  }
  if (length !== undefined && Number(length) !== 0) {
    return `Invalid upgrade request: a GET upgrade has no body, got "Content-Length: ${length}"`;
  }
  return undefined;
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
    handleUpgrade(upgrader, fetch, socket, method, url, rawHeaders, head, refusalOf(message));
  });
}

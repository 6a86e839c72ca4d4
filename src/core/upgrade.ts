/**
 * `upgrade(request, settings)`, runtime-free: checks the request and the settings once,
 * then hands a resolved plan to the adapter that received the request.
 *
 * @module
 */

import type { UpgradeSettings, WebSocketHandlers } from "../types.ts";
import type { ServerGroup } from "./group.ts";
import { headerPairs } from "./headers.ts";
import { checkUpgrade } from "./protocol/handshake.ts";
import { refusalResponse, REFUSALS } from "./protocol/responses.ts";
import { listElements } from "./protocol/tokens.ts";
import { isThenable } from "./thenable.ts";
import { type DeflateConfig, resolveDeflate } from "./deflate_options.ts";

/**
 * An upgrade, checked and resolved, ready for an adapter.
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import type { UpgradePlan } from "./upgrade.ts";
 * ```
 */
export interface UpgradePlan<U> {
  /** The user's handlers. */
  readonly handlers: WebSocketHandlers<U>;
  /** The first user data. */
  readonly udata: U;
  /** Extra 101 headers, validated. */
  readonly headers: ReadonlyArray<[string, string]>;
  /** The chosen subprotocol, if any. */
  readonly protocol: string | undefined;
  /** permessage-deflate for this upgrade (`null` off), or undefined for the setting. */
  readonly perMessageDeflate?: DeflateConfig | null;
  /** Whether the request came over TLS (its URL is `https:`): the connection is `wss:`. */
  readonly secure: boolean;
}

/**
 * The adapter side of `upgrade`: accepts a checked request.
 *
 * @example
 * ```ts
 * import type { Upgrader } from "./upgrade.ts";
 * ```
 */
export interface Upgrader {
  /** The server the request arrived on. */
  readonly group: ServerGroup;
  /**
   * Whether every request it receives came over TLS, where the adapter knows (it runs the
   * server): the plan then takes it instead of reading the request's URL, which Bun
   * builds anew on every read.
   */
  readonly secure?: boolean;
  /** Completes the upgrade; returns what the request handler must return. */
  accept<U>(request: Request, plan: UpgradePlan<U>): Response;
  /**
   * Whether the adapter itself remembers that it upgraded this request (a request object
   * of its own, marked in `accept`): `upgrade()` then keeps no record of it, and the
   * adapter asks its own mark before {@linkcode wasUpgraded}.
   */
  remembers?(request: Request): boolean;
  /**
   * Whether the adapter's own head parser already found this request a valid WebSocket
   * upgrade (what {@linkcode checkUpgradeRequest} checks) and nothing changed its headers
   * since: `upgrade()` then does not check them again. Adapters that cannot tell leave it
   * out, or answer `false`.
   */
  checked?(request: Request): boolean;
}

const bound = new WeakMap<Request, Upgrader>();
let fallback: Upgrader | undefined;

/**
 * Ties a request to the adapter that received it (adapters call it before the user's
 * request handler runs).
 *
 * @param request The request.
 * @param upgrader The adapter side.
 * @example
 * ```ts
 * import { bindRequest } from "./upgrade.ts";
 * ```
 */
export function bindRequest(request: Request, upgrader: Upgrader): void {
  bound.set(request, upgrader);
}

// The request whose handler is running now, and its adapter: tied without a WeakMap
// entry while the handler runs synchronously (see callBound).
let current: Request | undefined;
let currentUpgrader: Upgrader | undefined;

/**
 * Calls a request handler with the request tied to the adapter that received it, like
 * {@linkcode bindRequest} but without an entry in a WeakMap for the many handlers that
 * upgrade before they return; a handler that returns a promise gets the entry, so that
 * it can still upgrade after an `await`.
 *
 * @typeParam T What the handler returns.
 * @param request The request.
 * @param upgrader The adapter side.
 * @param handler The request handler.
 * @returns What the handler returned.
 * @example
 * ```ts
 * import { callBound, type Upgrader } from "./upgrade.ts";
 * declare const upgrader: Upgrader;
 * callBound(new Request("http://x/"), upgrader, () => new Response("hi"));
 * ```
 */
export function callBound<T>(
  request: Request,
  upgrader: Upgrader,
  handler: (request: Request) => T,
): T {
  const outerRequest = current, outerUpgrader = currentUpgrader;
  current = request;
  currentUpgrader = upgrader;
  let result: T;
  try {
    result = handler(request);
  } finally {
    current = outerRequest;
    currentUpgrader = outerUpgrader;
  }
  if (isThenable(result)) {
    bound.set(request, upgrader);
  }
  return result;
}

/**
 * Sets the adapter used for requests no wsx server received (Deno can upgrade any
 * request from `Deno.serve`).
 *
 * @param upgrader The adapter side, or undefined.
 * @example
 * ```ts
 * import { setFallbackUpgrader } from "./upgrade.ts";
 * setFallbackUpgrader(undefined);
 * ```
 */
export function setFallbackUpgrader(upgrader: Upgrader | undefined): void {
  fallback = upgrader;
}

// Placeholders carry a mark of their own rather than an entry in a WeakSet: one per
// handshake, and an ephemeron for the GC to trace. (Requests are the caller's objects,
// perhaps frozen or wrapped: they stay in a WeakSet.)
const kUpgraded: unique symbol = Symbol("wsx.upgraded");
type Marked = { [kUpgraded]?: true };
const upgradedRequests = new WeakSet<Request>();

/**
 * Whether `upgrade()` took this request over. Adapters that answer the 101 themselves
 * (Bun, Node) check it rather than the response: middleware (Hono's, say) may replace
 * the placeholder response on its way back.
 *
 * @param request The request.
 * @returns `true` once the request was upgraded.
 * @example
 * ```ts
 * import { wasUpgraded } from "./upgrade.ts";
 * wasUpgraded(new Request("http://x/")); // false
 * ```
 */
export function wasUpgraded(request: Request): boolean {
  return upgradedRequests.has(request);
}

/**
 * A placeholder response that tells the adapter's request handler that the upgrade was
 * taken over (Bun and Node answer the 101 themselves).
 *
 * @param response The response to mark (an adapter may pass one that is cheaper to
 * make). @default {new Response()}
 * @returns The marked response.
 * @example
 * ```ts
 * import { isUpgradedResponse, upgradedResponse } from "./upgrade.ts";
 * isUpgradedResponse(upgradedResponse()); // true
 * ```
 */
export function upgradedResponse(response: Response = new Response()): Response {
  // One per upgrade, not one shared object: middleware (Hono's) may add headers to the
  // response it gets back. `new Response()` skips the WebIDL conversion of an init.
  (response as Marked)[kUpgraded] = true;
  return response;
}

/**
 * Whether a response is the placeholder of a completed upgrade.
 *
 * @param response The response a handler returned.
 * @returns `true` for the placeholder.
 * @example
 * ```ts
 * import { isUpgradedResponse } from "./upgrade.ts";
 * isUpgradedResponse(new Response("x")); // false
 * ```
 */
export function isUpgradedResponse(response: unknown): boolean {
  return typeof response === "object" && response !== null &&
    (response as Marked)[kUpgraded] === true;
}

/**
 * The answer to a request that is not a valid WebSocket upgrade (RFC 6455 section 4.2.1),
 * or `undefined` when it is valid.
 *
 * @param request The request.
 * @returns A refusal response, or undefined.
 * @example
 * ```ts
 * import { checkUpgradeRequest } from "./upgrade.ts";
 * checkUpgradeRequest(new Request("http://x/"))?.status; // 400
 * ```
 */
export function checkUpgradeRequest(request: Request): Response | undefined {
  const headers = request.headers;
  const check = checkUpgrade(request.method, (name) => headers.get(name));
  return check.ok ? undefined : refusalResponse(check);
}

/**
 * 403 for a browser origin outside the allowed list (cross-site WebSocket hijacking).
 * Requests without an `Origin` header (non-browser clients) pass.
 *
 * @param request The request.
 * @param allowed The allowed origins, or undefined for any.
 * @returns A refusal, or undefined.
 * @example
 * ```ts
 * import { checkOrigin } from "./upgrade.ts";
 * const req = new Request("http://x/", { headers: { origin: "http://evil.example" } });
 * checkOrigin(req, new Set(["http://good.example"]))?.status; // 403
 * ```
 */
export function checkOrigin(
  request: Request,
  allowed: ReadonlySet<string> | undefined,
): Response | undefined {
  if (allowed === undefined) return undefined;
  const origin = request.headers.get("origin");
  if (origin === null || allowed.has(origin.toLowerCase())) return undefined;
  return refusalResponse(REFUSALS.originNotAllowed);
}

// The extra 101 headers of the many upgrades that add none, shared.
const NO_HEADERS: ReadonlyArray<[string, string]> = Object.freeze([]);

const HANDLER_NAMES = [
  "onOpen",
  "onMessage",
  "onShutdown",
  "onClose",
  "onDrain",
  "onStream",
  "streamWhen",
] as const;

const notHandler = (handler: unknown): boolean =>
  handler !== undefined && typeof handler !== "function";

function badHandler<U>(settings: UpgradeSettings<U>): void {
  for (const name of HANDLER_NAMES) {
    const handler = settings[name];
    if (notHandler(handler)) {
      throw new TypeError(`Invalid "${name}": expected a function, got ${typeof handler}`);
    }
  }
}

function choose<U>(request: Request, settings: UpgradeSettings<U>): string | undefined {
  const wanted = settings.protocol;
  // Most servers speak no subprotocol: the offer is not even read.
  if (wanted === undefined) return undefined;
  const offered = listElements(request.headers.get("sec-websocket-protocol") ?? "");
  if (typeof wanted === "string") return offered.includes(wanted) ? wanted : undefined;
  if (typeof wanted !== "function") {
    throw new TypeError(
      'Invalid "protocol": expected a string or a function choosing among the offered protocols',
    );
  }
  const chosen = wanted(offered);
  // Never answer with a protocol the client did not offer.
  return chosen !== undefined && offered.includes(chosen) ? chosen : undefined;
}

/**
 * Checks the settings, resolves headers and the subprotocol.
 *
 * @typeParam U The type of the user data.
 * @param request The request.
 * @param settings The upgrade settings.
 * @param secure Whether the request came over TLS, when the adapter knows; else its URL
 * says.
 * @returns The plan.
 * @throws {TypeError} Naming the setting that is wrong.
 * @example
 * ```ts
 * import { planUpgrade } from "./upgrade.ts";
 * ```
 */
export function planUpgrade<U>(
  request: Request,
  settings: UpgradeSettings<U>,
  secure?: boolean,
): UpgradePlan<U> {
  if (typeof settings !== "object" || settings === null) {
    throw new TypeError("Invalid upgrade settings: expected an object with handlers");
  }
  // Read one by one rather than in a loop over their names: this runs for every
  // handshake, and on Bun a fresh server compiles it (JavaScriptCore's JIT) while its
  // first thousands of connections open; the loop runs only to name a bad handler.
  if (
    notHandler(settings.onOpen) || notHandler(settings.onMessage) ||
    notHandler(settings.onShutdown) || notHandler(settings.onClose) ||
    notHandler(settings.onDrain) || notHandler(settings.onStream) ||
    notHandler(settings.streamWhen)
  ) badHandler(settings);
  return {
    handlers: settings,
    udata: settings.udata as U,
    headers: settings.headers === undefined && settings.cookies === undefined
      ? NO_HEADERS
      : headerPairs(settings.headers, settings.cookies),
    // Calls that would only return at once are not made (see the handlers above).
    protocol: settings.protocol === undefined ? undefined : choose(request, settings),
    perMessageDeflate: settings.perMessageDeflate === undefined
      ? undefined
      : resolveDeflate(settings.perMessageDeflate),
    secure: secure ?? request.url.startsWith("https:"),
  };
}

/**
 * Upgrades a request received by a wsx server (or by `Deno.serve` once `@wsx/wsx/deno` is
 * loaded) and returns the response to give back: the 101 on Deno, a placeholder on Bun
 * and Node, or an error response (426, 400, 405, 503) for a request that cannot upgrade.
 * The canonical way to accept a WebSocket; `Websocket.upgrade` and `websocketUpgrade` are
 * the seed's names for it.
 *
 * @typeParam U The type of the user data.
 * @param request The request.
 * @param settings Handlers, user data, headers and cookies.
 * @returns The response the request handler must return.
 * @throws {TypeError} For settings that are wrong, or a request no adapter received.
 * @example
 * ```ts
 * import { upgrade } from "./upgrade.ts";
 * const onRequest = (req: Request) => upgrade(req, { onMessage: (ws, d) => ws.write(d) });
 * ```
 */
export function upgrade<U = unknown>(request: Request, settings: UpgradeSettings<U>): Response {
  const upgrader = request === current ? currentUpgrader : bound.get(request) ?? fallback;
  if (upgrader === undefined) {
    throw new TypeError(
      "Cannot upgrade: the request did not come from a wsx server (use serve() from @wsx/wsx/deno, @wsx/wsx/bun or @wsx/wsx/node)",
    );
  }
  const plan = planUpgrade(request, settings, upgrader.secure);
  const group = upgrader.group;
  const allowed = group.allowedOrigins;
  const refused =
    (upgrader.checked?.(request) === true ? undefined : checkUpgradeRequest(request)) ??
      (allowed === undefined ? undefined : checkOrigin(request, allowed)) ??
      (group.accepting ? undefined : refusalResponse(REFUSALS.shuttingDown));
  if (refused) {
    group.stats.refusedUpgrades++;
    return refused;
  }
  const response = upgrader.accept(request, plan);
  if (isUpgradedResponse(response) && upgrader.remembers?.(request) !== true) {
    upgradedRequests.add(request);
  }
  return response;
}

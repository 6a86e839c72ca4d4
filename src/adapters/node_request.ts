/**
 * A standard `Request` for an upgrade request on Node.js, built lazily: `method`, `url`
 * and `headers` come straight from the parsed request head, and a full undici `Request`
 * is made only when something asks for more (`signal`, `body`, `clone()`, ...). An
 * undici `Request` costs a URL parse, an `AbortSignal`, WebIDL conversions of every init
 * field and their garbage on every handshake (bench/README.md has the figures), and
 * upgrade handlers rarely need more than a header or two.
 *
 * The object passes `instanceof Request`: its prototype inherits from
 * `Request.prototype`, every accessor and method it does not answer itself is forwarded
 * to the full request, and so is the state undici keeps under symbols on the instance
 * (Node.js 20 and 22), so that `new Request(request)` and `fetch(request)` see the whole
 * request too. Where undici keeps that state in private fields instead (Node.js 24), an
 * upgrade request is a full `Request` from the start.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import { headersFrom, lazyHeaders, untouchedHeaders } from "./node_headers.ts";
import { forwardToFull } from "./node_lazy.ts";
import type { HeadFields } from "./node_head_parser.ts";

/**
 * Whether a socket is a TLS socket (`tls.TLSSocket#encrypted`): its requests are
 * `https:`.
 *
 * @param socket The socket.
 * @returns `true` over TLS.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { isEncrypted } from "./node_request.ts";
 * isEncrypted(new Socket()); // false
 * ```
 */
export function isEncrypted(socket: Duplex): boolean {
  return (socket as { encrypted?: boolean }).encrypted === true;
}

/**
 * The socket and the bytes read past the head of a request that may upgrade.
 *
 * @example
 * ```ts
 * import type { PendingUpgrade } from "./node_request.ts";
 * ```
 */
export interface PendingUpgrade {
  /** The socket, still owned by no one. */
  readonly socket: Duplex;
  /** Bytes read past the request head (the start of the WebSocket stream). */
  readonly head: Uint8Array;
  /** Why the request cannot become a WebSocket, if it cannot: `upgrade()` answers 400. */
  readonly refusal?: string;
}

const UPGRADED: unique symbol = Symbol("wsx.node.upgraded");

/**
 * The request an upgrade's handler gets (made by {@linkcode lazyRequest}): the method,
 * the URL and the raw header list, with `Headers` and a full `Request` made only when
 * read. Exported for `bun_listen_tiers.ts`, which tells Bun how to compile it.
 *
 * @example
 * ```ts
 * import { LazyRequest } from "./node_request.ts";
 * ```
 */
export class LazyRequest {
  readonly #method: string;
  readonly #url: string;
  readonly #rawHeaders: readonly string[];
  readonly #fields: HeadFields | undefined;
  #headers: Headers | undefined;
  #full: Request | undefined;
  // The socket, until an upgrade takes it (then UPGRADED once the upgrade succeeded): a
  // field rather than an entry in `pendingOf`, or in core's WeakSet of upgraded requests
  // (a WeakMap set, get and delete per handshake, and an ephemeron for the GC).
  #pending: PendingUpgrade | typeof UPGRADED | undefined;

  constructor(
    method: string,
    url: string,
    rawHeaders: readonly string[],
    pending?: PendingUpgrade,
    fields?: HeadFields,
  ) {
    this.#method = method;
    this.#url = url;
    this.#rawHeaders = rawHeaders;
    this.#pending = pending;
    this.#fields = fields;
  }

  // Takes the pending upgrade of a lazy request; null for any other object.
  static take(request: object): PendingUpgrade | undefined | null {
    if (!(#pending in request)) return null;
    const pending = request.#pending;
    // An upgraded request keeps its mark: a second upgrade() of it gets its refusal, but
    // the response it returns must still be dropped, not written into the WebSocket.
    if (pending === UPGRADED) return undefined;
    request.#pending = undefined;
    return pending;
  }

  // Marks a lazy request whose upgrade was taken as upgraded; false for any other object.
  static mark(request: object): boolean {
    if (!(#pending in request)) return false;
    request.#pending = UPGRADED;
    return true;
  }

  // The head's fields of a lazy request whose headers nobody changed; else undefined.
  static fields(request: object): HeadFields | undefined {
    if (!(#pending in request)) return undefined;
    const headers = request.#headers;
    return headers === undefined || untouchedHeaders(headers) ? request.#fields : undefined;
  }

  // Whether a lazy request was marked upgraded.
  static marked(request: object): boolean {
    return #pending in request && request.#pending === UPGRADED;
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#headers ??= this.#full?.headers ?? lazyHeaders(this.#rawHeaders, this.#fields);
  }

  // The headers are copied when the full request is made: a change made to them later
  // does not reach it (an incoming request's headers are rarely changed).
  static full(request: LazyRequest): Request {
    return request.#full ??= new Request(request.#url, {
      method: request.#method,
      headers: request.headers,
    });
  }
}

// Request.prototype's own accessors and methods, but method, url and headers, are
// answered by the full request, and so is undici's own state (Node.js 20, 22:
// symbol-keyed fields; newer undici uses private fields, which cannot be forwarded).
forwardToFull(
  LazyRequest.prototype,
  Request.prototype,
  Object.getOwnPropertySymbols(new Request("http://localhost/")),
  LazyRequest.full as (lazy: object) => Request,
);

// Whether undici takes a lazy request as the input of `new Request()` and `fetch()`: it
// reads the input's state through symbol keys in Node.js 20 and 22, which the lazy
// request forwards; newer undici (Node.js 24) uses private fields, and there every
// upgrade request is a full `Request` from the start.
const LAZY_IS_COMPLETE = (() => {
  try {
    const probe = new LazyRequest("GET", "http://localhost/", []);
    return new Request(probe as unknown as Request).url === "http://localhost/";
  } catch {
    return false;
  }
})();

// The socket of each upgrade request, until an upgrade takes it.
const pendingOf = new WeakMap<Request, PendingUpgrade>();

/**
 * The absolute URL of a request as undici's `Request` would give it: `http://` (or
 * `https://` over TLS), the first `Host` header (`localhost` without one) and the
 * request target, parsed.
 *
 * @param target The request target (`IncomingMessage#url`).
 * @param rawHeaders Names and values, alternating (`IncomingMessage#rawHeaders`).
 * @param secure Whether the request came over TLS. @default {false}
 * @returns The URL, serialized.
 * @throws {TypeError} When the URL cannot be parsed or holds credentials, as undici's
 * `Request` would.
 * @example
 * ```ts
 * import { requestUrl } from "./node_request.ts";
 * requestUrl("/chat?x=1", ["Host", "Example.com:80"]); // "http://example.com/chat?x=1"
 * ```
 */
export function requestUrl(
  target: string,
  rawHeaders: readonly string[],
  secure: boolean = false,
): string {
  let host = "localhost";
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 4 && name.toLowerCase() === "host") {
      host = rawHeaders[i + 1];
      break;
    }
  }
  // Most connections of a server send the same host and target: the last canonical
  // pair is taken as it is without testing it again.
  if (host === last.host && target === last.target && secure === last.secure) return last.url;
  const input = `${secure ? "https" : "http"}://${host}${target}`;
  if (isCanonical(host, target, secure)) {
    last.host = host;
    last.target = target;
    last.secure = secure;
    last.url = input;
    return input;
  }
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new TypeError(`Failed to parse URL from ${input}`, { cause });
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(`Request cannot be constructed from a URL that includes credentials`);
  }
  return url.href;
}

// The last host and target found canonical, and their URL.
const last: { host?: string; target?: string; secure?: boolean; url: string } = { url: "" };

// A host and target the URL parser would return unchanged (its work spared on every
// handshake): a lowercase DNS name (no IDNA, no name the parser reads as an IPv4
// number) or a dotted IPv4 address without leading zeros, an optional port without
// leading zeros that is not the scheme's default, and a path and query of characters
// it never escapes (the query escapes "'"), without "%" or dot segments.
const HOST = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[1-9][0-9]{0,4})?$/;
const IPV4_LIKE = /(?:^|\.)(?:[0-9]+|0x[0-9a-z]*)(?::|$)/;
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?::|$)/;
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@/?]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/;

function isCanonical(host: string, target: string, secure: boolean): boolean {
  if (!HOST.test(host) || !PLAIN_TARGET.test(target) || DOT_SEGMENT.test(target)) return false;
  if (host.startsWith("xn--") || host.includes(".xn--")) return false;
  if (IPV4_LIKE.test(host) && !IPV4.test(host)) return false;
  const colon = host.indexOf(":");
  if (colon < 0) return true;
  const port = Number(host.slice(colon + 1));
  return port <= 65535 && port !== (secure ? 443 : 80);
}

/**
 * A `Request` for an upgrade request: method, URL and headers at once, the rest of
 * undici's `Request` on first use. It carries its socket until an upgrade takes it.
 *
 * @param method The request method.
 * @param url The absolute URL, from {@linkcode requestUrl}.
 * @param rawHeaders Names and values, alternating.
 * @param pending The socket and the bytes read past the head.
 * @param fields The handshake's fields, when the head parser picked them out.
 * @returns The request.
 * @throws {TypeError} For a method undici's `Request` refuses (`CONNECT`, `TRACE`, `TRACK`).
 * @example
 * ```ts
 * import { lazyRequest } from "./node_request.ts";
 * ```
 */
export function lazyRequest(
  method: string,
  url: string,
  rawHeaders: readonly string[],
  pending: PendingUpgrade,
  fields?: HeadFields,
): Request {
  if (method !== "GET" && FORBIDDEN_METHODS.has(method.toUpperCase())) {
    throw new TypeError(`'${method}' HTTP method is unsupported.`);
  }
  if (LAZY_IS_COMPLETE) {
    return new LazyRequest(method, url, rawHeaders, pending, fields) as unknown as Request;
  }
  const request = new Request(url, { method, headers: headersFrom(rawHeaders) });
  pendingOf.set(request, pending);
  return request;
}

// https://fetch.spec.whatwg.org/#forbidden-method
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Takes the socket of a request from {@linkcode lazyRequest}, once.
 *
 * @param request The request an upgrade was asked for.
 * @returns The socket and head, or undefined for another request or a second call.
 * @example
 * ```ts
 * import { takeUpgrade } from "./node_request.ts";
 * takeUpgrade(new Request("http://x/")); // undefined
 * ```
 */
export function takeUpgrade(request: Request): PendingUpgrade | undefined {
  const lazy = LazyRequest.take(request);
  if (lazy !== null) return lazy;
  const pending = pendingOf.get(request);
  pendingOf.delete(request);
  return pending;
}

/**
 * Marks a request from {@linkcode lazyRequest} as upgraded, after its upgrade was taken
 * with {@linkcode takeUpgrade}; other requests are left alone.
 *
 * @param request The request just upgraded.
 * @returns Whether it was marked (a lazy request): {@linkcode markedUpgraded} then
 * answers `true` for it.
 * @example
 * ```ts
 * import { markUpgraded } from "./node_request.ts";
 * markUpgraded(new Request("http://x/")); // false
 * ```
 */
export function markUpgraded(request: Request): boolean {
  return LazyRequest.mark(request);
}

/**
 * Whether {@linkcode markUpgraded} marked this request.
 *
 * @param request A request.
 * @returns `true` for a lazy request that was upgraded.
 * @example
 * ```ts
 * import { markedUpgraded } from "./node_request.ts";
 * markedUpgraded(new Request("http://x/")); // false
 * ```
 */
export function markedUpgraded(request: Request): boolean {
  return LazyRequest.marked(request);
}

/**
 * The handshake's fields as the head parser picked them out, for a request from
 * {@linkcode lazyRequest} whose headers still answer from its head alone: they are then
 * what `request.headers.get` returns for them, without a `Headers` object.
 *
 * @param request A request.
 * @returns The fields, or undefined (another request, no fields, or headers changed).
 * @example
 * ```ts
 * import { headFields } from "./node_request.ts";
 * headFields(new Request("http://x/")); // undefined
 * ```
 */
export function headFields(request: Request): HeadFields | undefined {
  return LazyRequest.fields(request);
}

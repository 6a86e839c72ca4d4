/**
 * A standard `Request` for an upgrade request on Node.js, built lazily: `method`, `url`
 * and `headers` come straight from the parsed request head, and a full undici `Request`
 * is made only when something asks for more (`signal`, `body`, `clone()`, ...). An
 * undici `Request` costs about 10 us of CPU (URL parsing, an `AbortSignal`, WebIDL
 * conversions of every init field, and their garbage), some 5% of a whole handshake,
 * and upgrade handlers rarely need more than a header or two.
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

// The full request, indexed by the names forwarded to it.
type Forwarded = Record<string | symbol, unknown>;

class LazyRequest {
  readonly #method: string;
  readonly #url: string;
  readonly #rawHeaders: readonly string[];
  #headers: Headers | undefined;
  #full: Request | undefined;

  constructor(method: string, url: string, rawHeaders: readonly string[]) {
    this.#method = method;
    this.#url = url;
    this.#rawHeaders = rawHeaders;
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#headers ??= this.#full?.headers ?? headersFrom(this.#rawHeaders);
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

/**
 * Headers from Node's `rawHeaders`, a name and a value at a time as undici's `Headers`
 * takes them; one it refuses is dropped rather than failing the request.
 *
 * @param raw Names and values, alternating.
 * @returns The headers.
 * @example
 * ```ts
 * import { headersFrom } from "./node_request.ts";
 * headersFrom(["Host", "x", "X-A", "1"]).get("x-a"); // "1"
 * ```
 */
export function headersFrom(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // Not a valid header name or value for the fetch API.
    }
  }
  return headers;
}

function forward(proto: object, name: string | symbol, from: PropertyDescriptor): void {
  if (from.get !== undefined) {
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: LazyRequest) {
        return (LazyRequest.full(this) as unknown as Forwarded)[name];
      },
      set(this: LazyRequest, value: unknown) {
        (LazyRequest.full(this) as unknown as Forwarded)[name] = value;
      },
    });
  } else if (typeof from.value === "function") {
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value(this: LazyRequest, ...args: unknown[]) {
        const full = LazyRequest.full(this) as unknown as Forwarded;
        return (full[name] as (...a: unknown[]) => unknown).apply(full, args);
      },
    });
  }
}

// Request.prototype's own accessors and methods, but method, url and headers, are
// answered by the full request.
Object.setPrototypeOf(LazyRequest.prototype, Request.prototype);
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === "constructor" || Object.hasOwn(LazyRequest.prototype, name)) continue;
  forward(LazyRequest.prototype, name, Object.getOwnPropertyDescriptor(Request.prototype, name)!);
}
// undici's own state (Node.js 20, 22: symbol-keyed fields; newer undici uses private
// fields, which cannot be forwarded).
for (const symbol of Object.getOwnPropertySymbols(new Request("http://localhost/"))) {
  forward(LazyRequest.prototype, symbol, { get: () => undefined });
}

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
  const input = `${secure ? "https" : "http"}://${host}${target}`;
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

/**
 * A `Request` for an upgrade request: method, URL and headers at once, the rest of
 * undici's `Request` on first use. It carries its socket until an upgrade takes it.
 *
 * @param method The request method.
 * @param url The absolute URL, from {@linkcode requestUrl}.
 * @param rawHeaders Names and values, alternating.
 * @param pending The socket and the bytes read past the head.
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
): Request {
  if (method !== "GET" && FORBIDDEN_METHODS.has(method.toUpperCase())) {
    throw new TypeError(`'${method}' HTTP method is unsupported.`);
  }
  const request = LAZY_IS_COMPLETE
    ? new LazyRequest(method, url, rawHeaders) as unknown as Request
    : new Request(url, { method, headers: headersFrom(rawHeaders) });
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
  const pending = pendingOf.get(request);
  pendingOf.delete(request);
  return pending;
}

/**
 * Lazy stand-ins for undici's `Request` and `Headers` (`node_request.ts`,
 * `node_headers.ts`): a class whose prototype inherits from the standard one answers
 * the cheap parts itself and forwards every other accessor and method to a full object
 * it makes on first use. An undici object costs microseconds to build (WebIDL
 * conversions, validation, URL parsing), and an upgrade handler rarely needs more than a
 * header or two.
 *
 * @module
 */

// The full object, indexed by the names forwarded to it.
type Forwarded = Record<string | symbol, unknown>;

function forward(
  proto: object,
  name: string | symbol,
  from: PropertyDescriptor,
  full: (lazy: object) => object,
): void {
  if (from.get !== undefined) {
    Object.defineProperty(proto, name, {
      configurable: true,
      get(this: object) {
        return (full(this) as Forwarded)[name];
      },
      set(this: object, value: unknown) {
        (full(this) as Forwarded)[name] = value;
      },
    });
  } else if (typeof from.value === "function") {
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value(this: object, ...args: unknown[]) {
        const target = full(this) as Forwarded;
        return (target[name] as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
  }
}

/**
 * Makes `lazy` (a class's prototype) inherit from `standard` and forward what it does
 * not define itself: `standard`'s own accessors and methods (strings and symbols, such
 * as `Symbol.iterator`) and the symbol-keyed state undici keeps on an instance
 * (`instanceSymbols`: Node.js 20 and 22).
 *
 * @param lazy The lazy class's prototype.
 * @param standard The standard class's prototype (`Request.prototype`).
 * @param instanceSymbols Symbols undici sets on instances.
 * @param full Makes (once) and returns the full object of a lazy one.
 * @example
 * ```ts
 * import { forwardToFull } from "./node_lazy.ts";
 * class LazyHeaders {
 *   static full(lazy: object): Headers {
 *     return new Headers();
 *   }
 * }
 * forwardToFull(LazyHeaders.prototype, Headers.prototype, [], LazyHeaders.full);
 * ```
 */
export function forwardToFull(
  lazy: object,
  standard: object,
  instanceSymbols: readonly symbol[],
  full: (lazy: object) => object,
): void {
  Object.setPrototypeOf(lazy, standard);
  for (const name of Reflect.ownKeys(standard)) {
    if (name === "constructor" || Object.hasOwn(lazy, name)) continue;
    forward(lazy, name, Object.getOwnPropertyDescriptor(standard, name)!, full);
  }
  for (const symbol of instanceSymbols) forward(lazy, symbol, { get: () => undefined }, full);
}

class LazyResponse {
  #full: Response | undefined;

  static full(lazy: LazyResponse): Response {
    return lazy.#full ??= new Response();
  }
}

forwardToFull(
  LazyResponse.prototype,
  Response.prototype,
  Object.getOwnPropertySymbols(new Response()),
  LazyResponse.full as (lazy: object) => Response,
);

// Whether undici takes a lazy response where it takes a Response (Node.js 20, 22).
const LAZY_RESPONSE_WORKS = (() => {
  try {
    const probe = new LazyResponse() as unknown as Response;
    probe.headers.set("x-a", "1");
    const copy = new Response(probe.body, probe);
    return copy.status === 200 && copy.headers.get("x-a") === "1" && probe.clone().ok;
  } catch {
    return false;
  }
})();

/**
 * A `new Response()` made on first use: the placeholder an upgrade returns, which the
 * adapter drops unless middleware looks into it (it then behaves as `new Response()`).
 *
 * @returns An empty 200 response.
 * @example
 * ```ts
 * import { lazyEmptyResponse } from "./node_lazy.ts";
 * console.log(lazyEmptyResponse().status); // 200
 * ```
 */
export function lazyEmptyResponse(): Response {
  return LAZY_RESPONSE_WORKS ? new LazyResponse() as unknown as Response : new Response();
}

/**
 * The `Headers` of an upgrade request on Node.js, built lazily: `get` and `has` are
 * answered from the raw names and values of the request head, and undici's `Headers`
 * is made only when something asks for more (iteration, `set`, `append`, `delete`, ...).
 * Building it costs a validation and a map entry per field on every handshake, and wsx
 * itself reads five headers with `get`.
 *
 * @module
 */

import { forwardToFull } from "./node_lazy.ts";
import type { HeadFields } from "./node_head_parser.ts";

/**
 * Headers from Node's `rawHeaders`, a name and a value at a time as undici's `Headers`
 * takes them; one it refuses is dropped rather than failing the request.
 *
 * @param raw Names and values, alternating.
 * @returns The headers.
 * @example
 * ```ts
 * import { headersFrom } from "./node_headers.ts";
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

// https://fetch.spec.whatwg.org/#header-name: a token, as undici checks it.
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A value undici takes as it is: no NUL, CR or LF, no surrounding HTTP whitespace (it
// trims that). Anything else is left to the full Headers, which decides.
const PLAIN_VALUE = /^(?:[^\0\t\n\r ](?:[^\0\n\r]*[^\0\t\n\r ])?)?$/;

// The value of a field the head parser picked out, or undefined: search the fields.
function picked(fields: HeadFields, name: string): string | null | undefined {
  switch (name) {
    case "upgrade":
      return fields.upgrade;
    case "connection":
      return fields.connection;
    case "sec-websocket-key":
      return fields.key;
    case "sec-websocket-version":
      return fields.version;
    case "sec-websocket-protocol":
      return fields.protocol;
    case "sec-websocket-extensions":
      return fields.extensions;
  }
  return undefined;
}

class LazyHeaders {
  readonly #raw: readonly string[];
  readonly #fields: HeadFields | undefined;
  #full: Headers | undefined;

  constructor(raw: readonly string[], fields?: HeadFields) {
    this.#raw = raw;
    this.#fields = fields;
  }

  get(name: string): string | null {
    // The handshake's own fields (wsx reads them by these lower-case names): no search.
    if (this.#fields !== undefined && this.#full === undefined) {
      const value = picked(this.#fields, name);
      if (value !== undefined) return value;
    }
    if (this.#full !== undefined || typeof name !== "string" || !NAME.test(name)) {
      return LazyHeaders.full(this).get(name);
    }
    const raw = this.#raw, lower = name.toLowerCase();
    let value: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const field = raw[i];
      if (field.length !== lower.length || field.toLowerCase() !== lower) continue;
      const v = raw[i + 1];
      // A field the full Headers would treat otherwise: let it answer.
      if (!NAME.test(field) || !PLAIN_VALUE.test(v)) return LazyHeaders.full(this).get(name);
      // undici joins repeated fields with ", ", and Cookie fields with "; ".
      value = value === null ? v : `${value}${lower === "cookie" ? "; " : ", "}${v}`;
    }
    return value;
  }

  has(name: string): boolean {
    if (this.#full !== undefined || typeof name !== "string" || !NAME.test(name)) {
      return LazyHeaders.full(this).has(name);
    }
    return this.get(name) !== null;
  }

  static full(lazy: LazyHeaders): Headers {
    return lazy.#full ??= headersFrom(lazy.#raw);
  }

  // Whether these are lazy headers that still answer from the head alone.
  static untouched(headers: object): boolean {
    return #full in headers && headers.#full === undefined;
  }
}

// undici's Headers keeps its state in private fields (Node.js 20 and later): nothing on
// the instance to forward, and its own methods refuse a lazy object, so every one is
// forwarded. The iterator too: `new Headers(lazy)` and a request or response init
// iterate it.
forwardToFull(
  LazyHeaders.prototype,
  Headers.prototype,
  Object.getOwnPropertySymbols(new Headers()),
  LazyHeaders.full as (lazy: object) => Headers,
);

// Whether undici takes a lazy Headers wherever it takes a Headers.
const LAZY_WORKS = (() => {
  try {
    const probe = new LazyHeaders(["X-A", "1"]) as unknown as Headers;
    const copies = [new Headers(probe), new Request("http://x/", { headers: probe }).headers];
    return copies.every((copy) => copy.get("x-a") === "1");
  } catch {
    return false;
  }
})();

/**
 * The headers of a request head: a lazy `Headers` where undici takes one, else a full
 * one from {@linkcode headersFrom}.
 *
 * @param raw Names and values, alternating (`IncomingMessage#rawHeaders`).
 * @param fields The handshake's fields, when the head parser picked them out.
 * @returns Headers that answer like `headersFrom(raw)`.
 * @example
 * ```ts
 * import { lazyHeaders } from "./node_headers.ts";
 * const headers = lazyHeaders(["Host", "x", "X-A", "1", "x-a", "2"]);
 * console.log(headers instanceof Headers, headers.get("X-A")); // true "1, 2"
 * ```
 */
export function lazyHeaders(raw: readonly string[], fields?: HeadFields): Headers {
  return LAZY_WORKS ? new LazyHeaders(raw, fields) as unknown as Headers : headersFrom(raw);
}

/**
 * Whether `headers` are lazy headers from {@linkcode lazyHeaders} that still answer from
 * the request head alone: nothing changed them (any call but `get` and `has` makes the
 * full `Headers`, which may then differ).
 *
 * @param headers A request's headers.
 * @returns `true` for untouched lazy headers.
 * @example
 * ```ts
 * import { lazyHeaders, untouchedHeaders } from "./node_headers.ts";
 * const headers = lazyHeaders(["Host", "x"]);
 * console.log(untouchedHeaders(headers)); // true (where undici takes lazy headers)
 * headers.set("x-a", "1");
 * console.log(untouchedHeaders(headers)); // false
 * ```
 */
export function untouchedHeaders(headers: Headers): boolean {
  return LazyHeaders.untouched(headers);
}

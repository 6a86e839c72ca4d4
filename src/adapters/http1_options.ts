/**
 * The options of wsx's HTTP/1.1 connections, resolved once: defaults, validation,
 * frozen. A request body has no size limit, as with node:http: it is streamed to the
 * handler, and while the handler does not read, the socket is not read either (at most
 * 64 KiB wait for it, `http1_request.ts`); what it leaves unread is read and dropped.
 * Its time is bounded instead (`bodyTimeoutMs`).
 *
 * @module
 */

import type { RequestHead } from "./http1_head.ts";
import { Http1Timers } from "./http1_timers.ts";

/**
 * The handler of plain requests; its response is written back in order.
 *
 * @example
 * ```ts
 * import type { Http1Handler } from "./http1_options.ts";
 * const hello: Http1Handler = () => new Response("hello");
 * ```
 */
export type Http1Handler = (request: Request) => Response | Promise<Response>;

/**
 * The options of an HTTP/1.1 connection.
 *
 * @example
 * ```ts
 * import type { Http1Options } from "./http1_options.ts";
 * const options: Http1Options = { handler: () => new Response("hi"), idleTimeoutMs: 5000 };
 * ```
 */
export interface Http1Options {
  /** Answers each plain request. */
  readonly handler: Http1Handler;
  /**
   * Takes a WebSocket upgrade request (`Upgrade: websocket`, `Connection: upgrade`, GET)
   * the bytes received after its head, and the runtime's socket (what the binding's
   * `detach` returned: the `node:net` socket for `serveHttp1Socket`); the connection then
   * reads and writes nothing more. Without it, such a request goes to `handler` like any
   * other.
   */
  readonly onUpgrade?: (head: RequestHead, rest: Uint8Array, socket: unknown) => void;
  /** Told of a handler that threw or rejected (answered with 500). @default {console.error} */
  readonly onError?: (error: unknown) => void;
  /**
   * Whether each request's `signal` aborts when the client disconnects before its
   * response is written (as `Deno.serve` and `Bun.serve` do). Off by default: on
   * Node.js 20 an `AbortController` followed by a `Request` costs about as much as the
   * rest of the request (bench/http1/cpu.ts); a disconnect always fails the body's reads.
   * @default {false}
   */
  readonly abortOnDisconnect?: boolean;
  /** Whether the connection is TLS (for the request's URL). @default {false} */
  readonly secure?: boolean;
  /** The longest request head, blank line included; longer is answered 431. @default {16384} */
  readonly maxHeadBytes?: number;
  /** The most header fields in a head; more is answered 431. @default {100} */
  readonly maxHeaders?: number;
  /** How long a kept-alive connection may wait for its next request. @default {5000} */
  readonly idleTimeoutMs?: number;
  /** How long a request head may take to arrive; longer is answered 408. @default {10000} */
  readonly headTimeoutMs?: number;
  /**
   * How long a request body may take to arrive, counted from the end of its head, as
   * node:http's `requestTimeout` on wsx's Node.js path: a body not complete by then is
   * answered 408, or cut if its response has begun, and the handler's read of it fails.
   * The body is streamed to the handler, which may take it as slowly as it likes, but
   * within this time. @default {300000}
   */
  readonly bodyTimeoutMs?: number;
}

/**
 * {@linkcode Http1Options} with every default filled in.
 *
 * @example
 * ```ts
 * import { resolveHttp1Options } from "./http1_options.ts";
 * resolveHttp1Options({ handler: () => new Response() }).maxHeaders; // 100
 * ```
 */
export type Http1Settings =
  & Required<Omit<Http1Options, "onUpgrade">>
  & Pick<Http1Options, "onUpgrade">
  & {
    /** The deadlines of the server's connections, on one wheel. */
    readonly timers: Http1Timers;
  };

function positive(options: Http1Options, name: keyof Http1Options, fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Invalid "${name}": expected a positive integer, got ${String(value)}`);
  }
  return value;
}

// The settings this module resolved: passed on as they are.
const RESOLVED = new WeakSet<Http1Settings>();

/**
 * Resolves and checks the options once.
 *
 * @param options The options.
 * @returns The settings, frozen.
 * @throws {TypeError} When `handler`, `onUpgrade` or `onError` is not a function.
 * @throws {RangeError} When a limit or timeout is not a positive integer.
 * @example
 * ```ts
 * import { resolveHttp1Options } from "./http1_options.ts";
 * resolveHttp1Options({ handler: () => new Response(), idleTimeoutMs: 1000 });
 * ```
 */
export function resolveHttp1Options(options: Http1Options): Http1Settings {
  for (const name of ["handler", "onUpgrade", "onError"] as const) {
    const value = options[name];
    if (typeof value !== "function" && (name === "handler" || value !== undefined)) {
      throw new TypeError(`Invalid "${name}": expected a function, got ${typeof value}`);
    }
  }
  const settings: Http1Settings = Object.freeze({
    handler: options.handler,
    onUpgrade: options.onUpgrade,
    onError: options.onError ?? ((error: unknown) => console.error(error)),
    abortOnDisconnect: options.abortOnDisconnect === true,
    secure: options.secure === true,
    maxHeadBytes: positive(options, "maxHeadBytes", 16 * 1024),
    maxHeaders: positive(options, "maxHeaders", 100),
    idleTimeoutMs: positive(options, "idleTimeoutMs", 5000),
    headTimeoutMs: positive(options, "headTimeoutMs", 10_000),
    bodyTimeoutMs: positive(options, "bodyTimeoutMs", 300_000),
    // One wheel per resolved settings, that is per server.
    timers: new Http1Timers(),
  });
  RESOLVED.add(settings);
  return settings;
}

/**
 * Settings as they are when {@linkcode resolveHttp1Options} made them, else resolved now.
 *
 * @param options Settings or raw options.
 * @returns The settings.
 * @example
 * ```ts
 * import { http1Settings, resolveHttp1Options } from "./http1_options.ts";
 * const settings = resolveHttp1Options({ handler: () => new Response() });
 * console.log(http1Settings(settings) === settings); // true
 * ```
 */
export function http1Settings(options: Http1Settings | Http1Options): Http1Settings {
  return RESOLVED.has(options as Http1Settings)
    ? options as Http1Settings
    : resolveHttp1Options(options);
}

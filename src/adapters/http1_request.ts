/**
 * A web `Request` for each HTTP/1.1 request: its URL from the target and `Host`, its
 * headers as received, and its body as a `ReadableStream` that the connection feeds as
 * bytes arrive, pausing the socket while the handler does not read.
 *
 * @module
 */

import { listsToken } from "../core/protocol/tokens.ts";
import type { RequestHead } from "./http1_head.ts";

// What a body may hold unread before the socket is paused.
const BODY_QUEUE_BYTES = 64 * 1024;

/**
 * The body of one request: the connection pushes, the handler reads.
 *
 * @example
 * ```ts
 * import { RequestBody } from "./http1_request.ts";
 * const body = new RequestBody({ resume: () => {}, firstRead: () => {}, cancelled: () => {} });
 * body.push(new Uint8Array([104, 105]));
 * body.close();
 * console.log(await new Response(body.stream).text()); // "hi"
 * ```
 */
export class RequestBody {
  /** The stream the handler reads. */
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #queued = 0;
  #read = false;
  #ended = false;

  /**
   * An empty body, open.
   *
   * @param hooks `resume`: the handler reads again after a push returned `false`;
   * `firstRead`: the handler asked for the body for the first time (when an
   * `Expect: 100-continue` is answered); `cancelled`: the handler gave the body up.
   */
  constructor(
    hooks: { resume: () => void; firstRead: () => void; cancelled: () => void },
  ) {
    // A high-water mark of 0: the stream pulls only when the handler reads, so the
    // first pull is the handler's first read.
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => void (this.#controller = controller),
      pull: () => {
        if (!this.#read) {
          this.#read = true;
          hooks.firstRead();
        }
        this.#queued = 0;
        hooks.resume();
      },
      cancel: () => {
        this.#ended = true;
        hooks.cancelled();
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the handler has read from the body. */
  get read(): boolean {
    return this.#read;
  }

  /**
   * Hands bytes to the handler.
   *
   * @param bytes Bytes the caller no longer changes.
   * @returns `false` when the socket should pause until the handler reads.
   */
  push(bytes: Uint8Array): boolean {
    if (this.#ended) return true;
    this.#controller.enqueue(bytes);
    this.#queued += bytes.length;
    return this.#queued < BODY_QUEUE_BYTES;
  }

  /** Ends the body. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#controller.close();
  }

  /**
   * Fails the body: the handler's read rejects with `error`.
   *
   * @param error Why.
   */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#controller.error(error);
  }
}

/**
 * The URL of a request: an absolute-form target as it is, else the target on the
 * `Host` (`localhost` on an HTTP/1.0 request without one). `OPTIONS *` is answered as
 * the root path.
 *
 * @param head The head.
 * @param secure Whether the connection is TLS.
 * @returns The URL, or `undefined` when no valid URL comes out.
 * @example
 * ```ts
 * import { requestUrl } from "./http1_request.ts";
 * requestUrl({ method: "GET", target: "/a?b", minor: 1, rawHeaders: ["Host", "x:81"] }, false);
 * // "http://x:81/a?b"
 * ```
 */
export function requestUrl(head: RequestHead, secure: boolean): string | undefined {
  let url = head.target;
  if (url[0] === "/" || url === "*") {
    const host = headerValue(head, "host") || "localhost";
    url = `${secure ? "https" : "http"}://${host}${url === "*" ? "/" : url}`;
  }
  return URL.canParse(url) ? url : undefined;
}

/**
 * The first value of a header, `null` when absent.
 *
 * @param head The head.
 * @param name The name, in lower case.
 * @returns The value.
 * @example
 * ```ts
 * import { headerValue } from "./http1_request.ts";
 * headerValue({ method: "GET", target: "/", minor: 1, rawHeaders: ["Host", "x"] }, "host"); // "x"
 * ```
 */
export function headerValue(head: RequestHead, name: string): string | null {
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1];
  }
  return null;
}

// Every field line of `name`, joined as one list; null when there is none.
function headerList(head: RequestHead, name: string): string | null {
  const raw = head.rawHeaders;
  let list: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== name.length || raw[i].toLowerCase() !== name) continue;
    list = list === null ? raw[i + 1] : `${list}, ${raw[i + 1]}`;
  }
  return list;
}

/**
 * Builds the request. A GET or HEAD request's body, which a web `Request` cannot hold,
 * is not passed on (the connection reads and drops it).
 *
 * @param head The head.
 * @param url Its URL ({@linkcode requestUrl}).
 * @param body Its body, or `undefined` when it has none.
 * @param signal Aborted when the client disconnects, if the server asks for it.
 * @returns The request.
 * @example
 * ```ts
 * import { buildRequest } from "./http1_request.ts";
 * const head = { method: "GET", target: "/", minor: 1 as const, rawHeaders: ["Host", "x"] };
 * buildRequest(head, "http://x/", undefined, new AbortController().signal).url; // "http://x/"
 * ```
 */
export function buildRequest(
  head: RequestHead,
  url: string,
  body: RequestBody | undefined,
  signal?: AbortSignal,
): Request {
  const headers = new Headers();
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const init: RequestInit & { duplex?: "half" } = { method: head.method, headers };
  if (signal !== undefined) init.signal = signal;
  if (body !== undefined) {
    init.body = body.stream;
    // A streamed request body (https://fetch.spec.whatwg.org/#dom-requestinit-duplex).
    init.duplex = "half";
  }
  return new Request(url, init);
}

/**
 * What a request asks of the connection, beyond its body.
 *
 * @example
 * ```ts
 * import { requestIntent } from "./http1_request.ts";
 * requestIntent({ method: "GET", target: "/", minor: 0, rawHeaders: [] }).keepAlive; // false
 * ```
 */
export interface RequestIntent {
  /** Whether the connection may stay open after the response, as far as the request goes. */
  readonly keepAlive: boolean;
  /** The `Expect` field of an HTTP/1.1 request (HTTP/1.0 has none), or `null`. */
  readonly expect: string | null;
  /** Whether it asks for a WebSocket (GET, `Upgrade: websocket`, `Connection: upgrade`). */
  readonly webSocket: boolean;
}

/**
 * Reads a request's intent from its head (RFC 9112 section 9.3, RFC 9110 section 10.1.1).
 *
 * @param head The head.
 * @returns The intent.
 * @example
 * ```ts
 * import { requestIntent } from "./http1_request.ts";
 * const head = { method: "GET", target: "/", minor: 1 as const, rawHeaders: ["Host", "x"] };
 * requestIntent(head).keepAlive; // true
 * ```
 */
export function requestIntent(head: RequestHead): RequestIntent {
  // One list across all its field lines (RFC 9110 section 5.3).
  const connection = headerList(head, "connection");
  return {
    keepAlive: head.minor === 1
      ? !listsToken(connection, "close")
      : listsToken(connection, "keep-alive"),
    expect: head.minor === 1 ? headerValue(head, "expect") : null,
    webSocket: head.method === "GET" && listsToken(connection, "upgrade") &&
      listsToken(headerValue(head, "upgrade"), "websocket"),
  };
}

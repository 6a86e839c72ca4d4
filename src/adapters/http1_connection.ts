/**
 * One HTTP/1.1 connection served by wsx itself (RFC 9112), over any byte socket: heads
 * read strictly (`http1_head.ts`), bodies framed (`http1_framing.ts`,
 * `http1_chunked.ts`) and streamed to the handler's `Request`, responses written in the
 * order the requests came (`http1_response.ts`), kept alive between requests. A
 * pipelined request waits, unparsed, until the response before it is written; a
 * WebSocket upgrade is handed to the caller with the bytes that followed its head.
 *
 * @module
 */

import { BodyReader } from "./http1_body_reader.ts";
import { InputBuffer } from "./http1_buffer.ts";
import { type Framing, requestFraming } from "./http1_framing.ts";
import { HeadScanner, readHead, type RequestHead } from "./http1_head.ts";
import { type Http1Settings, http1Settings } from "./http1_options.ts";
import type { Http1Options } from "./http1_options.ts";
import { HTTP1_REFUSALS as R, latin1, refusalBytes } from "./http1_refusals.ts";
import type { Refusal } from "./http1_refusals.ts";
import { buildRequest, requestIntent, requestUrl } from "./http1_request.ts";
import { type Exchange, type ResponseSink, writeResponse } from "./http1_response.ts";
import { type Http1Socket, Wire } from "./http1_wire.ts";

const CONTINUE = latin1("HTTP/1.1 100 Continue\r\n\r\n");

// What the connection's one deadline waits for: the next request while kept alive, a
// head begun, a body, or nothing (a handler at work).
type Wait = "idle" | "head" | "body" | "none";

/**
 * Serves HTTP/1.1 on one socket.
 *
 * @example
 * ```ts ignore
 * import { Http1Connection } from "./http1_connection.ts";
 * const connection = new Http1Connection(socket, { handler: () => new Response("hi") });
 * socket.on("data", (chunk) => connection.received(chunk));
 * ```
 */
export class Http1Connection {
  readonly #wire: Wire;
  readonly #settings: Http1Settings;
  readonly #buffer = new InputBuffer();
  #scanner = new HeadScanner();
  #state: "head" | "body" | "done" = "head";
  #peerEnded = false;
  #responding = false;
  #reader: BodyReader | undefined;
  #sink: { wrote: boolean } | undefined;
  #abort: AbortController | undefined;
  #continue: "none" | "pending" | "sent" = "none";
  #waiting: Wait = "none";
  #stopping = false;
  // The request being answered: a stop before its response's head clears keepAlive.
  #exchange: { method: string; minor: 0 | 1; keepAlive: boolean } | undefined;

  /**
   * Serves the socket from now on: its head timeout starts.
   *
   * @param socket The socket.
   * @param options The handler and limits (resolved once per server with
   * `resolveHttp1Options`, or here when given raw).
   */
  constructor(socket: Http1Socket, options: Http1Settings | Http1Options) {
    this.#settings = http1Settings(options);
    this.#wire = new Wire(socket, this.#settings.timers);
    this.#arm("head");
  }

  /**
   * Bytes from the socket.
   *
   * @param chunk The bytes (copied when kept).
   */
  received(chunk: Uint8Array): void {
    if (this.#state === "done" || chunk.length === 0) return;
    this.#buffer.push(chunk);
    this.#pump();
  }

  /**
   * The server stops: a connection between requests ends now; one answering a request
   * ends after that response, which says `Connection: close`.
   */
  stop(): void {
    this.#stopping = true;
    if (this.#exchange !== undefined) this.#exchange.keepAlive = false;
    if (this.#state === "head" && !this.#responding && this.#buffer.length === 0) this.#finish();
  }

  /** The socket can take more bytes. */
  drained(): void {
    this.#wire.drained();
  }

  /**
   * The client sent FIN: what it sent whole is answered, then the connection ends. A
   * request cut short is refused with 400 (as node:http does), unless its answer has
   * begun: that answer completes.
   */
  ended(): void {
    this.#peerEnded = true;
    if (this.#state === "body") {
      this.#reader?.fail(new Error("Request body incomplete: the client ended the connection"));
      this.#reader = undefined;
      this.#buffer.clear();
      // Answered already: the rest of the body was being dropped.
      if (!this.#responding) return this.#finish();
      // The handler's answer, if it still comes, is dropped (its sink is closed).
      if (this.#sink?.wrote !== true) return this.#finish(refusalBytes(R.bodyCut));
      this.#state = "head";
    }
    this.#pump();
  }

  /**
   * The socket closed: the request's body fails, its signal aborts (with
   * `abortOnDisconnect`), writes stop.
   */
  closed(): void {
    this.#state = "done";
    this.#wire.closed();
    this.#reader?.fail(new Error("Request body incomplete: the connection closed"));
    this.#abort?.abort();
  }

  #pump(): void {
    while (this.#state !== "done") {
      if (this.#state === "body") {
        if (!this.#readBody()) return;
        continue;
      }
      if (this.#responding) return this.#holdPipelined();
      if (this.#buffer.length === 0) return void (this.#peerEnded && this.#finish());
      // The next head's first byte: from now on it has headTimeoutMs to arrive whole.
      if (this.#waiting === "idle") this.#arm("head");
      const { maxHeadBytes, maxHeaders } = this.#settings;
      const read = readHead(this.#buffer.bytes, this.#scanner, maxHeadBytes, maxHeaders);
      if (read === 0) return this.#peerEnded ? this.#endInHead() : undefined;
      if ("status" in read) return this.#refuse(read);
      this.#buffer.consume(read.length);
      this.#scanner.reset();
      this.#start(read.head);
    }
  }

  // Returns whether the body is complete.
  #readBody(): boolean {
    const reader = this.#reader as BodyReader;
    const used = reader.read(this.#buffer.bytes);
    if (typeof used !== "number") {
      this.#refuse(used);
      return false;
    }
    this.#buffer.consume(used);
    if (!reader.done) return false;
    this.#reader = undefined;
    this.#state = "head";
    // Answered already (the handler did not wait for the body): the next request now.
    if (this.#responding) this.#disarm();
    else this.#arm(this.#buffer.length === 0 ? "idle" : "head");
    return true;
  }

  // A pipelined request waits for the response before it; its bytes are held, up to a
  // head's worth.
  #holdPipelined(): void {
    if (this.#buffer.length > this.#settings.maxHeadBytes) this.#wire.pause("queue", true);
  }

  #start(head: RequestHead): void {
    this.#disarm();
    const framing = requestFraming(head);
    if ("status" in framing) return this.#refuse(framing);
    const { keepAlive, expect, webSocket } = requestIntent(head);
    // RFC 9110 section 10.1.1: 100-continue is the only expectation.
    if (expect !== null && expect.toLowerCase() !== "100-continue") {
      return this.#refuse(R.expectationFailed);
    }
    if (webSocket && this.#settings.onUpgrade !== undefined) return this.#upgrade(head);
    const url = requestUrl(head, this.#settings.secure);
    if (url === undefined) return this.#refuse(R.badRequestLine);
    this.#reader = undefined;
    if (framing.kind !== "none") {
      this.#state = "body";
      this.#arm("body");
      // A web Request holds no body for GET or HEAD: theirs is read and dropped.
      const keep = head.method !== "GET" && head.method !== "HEAD";
      this.#reader = this.#newReader(framing, keep);
      this.#continue = expect !== null ? "pending" : "none";
    }
    this.#abort = this.#settings.abortOnDisconnect ? new AbortController() : undefined;
    let request: Request;
    try {
      request = buildRequest(head, url, this.#reader?.body, this.#abort?.signal);
    } catch {
      return this.#refuse(R.badRequestLine);
    }
    const exchange = { method: head.method, minor: head.minor, keepAlive };
    if (this.#stopping) exchange.keepAlive = false;
    this.#exchange = exchange;
    void this.#respond(request, exchange);
  }

  #newReader(framing: Framing, keep: boolean): BodyReader {
    return new BodyReader(framing, keep, this.#settings.maxHeadBytes, {
      pause: (paused) => this.#wire.pause("body", paused),
      firstRead: () => {
        // Once the final response has begun, a 100 would land inside it.
        if (this.#continue !== "pending" || this.#sink?.wrote !== false) return;
        this.#continue = "sent";
        this.#wire.write(CONTINUE);
      },
    });
  }

  async #respond(request: Request, exchange: Exchange): Promise<void> {
    this.#responding = true;
    const sink = this.#newSink();
    this.#sink = sink;
    let keepAlive = false;
    try {
      const response = await this.#settings.handler(request);
      if (!(response instanceof Response)) {
        throw new TypeError("Cannot answer request: the handler did not return a Response");
      }
      if (sink.closed) return void await response.body?.cancel().catch(() => {});
      keepAlive = await writeResponse(response, exchange, sink);
    } catch (error) {
      if (sink.closed) return;
      this.#report(error);
      // Once the head is out, the only way to tell the client the body is cut is to cut.
      if (sink.wrote) return this.#destroy();
      return this.#finish(refusalBytes(R.handlerFailed));
    }
    this.#responded(keepAlive);
  }

  #newSink(): ResponseSink & { wrote: boolean } {
    // deno-lint-ignore no-this-alias
    const self = this;
    const sink = {
      wrote: false,
      write(bytes: Uint8Array): Promise<void> | undefined {
        if (this.closed) return;
        sink.wrote = true;
        return self.#wire.write(bytes);
      },
      get closed(): boolean {
        return self.#wire.isClosed || self.#state === "done" || self.#sink !== sink;
      },
    };
    return sink;
  }

  #responded(keepAlive: boolean): void {
    this.#responding = false;
    this.#exchange = undefined;
    this.#sink = undefined;
    this.#abort = undefined;
    // A client that was never told to continue may or may not send its body: the next
    // request's start cannot be found (RFC 9110 section 10.1.1).
    if (this.#continue === "pending" && this.#state === "body") keepAlive = false;
    this.#continue = "none";
    if (!keepAlive || this.#stopping) return this.#finish();
    // A body still arriving goes on to a handler reading it; one it left unread is read
    // and dropped. Either within the body's time still.
    this.#reader?.answered();
    this.#wire.pause("queue", false);
    if (this.#state === "head") this.#arm(this.#buffer.length === 0 ? "idle" : "head");
    this.#pump();
  }

  // FIN with a head unfinished: refused, unless all it holds is the empty lines a
  // request may start with (node:http ends such a connection silently too).
  #endInHead(): void {
    if (this.#buffer.length > this.#scanner.begin) return this.#refuse(R.headCut);
    this.#finish();
  }

  #upgrade(head: RequestHead): void {
    this.#state = "done";
    this.#disarm();
    const rest = this.#buffer.bytes;
    this.#buffer.clear();
    const socket = this.#wire.detach();
    try {
      this.#settings.onUpgrade?.(head, rest, socket);
    } catch (error) {
      this.#report(error);
      this.#wire.destroy();
    }
  }

  #refuse(refusal: Refusal): void {
    this.#reader?.fail(new Error(`Request refused: ${refusal.reason}`));
    this.#reader = undefined;
    if (this.#sink?.wrote) return void this.#destroy();
    this.#finish(refusalBytes(refusal));
  }

  // A failing error callback must not turn into an unhandled rejection.
  #report(error: unknown): void {
    try {
      this.#settings.onError(error);
    } catch {
      // Nothing more to tell.
    }
  }

  #finish(bytes?: Uint8Array): void {
    this.#state = "done";
    this.#sink = undefined;
    this.#wire.end(bytes);
  }

  #destroy(): void {
    this.#state = "done";
    this.#wire.destroy();
  }

  #arm(wait: Exclude<Wait, "none">): void {
    this.#waiting = wait;
    const { idleTimeoutMs, headTimeoutMs, bodyTimeoutMs } = this.#settings;
    const ms = wait === "idle" ? idleTimeoutMs : wait === "head" ? headTimeoutMs : bodyTimeoutMs;
    this.#wire.timer(ms, () => this.#timedOut(wait));
  }

  #disarm(): void {
    this.#waiting = "none";
    this.#wire.clearTimer();
  }

  #timedOut(wait: Wait): void {
    this.#waiting = "none";
    if (wait === "body") {
      if (this.#state !== "body") return;
      this.#reader?.fail(new Error("Request body incomplete: it took longer than bodyTimeoutMs"));
      this.#reader = undefined;
      // Answered already (the rest of the body was being dropped): no 408 after that
      // answer, the connection just ends.
      if (!this.#responding) return this.#finish();
      // Refused with 408, unless the response has begun: then cut.
      return this.#refuse(R.bodyTimeout);
    }
    if (this.#state !== "head" || this.#responding) return;
    // A head begun and not finished is told why; an idle connection just ends.
    if (this.#buffer.length > 0 && wait === "head") this.#refuse(R.headTimeout);
    else this.#finish();
  }
}

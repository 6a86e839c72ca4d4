/**
 * Reads one request's body off the connection's bytes, by its framing (a length, or
 * chunked), into the `RequestBody` the handler reads, pausing the socket while the
 * handler's queue is full. Once the handler is done with it, the rest is read and
 * dropped, so the next request's head can be found.
 *
 * @module
 */

import { ChunkedDecoder } from "./http1_chunked.ts";
import type { Framing } from "./http1_framing.ts";
import type { Refusal } from "./http1_refusals.ts";
import { RequestBody } from "./http1_request.ts";

/**
 * What a body reader asks of its connection.
 *
 * @example
 * ```ts
 * import type { BodyHooks } from "./http1_body_reader.ts";
 * const hooks: BodyHooks = { pause: () => {}, firstRead: () => {} };
 * ```
 */
export interface BodyHooks {
  /** Pauses (or resumes) reading the socket for the body's sake. */
  pause(paused: boolean): void;
  /** The handler reads the body for the first time. */
  firstRead(): void;
}

/**
 * One request's body, as its bytes arrive.
 *
 * @example
 * ```ts
 * import { BodyReader } from "./http1_body_reader.ts";
 * const reader = new BodyReader({ kind: "length", length: 2 }, true, 8192, {
 *   pause: () => {},
 *   firstRead: () => {},
 * });
 * reader.read(new Uint8Array([104, 105, 0])); // 2: the last byte is the next request's
 * console.log(reader.done, await new Response(reader.body!.stream).text()); // true "hi"
 * ```
 */
export class BodyReader {
  /** The body the handler reads, or `undefined` when it is dropped. */
  readonly body: RequestBody | undefined;
  #remaining: number;
  #decoder: ChunkedDecoder | undefined;
  #sink: RequestBody | undefined;
  #hooks: BodyHooks | undefined;
  #done = false;

  /**
   * A reader at the start of a body.
   *
   * @param framing The body's framing (not `none`).
   * @param keep Whether the handler gets the body; else it is read and dropped.
   * @param maxTrailerBytes The most bytes of chunked trailers.
   * @param hooks The connection's side.
   */
  constructor(framing: Framing, keep: boolean, maxTrailerBytes: number, hooks: BodyHooks) {
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#decoder = framing.kind === "chunked" ? new ChunkedDecoder(maxTrailerBytes) : undefined;
    this.#hooks = hooks;
    this.body = keep
      ? new RequestBody({
        resume: () => this.#hooks?.pause(false),
        firstRead: () => this.#hooks?.firstRead(),
        cancelled: () => this.drop(),
      })
      : undefined;
    this.#sink = this.body;
  }

  /** Whether the whole body has been read. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Reads the body's part of `bytes`.
   *
   * @param bytes The bytes received, starting with the body's next byte.
   * @returns How many of them were the body's, or a refusal (an invalid chunked body).
   */
  read(bytes: Uint8Array): number | Refusal {
    let used: number;
    if (this.#decoder !== undefined) {
      const end = this.#decoder.feed(bytes, 0, (data) => this.#deliver(data));
      if (typeof end !== "number") return end;
      used = end;
      this.#done = this.#decoder.done;
    } else {
      used = Math.min(this.#remaining, bytes.length);
      if (used > 0) this.#deliver(bytes.subarray(0, used));
      this.#remaining -= used;
      this.#done = this.#remaining === 0;
    }
    if (this.#done) {
      this.#sink?.close();
      this.drop();
    }
    return used;
  }

  /**
   * The response is written: a body the handler has begun to read goes on arriving for
   * it; one it has not is dropped, and a later read of it fails (never ends short).
   */
  answered(): void {
    const body = this.#sink;
    if (body === undefined || body.read) return;
    body.fail(new Error("Request body dropped: it was not read before the response was sent"));
    this.drop();
  }

  /** The handler is done with the body: what is left of it is read and dropped. */
  drop(): void {
    this.#sink = undefined;
    this.#hooks?.pause(false);
    this.#hooks = undefined;
  }

  /**
   * The body cannot complete: the handler's read fails.
   *
   * @param error Why.
   */
  fail(error: Error): void {
    this.#sink?.fail(error);
    this.drop();
  }

  #deliver(data: Uint8Array): void {
    if (this.#sink !== undefined && !this.#sink.push(data)) this.#hooks?.pause(true);
  }
}

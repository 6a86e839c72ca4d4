/**
 * A `node:http` request's body as a web `ReadableStream` that pulls: the socket is read
 * only as fast as the handler reads the body, so an upload of any size costs a bounded
 * amount of memory (a queue of {@linkcode BODY_QUEUE_BYTES} plus what the runtime
 * buffers), where reading it whole before the handler runs would hold all of it.
 *
 * Once the response is written, a body the handler is reading (its stream locked: a
 * reader, `for await`, `text()`) goes on arriving for it; a body nobody reads is
 * dropped, read off the socket so that a kept-alive connection reaches its next request,
 * and a read of it after that fails rather than end early.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";

/** How many bytes of a body may wait for the handler before the socket is paused. */
export const BODY_QUEUE_BYTES = 64 * 1024;

const sizeOf = (chunk: Uint8Array): number => chunk.byteLength;

/**
 * The body of one request, read as its stream is read.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { NodeBody } from "./node_body.ts";
 * const server = createServer(async (message, out) => {
 *   const body = new NodeBody(message);
 *   const text = await new Response(body.stream).text();
 *   out.end(`${text.length} characters`);
 * });
 * server.close();
 * ```
 */
export class NodeBody {
  /** The stream the handler reads. */
  readonly stream: ReadableStream<Uint8Array>;
  readonly #message: IncomingMessage;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  // Until the body ended, failed or was dropped.
  #open = true;
  readonly #onData = (chunk: Uint8Array): void => {
    const controller = this.#controller;
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) this.#message.pause();
  };

  /** @param message Node's request, whose body has not been read yet. */
  constructor(message: IncomingMessage) {
    this.#message = message;
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        message.on("data", this.#onData);
        message.once("end", () => {
          if (this.#open) controller.close();
          this.#stop();
        });
        // A connection that closes before the body's end: the handler's read fails.
        message.once("close", () => this.#fail("Request body incomplete: the connection closed"));
      },
      pull: () => void message.resume(),
      cancel: () => {
        this.#stop();
        // Flowing with no `data` listener: the rest is read and dropped.
        message.resume();
      },
    }, { highWaterMark: BODY_QUEUE_BYTES, size: sizeOf });
  }

  /**
   * The response is written: a body still arriving goes on to a handler reading it, and
   * is dropped otherwise (a later read fails).
   */
  answered(): void {
    const message = this.#message;
    if (message.complete || message.destroyed || this.stream.locked) return;
    this.#fail("Request body dropped: it was not read before the response was sent");
    message.resume();
  }

  #fail(why: string): void {
    if (!this.#open) return;
    this.#stop();
    this.#controller.error(new Error(why));
  }

  #stop(): void {
    this.#open = false;
    this.#message.off("data", this.#onData);
  }
}

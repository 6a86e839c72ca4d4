/**
 * A `node:http` request's body as a web `ReadableStream` that pulls: the socket is read
 * only as fast as the handler reads the body, so an upload of any size costs a bounded
 * amount of memory (a queue of {@linkcode BODY_QUEUE_BYTES} plus what the runtime
 * buffers), where reading it whole before the handler runs would hold all of it.
 * What the handler leaves unread is read and dropped once its response is written, so
 * that a kept-alive connection goes on to its next request.
 *
 * @module
 */

import type { IncomingMessage } from "node:http";

/** How many bytes of a body may wait for the handler before the socket is paused. */
export const BODY_QUEUE_BYTES = 64 * 1024;

const sizeOf = (chunk: Uint8Array): number => chunk.byteLength;

/**
 * The body of `message`, read as the stream is read.
 *
 * @param message Node's request, whose body has not been read yet.
 * @returns The body's stream.
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { bodyStream } from "./node_body.ts";
 * const server = createServer(async (message, out) => {
 *   const text = await new Response(bodyStream(message)).text();
 *   out.end(`${text.length} characters`);
 * });
 * server.close();
 * ```
 */
export function bodyStream(message: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  const finish = (): void => {
    open = false;
    message.off("data", onData);
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const onData = (chunk: Uint8Array): void => {
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) message.pause();
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      message.on("data", onData);
      message.once("end", () => {
        if (open) controller.close();
        finish();
      });
      // A connection that closes before the body's end: the handler's read fails.
      message.once("close", () => {
        if (!open) return;
        finish();
        controller.error(new Error("Request body incomplete: the connection closed"));
      });
    },
    pull() {
      message.resume();
    },
    cancel() {
      finish();
      // Flowing with no `data` listener: the rest is read and dropped.
      message.resume();
    },
  }, { highWaterMark: BODY_QUEUE_BYTES, size: sizeOf });
}

/**
 * After the response: the body's unread rest, if any, is read and dropped (flowing with
 * no listener), so that the connection can go on to its next request.
 *
 * @param message Node's request.
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { dropUnread } from "./node_body.ts";
 * const server = createServer((message, out) => {
 *   out.once("finish", () => dropUnread(message));
 *   out.end("not read");
 * });
 * server.close();
 * ```
 */
export function dropUnread(message: IncomingMessage): void {
  if (message.complete || message.destroyed) return;
  message.removeAllListeners("data");
  message.resume();
}

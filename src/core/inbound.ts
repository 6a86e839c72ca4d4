/**
 * Messages taken as streams (`onStream`): the `ReadableStream` an application reads while
 * the message arrives, its window, and the end of it (done, cancelled or interrupted,
 * exactly once). While the reader is behind, the connection stops reading its socket
 * (`Transport.pause`), so memory stays bounded by the window whatever the message size.
 *
 * @module
 */

import { WsxError } from "../errors.ts";
import type { WebSocketHandlers } from "../types.ts";
import type { ReadGate, StreamOwner } from "./read_gate.ts";
import { reportError } from "./report.ts";
import type { MessageParts, MessageStart } from "./transport.ts";
import { isThenable } from "./thenable.ts";

/**
 * Bytes a streamed message may hold queued for its reader before the connection stops
 * reading (plus at most one socket read, which is parsed to its end).
 *
 * @example
 * ```ts
 * import { STREAM_WINDOW_BYTES } from "./inbound.ts";
 * console.log(STREAM_WINDOW_BYTES); // 524288
 * ```
 */
export const STREAM_WINDOW_BYTES = 512 * 1024;

// LIVE: parts arrive. CLOSING: the message is complete, but its end waits until the
// reader is back under the window (so reading resumes only then). DONE: closed,
// errored or cancelled.
const LIVE = 0, CLOSING = 1, DONE = 2;

/**
 * One streamed message: the stream the application reads, fed part by part.
 *
 * @example Read a message as it arrives
 * ```ts
 * import { InboundStream } from "./inbound.ts";
 * import type { ReadGate } from "./read_gate.ts";
 * declare const gate: ReadGate;
 * const inbound = new InboundStream(gate);
 * inbound.part(new Uint8Array([1, 2]), false);
 * inbound.part(new Uint8Array([3]), true);
 * for await (const chunk of inbound.readable) console.log(chunk);
 * ```
 */
export class InboundStream implements MessageParts {
  /** What the application reads: the message's bytes in order. */
  readonly readable: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #gate: ReadGate;
  #state = LIVE;
  #holding = false; // whether this stream keeps its connection from reading

  /** @param gate The connection's reading, paused while any of its streams is full. */
  constructor(gate: ReadGate) {
    this.#gate = gate;
    gate.add(this);
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      // The reader is back under the window.
      pull: () => this.#state === CLOSING ? this.#finish(true) : this.#release(),
      // The rest of the message is read and discarded; the connection stays open.
      cancel: () => this.#finish(false),
    }, { highWaterMark: STREAM_WINDOW_BYTES, size: (chunk) => chunk.byteLength });
  }

  /**
   * Queues the message's next bytes; stops the connection's reading while the window is
   * full. Parts of a cancelled or interrupted stream are discarded.
   *
   * @param bytes The bytes (kept, or copied when they are a small view of a large buffer).
   * @param last Whether the message ends with them.
   */
  part(bytes: Uint8Array, last: boolean): void {
    if (this.#state !== LIVE) return;
    const controller = this.#controller;
    // A small view would pin its whole socket read while it waits in the queue.
    if (bytes.byteLength > 0) {
      controller.enqueue(bytes.byteLength * 8 < bytes.buffer.byteLength ? bytes.slice() : bytes);
    }
    if (controller.desiredSize! <= 0 && !this.#holding) {
      this.#holding = true;
      this.#gate.hold();
    }
    if (!last) return;
    if (this.#holding) this.#state = CLOSING;
    else this.#finish(true);
  }

  /**
   * The connection closes: a complete message's stream ends normally (its reader gets
   * every byte), an incomplete one errors with `"stream-interrupted"`, naming the close.
   *
   * @param code The connection's close code.
   * @param reason Its close reason.
   */
  interrupt(code: number, reason: string): void {
    if (this.#state === CLOSING) return this.#finish(true);
    if (this.#state !== LIVE) return;
    this.#controller.error(new WsxError("stream-interrupted", `${code} ${reason}`.trim()));
    this.#finish(false);
  }

  #finish(close: boolean): void {
    if (this.#state === DONE) return;
    this.#state = DONE;
    if (close) this.#controller.close();
    this.#release();
    this.#gate.delete(this);
  }

  #release(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#gate.release();
  }
}

/**
 * Starts a streamed message when the application wants it (`streamWhen`, or always
 * without it) and hands it to `onStream`. A throwing `streamWhen` is reported and counts
 * as no; a throwing `onStream` is reported, its stream ended and the connection closed
 * with 1011 (the stream is still returned: the rest of the message is discarded).
 *
 * @typeParam U The type of the user data.
 * @param owner The connection (its driver).
 * @param handlers The connection's handlers, with `onStream`.
 * @param info The first frame's header.
 * @param gate The connection's reading.
 * @returns The stream, or `undefined` to deliver the message whole.
 * @example
 * ```ts
 * import { startStream } from "./inbound.ts";
 * ```
 */
export function startStream<U>(
  owner: StreamOwner<U>,
  handlers: WebSocketHandlers<U>,
  info: MessageStart,
  gate: ReadGate,
): InboundStream | undefined {
  if (!wants(handlers, info)) return undefined;
  const inbound = new InboundStream(gate);
  if (!give(owner, handlers, inbound.readable, info.isText)) {
    const error = new WsxError("handler-error");
    inbound.interrupt(error.closeCode, error.message);
  }
  return inbound;
}

/**
 * Gives a message that arrived whole to `onStream`, as a stream of one chunk, when
 * `streamWhen` wants it: on a transport that cannot stream (the runtimes' own servers),
 * and for messages held back while an async `onOpen` ran. Within `maxMsgSize`.
 *
 * @typeParam U The type of the user data.
 * @param owner The connection (its driver).
 * @param handlers The connection's handlers, with `onStream`.
 * @param data The message.
 * @param isText Whether it is text.
 * @returns `true` when `onStream` took it; `false` when `streamWhen` said no.
 * @example
 * ```ts
 * import { streamWhole } from "./inbound.ts";
 * ```
 */
export function streamWhole<U>(
  owner: StreamOwner<U>,
  handlers: WebSocketHandlers<U>,
  data: string | Uint8Array,
  isText: boolean,
): boolean {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  if (!wants(handlers, { isText, length: bytes.byteLength, fin: true, compressed: false })) {
    return false;
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
  give(owner, handlers, stream, isText);
  return true;
}

function wants<U>(handlers: WebSocketHandlers<U>, info: MessageStart): boolean {
  const streamWhen = handlers.streamWhen;
  if (streamWhen === undefined) return true;
  try {
    return streamWhen(info) === true;
  } catch (error) {
    reportError(error, "streamWhen");
    return false;
  }
}

function give<U>(
  owner: StreamOwner<U>,
  handlers: WebSocketHandlers<U>,
  stream: ReadableStream<Uint8Array>,
  isText: boolean,
): boolean {
  const failed = (error: unknown): false => {
    reportError(error, "onStream");
    owner.fail("handler-error");
    return false;
  };
  try {
    const result = handlers.onStream!(owner.handle, stream, isText);
    // An async onStream that rejects fails like one that throws.
    if (isThenable(result)) result.then(undefined, failed);
    return true;
  } catch (error) {
    return failed(error);
  }
}

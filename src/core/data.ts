/**
 * What a message may be when it is sent: a string, or bytes in any of the shapes the
 * platform gives them. Every way out (write, publish, broadcast) takes its data through
 * {@linkcode messageData}, so that no transport sees anything but a string or a
 * `Uint8Array`.
 *
 * @module
 */

/**
 * A message as wsx sends it: a string or a `Uint8Array` (a Node.js `Buffer` is one).
 * An `ArrayBuffer`, a `DataView` or another typed array is sent as its bytes.
 *
 * @example
 * ```ts
 * import type { MessageData } from "./data.ts";
 * const data: MessageData = new Uint8Array([1, 2, 3]);
 * ```
 */
export type MessageData = string | Uint8Array;

/**
 * What `write`, `publish` and `broadcast` accept: a string, or bytes as an `ArrayBuffer`
 * or any `ArrayBufferView` (`Uint8Array`, `Buffer`, `DataView`, other typed arrays).
 *
 * @example
 * ```ts
 * import type { SendData } from "./data.ts";
 * const data: SendData = new Float32Array([1.5]).buffer;
 * ```
 */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/**
 * The message as a string or a `Uint8Array` over the same memory (no copy).
 *
 * @param data What the caller passed.
 * @returns The message.
 * @throws {TypeError} For anything but a string, an `ArrayBuffer` or an `ArrayBufferView`.
 * @example
 * ```ts
 * import { messageData } from "./data.ts";
 * messageData(new Uint16Array([1]).buffer); // Uint8Array [1, 0] on little-endian machines
 * ```
 */
export function messageData(data: unknown): MessageData {
  // Small, so that it is inlined into every write; other types are converted apart.
  return typeof data === "string" || data instanceof Uint8Array ? data : converted(data);
}

function converted(data: unknown): MessageData {
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof SharedArrayBuffer === "function" && data instanceof SharedArrayBuffer) {
    return new Uint8Array(data);
  }
  throw new TypeError(
    `Cannot send message: data must be a string, an ArrayBuffer or an ArrayBufferView, got ${
      data === null ? "null" : typeof data
    }`,
  );
}

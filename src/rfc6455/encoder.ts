/**
 * Server frame encoding ([RFC 6455 section 5.2](https://www.rfc-editor.org/rfc/rfc6455#section-5.2)):
 * unmasked headers of 2, 4 or 10 bytes written straight into a target buffer, and
 * standalone frames built once so the same bytes can go to many sockets. Pure.
 *
 * @module
 */

/**
 * The opcodes wsx sends.
 *
 * @example Pick the opcode of a binary message
 * ```ts
 * import { OPCODE } from "./encoder.ts";
 * console.log(OPCODE.binary); // 2
 * ```
 */
export const OPCODE = {
  continuation: 0,
  text: 1,
  binary: 2,
  close: 8,
  ping: 9,
  pong: 10,
} as const;

/**
 * Writes `text` as UTF-8 into `target` at `offset`, which has room for `3 * text.length`
 * bytes, and returns the number of bytes written.
 *
 * @example With `Buffer.prototype.utf8Write` on Node.js
 * ```ts
 * import type { Utf8Write } from "./encoder.ts";
 * const write: Utf8Write = (text, target, offset) =>
 *   new TextEncoder().encodeInto(text, target.subarray(offset)).written;
 * ```
 */
export type Utf8Write = (text: string, target: Uint8Array, offset: number) => number;

const textEncoder = new TextEncoder();

/**
 * The portable {@linkcode Utf8Write}, built on `TextEncoder.encodeInto`.
 *
 * @param text The text to encode.
 * @param target The buffer to write into.
 * @param offset Where the bytes start.
 * @returns The number of bytes written.
 *
 * @example Encode into the middle of a buffer
 * ```ts
 * import { pureUtf8Write } from "./encoder.ts";
 * const target = new Uint8Array(6);
 * console.log(pureUtf8Write("hé", target, 1)); // 3
 * ```
 */
export function pureUtf8Write(text: string, target: Uint8Array, offset: number): number {
  return textEncoder.encodeInto(text, target.subarray(offset)).written;
}

/**
 * Payloads up to this many bytes are copied next to their header in one buffer; larger
 * ones are sent as `[header, payload]`, the payload never copied.
 *
 * @example Decide whether a payload is copied
 * ```ts
 * import { COPY_LIMIT } from "./encoder.ts";
 * console.log(COPY_LIMIT); // 16384
 * ```
 */
export const COPY_LIMIT = 16384;

/**
 * The size of the header of an unmasked frame.
 *
 * @param payloadLength The payload size in bytes.
 * @returns 2, 4 or 10.
 *
 * @example Size headers at the length boundaries
 * ```ts
 * import { headerLength } from "./encoder.ts";
 * console.log(headerLength(125), headerLength(126), headerLength(65536)); // 2 4 10
 * ```
 */
export function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

/**
 * Writes an unmasked frame header: servers never mask
 * ([RFC 6455 section 5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.1)).
 *
 * @param target The buffer to write into.
 * @param offset Where the header starts.
 * @param opcode The frame opcode, from {@linkcode OPCODE}.
 * @param payloadLength The payload size in bytes.
 * @param fin Whether this is the last frame of its message. @default {true}
 * @returns The offset just after the header.
 *
 * @example Write a 16-bit length header
 * ```ts
 * import { OPCODE, writeHeader } from "./encoder.ts";
 * const header = new Uint8Array(4);
 * console.log(writeHeader(header, 0, OPCODE.binary, 300), header); // 4 Uint8Array [130, 126, 1, 44]
 * ```
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  payloadLength: number,
  fin = true,
): number {
  target[offset] = fin ? 0x80 | opcode : opcode;
  if (payloadLength < 126) {
    target[offset + 1] = payloadLength;
    return offset + 2;
  }
  return writeLength(target, offset, payloadLength);
}

// The 16-bit or 64-bit length: apart, so that writeHeader stays small enough for the JIT
// to inline it into each send.
function writeLength(target: Uint8Array, offset: number, payloadLength: number): number {
  if (payloadLength < 65536) {
    target[offset + 1] = 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength;
    return offset + 4;
  }
  const high = Math.floor(payloadLength / 2 ** 32), low = payloadLength >>> 0;
  target[offset + 1] = 127;
  target[offset + 2] = high >>> 24;
  target[offset + 3] = high >>> 16;
  target[offset + 4] = high >>> 8;
  target[offset + 5] = high;
  target[offset + 6] = low >>> 24;
  target[offset + 7] = low >>> 16;
  target[offset + 8] = low >>> 8;
  target[offset + 9] = low;
  return offset + 10;
}

/**
 * The room {@linkcode writeTextFrame} may need for `text`.
 *
 * @param text The message text.
 * @returns The worst-case frame size in bytes.
 *
 * @example Size the room for a short text
 * ```ts
 * import { textFrameCapacity } from "./encoder.ts";
 * console.log(textFrameCapacity("hi")); // 8
 * ```
 */
export function textFrameCapacity(text: string): number {
  const max = text.length * 3;
  return headerLength(max) + max;
}

/**
 * Writes a whole text frame, header then UTF-8 payload, without an intermediate buffer.
 * The header is sized for the shortest possible payload (one byte per UTF-16 unit); when
 * the encoded text turns out longer, the payload is moved up to make room.
 *
 * @param target The buffer, with {@linkcode textFrameCapacity} bytes free at `offset`.
 * @param offset Where the frame starts.
 * @param text The message text.
 * @param write How to encode UTF-8. @default {pureUtf8Write}
 * @param opcode `OPCODE.text`, or `OPCODE.continuation` for a later fragment. @default {1}
 * @param fin Whether this is the last frame of its message. @default {true}
 * @returns The offset just after the frame.
 *
 * @example Write a text frame
 * ```ts
 * import { writeTextFrame } from "./encoder.ts";
 * const target = new Uint8Array(16);
 * console.log(writeTextFrame(target, 0, "Hello"), target.subarray(0, 7)); // 7 Uint8Array [129, 5, 72, 101, 108, 108, 111]
 * ```
 */
export function writeTextFrame(
  target: Uint8Array,
  offset: number,
  text: string,
  write: Utf8Write = pureUtf8Write,
  opcode: number = OPCODE.text,
  fin = true,
): number {
  const guess = headerLength(text.length);
  const n = write(text, target, offset + guess);
  const actual = headerLength(n);
  if (actual > guess) target.copyWithin(offset + actual, offset + guess, offset + guess + n);
  writeHeader(target, offset, opcode, n, fin);
  return offset + actual + n;
}

/**
 * Builds one standalone frame: one buffer when the payload is small, else
 * `[header, payload]` with the payload shared, not copied. Encode once, write the parts
 * to any number of sockets.
 *
 * @param opcode The frame opcode, from {@linkcode OPCODE}.
 * @param payload The payload bytes.
 * @param fin Whether this is the last frame of its message. @default {true}
 * @returns The frame as one or two parts.
 *
 * @example Encode a binary frame once
 * ```ts
 * import { encodeFrame, OPCODE } from "./encoder.ts";
 * console.log(encodeFrame(OPCODE.binary, new Uint8Array([1, 2]))); // [Uint8Array [130, 2, 1, 2]]
 * ```
 */
export function encodeFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array[] {
  const n = payload.byteLength, h = headerLength(n);
  if (n > COPY_LIMIT) {
    const header = new Uint8Array(h);
    writeHeader(header, 0, opcode, n, fin);
    return [header, payload];
  }
  const out = new Uint8Array(h + n);
  out.set(payload, writeHeader(out, 0, opcode, n, fin));
  return [out];
}

/**
 * Builds one standalone text frame, like {@linkcode encodeFrame}.
 *
 * @param text The message text.
 * @param fin Whether this is the last frame of its message. @default {true}
 * @returns The frame as one or two parts.
 *
 * @example Encode a text frame once
 * ```ts
 * import { encodeText } from "./encoder.ts";
 * console.log(encodeText("hi")); // [Uint8Array [129, 2, 104, 105]]
 * ```
 */
export function encodeText(text: string, fin = true): Uint8Array[] {
  if (text.length * 3 > COPY_LIMIT) return encodeFrame(OPCODE.text, textEncoder.encode(text), fin);
  const out = new Uint8Array(textFrameCapacity(text));
  const end = writeTextFrame(out, 0, text, pureUtf8Write, OPCODE.text, fin);
  return [out.subarray(0, end)];
}

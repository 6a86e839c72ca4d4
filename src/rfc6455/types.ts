/**
 * The vocabulary of the frame parser: where it reports ({@linkcode FrameSink}) and how it
 * is set up ({@linkcode FrameParserOptions}). Pure.
 *
 * @module
 */

import type { MessageParts } from "../core/transport.ts";
import type { WsxError } from "../errors.ts";
import type { Utf8Check } from "./utf8.ts";

/**
 * Where a {@linkcode FrameParser} reports what it read. Each call happens synchronously
 * inside {@linkcode FrameParser.push}; an exception thrown here propagates out of it.
 *
 * @example A sink that logs
 * ```ts
 * import type { FrameSink } from "./types.ts";
 * const sink: FrameSink = {
 *   message: (data, isText) => console.log(isText ? data : "binary"),
 *   ping: () => {}, pong: () => {},
 *   close: (code, reason) => console.log(code, reason),
 *   error: (err) => console.log(err.code),
 * };
 * ```
 */
export interface FrameSink {
  /** A whole message: a string when `isText`, else an exact view (it may share memory with the chunk). */
  message(data: string | Uint8Array, isText: boolean): void;
  /** A ping with its payload (a view valid until `push` returns). */
  ping(payload: Uint8Array): void;
  /** A pong with its payload (a view valid until `push` returns). */
  pong(payload: Uint8Array): void;
  /** A valid close frame; 1005 and `""` when it had no payload. Parsing stops. */
  close(code: number, reason: string): void;
  /** A protocol or policy error; parsing stops and later input is ignored. */
  error(err: WsxError): void;
  /**
   * A data message starts: the header of its first frame. Return where its payload goes
   * to take it as a stream (unmasked and inflated, in order; text valid UTF-8 cut only
   * between code points; never through `message` then), or `undefined` to have it whole.
   */
  start?(
    isText: boolean,
    length: number,
    fin: boolean,
    compressed: boolean,
  ): MessageParts | undefined;
  /**
   * Whether reading is held for a stream's reader who is behind. A compressed message
   * taken as a stream stops inflating then, and the parser waits (with the rest of the
   * chunk) until {@linkcode FrameParser.resume}. @default {() => false}
   */
  held?(): boolean;
}

/**
 * The limits a parser reads while it runs; `maxMsgSize` (bytes) is read each time a
 * message starts, so changing it affects the next message.
 *
 * @example Limit messages to 1 MiB
 * ```ts
 * import type { MessageLimits } from "./types.ts";
 * const limits: MessageLimits = { maxMsgSize: 1 << 20 };
 * ```
 */
export interface MessageLimits {
  /** The largest message payload accepted, in bytes, summed across fragments. */
  readonly maxMsgSize: number;
  /**
   * The largest streamed message (see {@linkcode FrameSink.start}), in bytes; `maxMsgSize`
   * does not apply to it. @default {DEFAULT_MAX_STREAM_SIZE} (256 GiB, `stream.ts`)
   */
  readonly maxStreamSize?: number;
}

/**
 * Decodes valid UTF-8 `bytes[start..end)` into a string.
 *
 * @example Decode with TextDecoder
 * ```ts
 * import type { Utf8Decode } from "./types.ts";
 * const decode: Utf8Decode = (b, s, e) => new TextDecoder().decode(b.subarray(s, e));
 * ```
 */
export type Utf8Decode = (bytes: Uint8Array, start: number, end: number) => string;

/**
 * How a {@linkcode FrameParser} is set up. Share one object between connections.
 *
 * @example On Node.js, with the native UTF-8 check
 * ```ts
 * import { isUtf8 } from "node:buffer";
 * import type { FrameParserOptions } from "./types.ts";
 * const options: FrameParserOptions = { limits: { maxMsgSize: 1 << 20 }, isUtf8 };
 * ```
 */
export interface FrameParserOptions {
  /** The live limits, read when a message starts. */
  readonly limits: MessageLimits;
  /** The most frames one message may span. @default {defaultFragmentCap(maxMsgSize)} */
  readonly maxFragments?: number;
  /** A native whole-buffer UTF-8 check for long runs. @default {undefined} (pure JS) */
  readonly isUtf8?: Utf8Check;
  /** The text decoder. @default {TextDecoder} */
  readonly decodeUtf8?: Utf8Decode;
}

/**
 * {@linkcode FrameParserOptions}, plus how a payload split across chunks gets its buffer.
 *
 * @example Let Node.js allocate without zeroing
 * ```ts
 * import { Buffer } from "node:buffer";
 * import type { ParserOptions } from "./types.ts";
 * const options: ParserOptions = { limits: { maxMsgSize: 1 << 20 }, allocate: Buffer.allocUnsafeSlow };
 * ```
 */
export interface ParserOptions extends FrameParserOptions {
  /**
   * Allocates the buffer of a payload split across chunks. Every byte of it that anyone
   * can see is written first, so it need not be zeroed: on Node.js,
   * `Buffer.allocUnsafeSlow` saves zeroing and copying 64 KiB per 64 KiB message (about a
   * sixth of the engine's time on them). @default {(size) => new Uint8Array(size)}
   */
  readonly allocate?: (size: number) => Uint8Array;
}

/**
 * The least fragment cap used when {@linkcode FrameParserOptions.maxFragments} is not set;
 * see {@linkcode defaultFragmentCap}.
 *
 * @example Read the least default cap
 * ```ts
 * import { DEFAULT_MAX_FRAGMENTS } from "./types.ts";
 * console.log(DEFAULT_MAX_FRAGMENTS); // 1024
 * ```
 */
export const DEFAULT_MAX_FRAGMENTS = 1024;

/**
 * The fragment cap when none is set: one frame per 64 bytes of `maxMsgSize`, and at least
 * {@linkcode DEFAULT_MAX_FRAGMENTS}. A raised `maxMsgSize` admits the messages peers
 * really send in small fragments (the Autobahn TestSuite's cases 9.3 and 9.4 send 4 MiB
 * in 64-byte frames), while frames too small to be worth their header stay refused.
 *
 * @param maxMsgSize The message size limit in force.
 * @returns The most frames one message may span.
 *
 * @example
 * ```ts
 * import { defaultFragmentCap } from "./types.ts";
 * console.log(defaultFragmentCap(262144), defaultFragmentCap(4 << 20)); // 4096 65536
 * ```
 */
export function defaultFragmentCap(maxMsgSize: number): number {
  return Math.max(DEFAULT_MAX_FRAGMENTS, Math.floor(maxMsgSize / 64));
}

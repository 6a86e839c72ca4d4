/**
 * A compressed message taken as a stream (permessage-deflate,
 * [RFC 7692 section 7.2.2](https://www.rfc-editor.org/rfc/rfc7692#section-7.2.2)): its
 * payload is inflated as it arrives, at most {@linkcode INFLATE_STEP_BYTES} at a time,
 * and handed on in order (`stream.ts` checks text and cuts it between code points). The
 * output is bounded twice: past the stream's limit inflation stops (1009), and while the
 * reader is behind (the connection's reading is held) nothing more is inflated: the
 * compressed input waits, at most what one socket read brought. Pure: the raw inflater
 * is passed in (`codec.ts` on the runtimes' `node:zlib`).
 *
 * The server always answers `client_no_context_takeover` (`negotiate.ts`), so every
 * message starts a fresh inflater.
 *
 * @module
 */

import type { WsxErrorCode } from "../../errors.ts";
import type { StreamedParts } from "../stream.ts";

/**
 * One message's incremental raw inflater: each call reads what it can of the input and
 * writes at most `room` bytes.
 *
 * @example See `openInflate` in `codec.ts`
 * ```ts
 * import type { InflateStep } from "./stream_inflate.ts";
 * declare const step: InflateStep;
 * const out = new Uint8Array(1024);
 * if (step.write(new Uint8Array([0x00, 0x00, 0xff, 0xff]), 0, 4, out, 0, 1024)) console.log(step.wrote);
 * ```
 */
export interface InflateStep {
  /**
   * Inflates from `input[start..end)` into `out[at..at+room)`.
   *
   * @returns `false` when the data does not inflate.
   */
  write(
    input: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
    at: number,
    room: number,
  ): boolean;
  /** Input bytes the last {@linkcode InflateStep.write} consumed. */
  readonly read: number;
  /** Output bytes the last {@linkcode InflateStep.write} produced. */
  readonly wrote: number;
  /** Frees the inflater. */
  close(): void;
}

/**
 * What {@linkcode StreamInflater.push} and {@linkcode StreamInflater.resume} report:
 * `"ok"` when all the input so far is inflated, `"wait"` while the connection's reading
 * is held (call `resume` when it is not), or the error to close with.
 *
 * @example
 * ```ts
 * import type { InflateStatus } from "./stream_inflate.ts";
 * const status: InflateStatus = "wait";
 * ```
 */
export type InflateStatus = "ok" | "wait" | WsxErrorCode;

/**
 * The most inflated bytes one step produces, and so the most a stream's queue can pass
 * its window by: every step looks at whether reading is held first.
 *
 * @example
 * ```ts
 * import { INFLATE_STEP_BYTES } from "./stream_inflate.ts";
 * console.log(INFLATE_STEP_BYTES); // 65536
 * ```
 */
export const INFLATE_STEP_BYTES = 65536;

const TRAILER = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const FIRST_BUFFER = 4096;

/**
 * The inflation of one compressed message taken as a stream.
 *
 * @example Inflate RFC 7692's "Hello" (section 7.2.3.1) into a stream
 * ```ts
 * import { StreamInflater } from "./stream_inflate.ts";
 * import { openInflate } from "./codec.ts";
 * import { StreamedParts } from "../stream.ts";
 * const parts = new StreamedParts();
 * const limit = parts.begin(true, { maxMsgSize: 1024 }, {
 *   part: (bytes, last) => console.log(new TextDecoder().decode(bytes), last), // "Hello" false, "" true
 * });
 * const inflater = new StreamInflater(openInflate(), parts, limit, () => false);
 * inflater.push(new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), true); // "ok"
 * ```
 */
export class StreamInflater {
  #step: InflateStep | null;
  #parts: StreamedParts;
  #limit: number;
  #held: () => boolean;
  #total = 0;
  // Compressed input not inflated yet (views of socket reads), and where the first starts.
  #queue: Uint8Array[] = [];
  #from = 0;
  #last = false; // the message's last payload is queued, the trailer after it
  #ended = false; // the deflate stream ended (a final block): the rest is ignored
  #out: Uint8Array | null = null;
  #at = 0;
  #behind: Uint8Array | null = null; // the parser's bytes after this message's, waiting

  /**
   * Starts inflating one message.
   *
   * @param step A fresh raw inflater, closed by this object when the message ends.
   * @param parts Where the inflated bytes go (begun by the caller).
   * @param limit The most inflated bytes allowed (`maxStreamSize`).
   * @param held Whether the connection's reading is held for a reader behind.
   */
  constructor(step: InflateStep, parts: StreamedParts, limit: number, held: () => boolean) {
    this.#step = step;
    this.#parts = parts;
    this.#limit = limit;
    this.#held = held;
  }

  /** Whether the message is inflated to its end and handed over. */
  get done(): boolean {
    return this.#step === null;
  }

  /**
   * Inflates the next compressed payload bytes (a view of them is kept while it waits).
   *
   * @param bytes The unmasked compressed bytes.
   * @param last Whether they end the message (`00 00 ff ff` is appended then).
   * @returns What happened; after `"wait"`, call {@linkcode StreamInflater.resume}.
   */
  push(bytes: Uint8Array, last: boolean): InflateStatus {
    if (bytes.byteLength > 0) this.#queue.push(bytes);
    if (last) this.#queue.push(TRAILER), this.#last = true;
    return this.resume();
  }

  /**
   * Goes on inflating what waits, unless reading is still held.
   *
   * @returns Like {@linkcode StreamInflater.push}.
   */
  resume(): InflateStatus {
    if (this.#step === null) return "ok";
    const queue = this.#queue;
    while (queue.length > 0) {
      if (this.#held()) return "wait";
      const failed = this.#inflate(queue[0]);
      if (failed !== null) return this.#stop(failed);
    }
    if (!this.#last) return "ok";
    this.#close();
    // The message's end: for text, whether it ends on a whole code point.
    return this.#parts.push(TRAILER, 0, 0, true) ? "ok" : this.#stop("invalid-utf8");
  }

  /**
   * Keeps the bytes the parser got after this message's while it waits, so that nothing
   * behind the message (a close frame, the next message) overtakes it.
   *
   * @param rest Unparsed bytes (kept as is, or appended to those kept).
   */
  keep(rest: Uint8Array): void {
    const had = this.#behind;
    if (had === null || had.length === 0) return void (this.#behind = rest);
    // More bytes while waiting: a read that was under way when reading paused.
    const joined = new Uint8Array(had.length + rest.length);
    joined.set(had);
    joined.set(rest, had.length);
    this.#behind = joined;
  }

  /**
   * Hands back the bytes {@linkcode StreamInflater.keep} kept, once the wait is over.
   *
   * @returns The bytes, or `null`.
   */
  behind(): Uint8Array | null {
    const rest = this.#behind;
    this.#behind = null;
    return rest;
  }

  /** Drops what waits and frees the inflater (the connection closed). */
  close(): void {
    this.#queue = [];
    this.#behind = null;
    this.#close();
  }

  // One step: at most INFLATE_STEP_BYTES out, and never more than one byte past the limit.
  #inflate(input: Uint8Array): WsxErrorCode | null {
    if (this.#ended) return this.#consumed(input.length), null;
    let out = this.#out, at = this.#at;
    if (out === null || at === out.length) {
      // A small message gets a small buffer (four times its first input, at least 4 KiB);
      // the next ones double, up to a step.
      const size = out === null ? Math.max(FIRST_BUFFER, input.length * 4) : out.length * 2;
      out = this.#out = new Uint8Array(Math.min(INFLATE_STEP_BYTES, size));
      at = 0;
    }
    const step = this.#step!;
    const room = Math.min(out.length - at, this.#limit - this.#total + 1);
    if (!step.write(input, this.#from, input.length, out, at, room)) return "inflate-failed";
    const wrote = step.wrote;
    // With room and input, zlib always progresses but after the deflate stream's final
    // block (BFINAL); what follows it is ignored, as the whole-message inflate does.
    if (step.read === 0 && wrote === 0) this.#ended = true;
    this.#consumed(step.read);
    if (wrote === 0) return null;
    this.#total += wrote;
    if (this.#total > this.#limit) return "stream-too-big";
    this.#at = at + wrote;
    return this.#parts.push(out, at, at + wrote, false) ? null : "invalid-utf8";
  }

  #consumed(read: number): void {
    this.#from += read;
    if (this.#from < this.#queue[0].length) return;
    this.#queue.shift();
    this.#from = 0;
  }

  #stop(error: WsxErrorCode): WsxErrorCode {
    this.close();
    return error;
  }

  #close(): void {
    this.#step?.close();
    this.#step = null;
    this.#out = null;
  }
}

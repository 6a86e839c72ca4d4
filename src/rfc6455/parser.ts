/**
 * The incremental frame parser of a server endpoint
 * ([RFC 6455 section 5](https://www.rfc-editor.org/rfc/rfc6455#section-5)): bytes in
 * through {@linkcode FrameParser.push}, messages, control frames and errors out through
 * a {@linkcode FrameSink}. The frames themselves are read by {@linkcode FrameReader}
 * (`frame_reader.ts`); this file says what they mean. Pure: no runtime APIs.
 *
 * @module
 */

import { readClose } from "./close_frame.ts";
import { FrameReader } from "./frame_reader.ts";
import { MessageAssembler } from "./message.ts";
import { StreamedParts } from "./stream.ts";
import type { Inflater } from "./deflate/inflater.ts";
import type { InflateStatus } from "./deflate/stream_inflate.ts";
import { offerReply, withdrawReply } from "./reply.ts";
import type { FrameSink, ParserOptions, Utf8Decode } from "./types.ts";
import { isValidUtf8 } from "./utf8.ts";

export type { ParserOptions } from "./types.ts";

// The opcodes of RFC 6455 section 5.2 this file tells apart.
const OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;
// A leading U+FEFF is part of the message: TextDecoder drops it unless told not to.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const pureDecode: Utf8Decode = (b, s, e) => textDecoder.decode(b.subarray(s, e));

/**
 * An incremental parser for the frames a client sends to a server.
 *
 * @example Parse a masked "Hello" (RFC 6455 section 5.7)
 * ```ts
 * import { FrameParser } from "./parser.ts";
 * const parser = new FrameParser({
 *   message: (data) => console.log(data), // "Hello"
 *   ping() {}, pong() {}, close() {}, error: (err) => console.log(err.message),
 * }, { limits: { maxMsgSize: 1024 } });
 * parser.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * ```
 */
export class FrameParser extends FrameReader {
  #message: MessageAssembler | null = null;

  /**
   * Creates a parser for one connection.
   *
   * @param sink Where messages, control frames and errors go.
   * @param options Limits, UTF-8 helpers and the allocator; read live, never copied.
   * @param inflater Set when permessage-deflate was negotiated. @default {null}
   */
  constructor(sink: FrameSink, options: ParserOptions, inflater: Inflater | null = null) {
    super(sink, options, inflater);
  }

  /**
   * Goes on after a wait ({@linkcode FrameSink.held} no longer true): inflates what the
   * compressed stream holds, then parses the rest of the chunk it stopped in.
   */
  resume(): void {
    if (!this.waiting) return;
    const unzip = this.unzip!, status = unzip.resume();
    if (status === "wait") return;
    this.proceed();
    const rest = unzip.behind();
    if (!this.#inflated(status) && rest !== null) this.push(rest);
  }

  /** Stops parsing for good and drops any buffered payload. */
  override stop(): void {
    super.stop();
    this.#message = null;
  }

  protected override frameDone(
    buf: Uint8Array,
    start: number,
    end: number,
    whole: boolean,
    room: number,
  ): void {
    if (this.opcode >= OP_CLOSE) this.#control(buf, start, end);
    else if (this.stream !== null) this.streamPart(buf, start, end, this.fin);
    else if (this.compressed) this.#compressedPart(this.view(buf, start, end));
    else if (this.fin && this.fragments === 1) this.#single(buf, start, end, whole, room);
    else this.#fragment(buf, start, end, whole);
  }

  protected override smallMessage(
    buf: Uint8Array,
    start: number,
    end: number,
    text: boolean,
    room: number,
  ): void {
    if (text) {
      if (!isValidUtf8(buf, start, end, this.opts.isUtf8)) return void this.fail("invalid-utf8");
      return this.#deliverText(buf, start, end);
    }
    const data = this.view(buf, start, end);
    offerReply(data, buf, room, start);
    this.sink.message(data, false);
    withdrawReply();
  }

  // The sink may take a message as a stream; a compressed one is inflated as it comes.
  protected override offer(len: number): void {
    const text = this.opcode === OP_TEXT, zip = this.compressed;
    if (zip && !this.inflater!.streams) return;
    const to = this.sink.start!(text, len, this.fin, zip);
    if (!to) return;
    const stream = this.stream = new StreamedParts(this.opts.isUtf8);
    this.msgLimit = stream.begin(text, this.opts.limits, to);
    if (!zip) return;
    // Made here, not per parser: a parser is made for each chunk read.
    const sink = this.sink;
    this.unzip = this.inflater!.stream(stream, this.msgLimit, () => sink.held?.() === true);
  }

  protected override streamPart(buf: Uint8Array, start: number, end: number, last: boolean): void {
    const stream = this.stream!;
    if (last) this.stream = null, this.msgOpcode = 0;
    if (this.unzip !== null) return this.#inflatePart(this.view(buf, start, end), last);
    if (!stream.push(buf, start, end, last)) this.fail("invalid-utf8");
  }

  protected override checkText(buf: Uint8Array, start: number, end: number): boolean {
    return this.#assembler().check(buf, start, end);
  }

  // A compressed stream's part (`deflate/stream_inflate.ts`): inflated now, or kept while
  // its reader is behind, and then the parser waits too, so that nothing after it in the
  // chunk (a close frame, the next message) overtakes it.
  #inflatePart(part: Uint8Array, last: boolean): void {
    const status = this.unzip!.push(part, last);
    if (status !== "wait") return void this.#inflated(status);
    this.wait();
  }

  // Returns whether the parser failed.
  #inflated(status: Exclude<InflateStatus, "wait">): boolean {
    if (status !== "ok") return this.fail(status), true;
    if (this.unzip!.done) this.unzip = null;
    return false;
  }

  // A message in one frame: the hot path, no assembly.
  #single(buf: Uint8Array, start: number, end: number, whole: boolean, room: number): void {
    this.msgOpcode = 0;
    if (this.opcode === OP_BINARY) {
      const data = this.view(buf, start, end);
      if (room < 0) return this.sink.message(data, false);
      offerReply(data, buf, room, start);
      this.sink.message(data, false);
      return withdrawReply();
    }
    let valid: boolean;
    if (whole) valid = isValidUtf8(buf, start, end, this.opts.isUtf8);
    else {
      // Split across chunks: every part was already checked as it arrived.
      valid = this.#message!.textComplete();
      this.#message!.reset();
    }
    if (!valid) return void this.fail("invalid-utf8");
    this.#deliverText(buf, start, end);
  }

  #fragment(buf: Uint8Array, start: number, end: number, whole: boolean): void {
    const m = this.#assembler(), text = this.msgOpcode === OP_TEXT;
    if (text && whole && !m.check(buf, start, end)) return void this.fail("invalid-utf8");
    m.append(this.view(buf, start, end));
    if (!this.fin) return;
    this.msgOpcode = 0;
    if (text && !m.textComplete()) return void this.fail("invalid-utf8");
    const data = m.join();
    if (!text) return this.sink.message(data, false);
    this.#deliverText(data, 0, data.length);
  }

  // Gathered whole, inflated within the limit, then checked (`deflate/inflater.ts`).
  #compressedPart(part: Uint8Array): void {
    if (!this.fin) return this.inflater!.append(part);
    const text = this.msgOpcode === OP_TEXT;
    this.msgOpcode = 0;
    this.compressed = false;
    const data = this.inflater!.finish(part, this.msgLimit, text, this.opts.isUtf8);
    if (typeof data === "string") return void this.fail(data);
    if (text) this.#deliverText(data, 0, data.length);
    else this.sink.message(data, false);
  }

  #deliverText(buf: Uint8Array, start: number, end: number): void {
    let text: string;
    try {
      text = (this.opts.decodeUtf8 ?? pureDecode)(buf, start, end);
    } catch {
      // Longer than the engine's maximum string length.
      return void this.fail("message-too-big");
    }
    this.sink.message(text, true);
  }

  #control(buf: Uint8Array, start: number, end: number): void {
    if (this.opcode === OP_PING) this.sink.ping(this.view(buf, start, end));
    else if (this.opcode === OP_PONG) this.sink.pong(this.view(buf, start, end));
    else this.#close(buf, start, end);
  }

  #close(buf: Uint8Array, start: number, end: number): void {
    const opts = this.opts;
    const read = readClose(buf, start, end, opts.isUtf8, opts.decodeUtf8 ?? pureDecode);
    if (typeof read === "string") return void this.fail(read);
    this.stop();
    this.sink.close(read.code, read.reason);
  }

  #assembler(): MessageAssembler {
    return this.#message ??= new MessageAssembler(this.opts.isUtf8);
  }
}

/**
 * The incremental frame parser of a server endpoint
 * ([RFC 6455 section 5](https://www.rfc-editor.org/rfc/rfc6455#section-5)): bytes in
 * through {@linkcode FrameParser.push}, messages, control frames and errors out through
 * a {@linkcode FrameSink}. Pure: no runtime APIs.
 *
 * @module
 */

import { WsxError, type WsxErrorCode } from "../errors.ts";
import { readClose } from "./close_frame.ts";
import { headerLength } from "./encoder.ts";
import { maskInto, readMaskKey } from "./mask.ts";
import { MessageAssembler } from "./message.ts";
import { type Inflater, rsvError } from "./deflate/inflater.ts";
import type { InflateStatus, StreamInflater } from "./deflate/stream_inflate.ts";
import { offerReply, withdrawReply } from "./reply.ts";
import { StreamedParts, streamFragmentCap } from "./stream.ts";
import {
  defaultFragmentCap,
  type FrameParserOptions,
  type FrameSink,
  type Utf8Decode,
} from "./types.ts";
import { isValidUtf8 } from "./utf8.ts";

const HEAD1 = 0, HEAD2 = 1, EXT_LENGTH = 2, MASK_KEY = 3, PAYLOAD = 4, DONE = 5;
// A compressed stream's reader is behind: the rest of the chunk waits for `resume`.
const WAIT = 6;
const OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;
// Typed arrays and Node buffers cannot grow past this, whatever maxMsgSize says.
const MAX_MESSAGE = 2 ** 31 - 1;
// A split payload's buffer is allocated whole up to this size (the default maxMsgSize);
// above it the buffer grows with the bytes that arrive, not with the length the header
// claims, so a lying header cannot make us allocate more than twice what it sent.
const EAGER_CAPACITY = 262_144;
const STOP = Infinity;
const EMPTY = new Uint8Array(0);
const zeroed = (size: number): Uint8Array => new Uint8Array(size);

/**
 * {@linkcode FrameParserOptions}, plus how a payload split across chunks gets its buffer.
 *
 * @example Let Node.js allocate without zeroing
 * ```ts
 * import { Buffer } from "node:buffer";
 * import type { ParserOptions } from "./parser.ts";
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
// A leading U+FEFF is part of the message: TextDecoder drops it unless told not to.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const pureDecode: Utf8Decode = (b, s, e) => textDecoder.decode(b.subarray(s, e));

const view = (b: Uint8Array, s: number, e: number): Uint8Array =>
  s === 0 && e === b.length ? b : b.subarray(s, e);

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
export class FrameParser {
  #sink: FrameSink;
  #opts: ParserOptions;
  #state = HEAD1;
  #fin = false;
  #opcode = 0;
  #need = 0; // bytes still to read in EXT_LENGTH or MASK_KEY
  #length = 0;
  #key = 0;
  #got = 0; // payload bytes of a split frame received so far
  #frame: Uint8Array | null = null; // a split frame's header room, then its payload
  #cursor = 0; // where the consumed bytes of the current chunk start
  #msgOpcode = 0; // OP_TEXT or OP_BINARY while a message is open, else 0
  #msgSize = 0;
  #msgLimit = 0;
  #fragments = 0;
  #message: MessageAssembler | null = null;
  #inflater: Inflater | null; // permessage-deflate (RFC 7692), when negotiated
  #compressed = false; // the open message had RSV1 on its first frame
  #stream: StreamedParts | null = null; // stream mode: the payload goes out as it arrives
  #unzip: StreamInflater | null = null; // a compressed message in stream mode
  #resumeAt = HEAD1; // in WAIT: the state to go on in
  #held = (): boolean => this.#sink.held?.() === true;

  /**
   * Creates a parser for one connection.
   *
   * @param sink Where messages, control frames and errors go.
   * @param options Limits, UTF-8 helpers and the allocator; read live, never copied.
   * @param inflater Set when permessage-deflate was negotiated. @default {null}
   */
  constructor(sink: FrameSink, options: ParserOptions, inflater: Inflater | null = null) {
    this.#sink = sink;
    this.#opts = options;
    this.#inflater = inflater;
  }

  /** Whether the parser stopped: after a close frame, an error or {@linkcode FrameParser.stop}. */
  get stopped(): boolean {
    return this.#state === DONE;
  }

  /**
   * Parses the next bytes. The chunk is rewritten: payloads are unmasked and moved towards
   * its front (see `reply.ts`), and messages may be views of it, so the caller must not
   * reuse the chunk's memory.
   *
   * @param chunk The bytes received.
   */
  push(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    this.#cursor = 0;
    while (pos < end) {
      switch (this.#state) {
        case HEAD1:
          pos = this.#head1(chunk, pos);
          break;
        case HEAD2:
          pos = this.#head2(chunk, pos);
          break;
        case EXT_LENGTH:
          pos = this.#extLength(chunk, pos, end);
          break;
        case MASK_KEY:
          pos = this.#maskKey(chunk, pos, end);
          break;
        case PAYLOAD:
          pos = this.#payload(chunk, pos, end);
          break;
        case WAIT:
          return this.#unzip?.keep(chunk.subarray(pos));
        default:
          return;
      }
    }
  }

  /**
   * Whether the parser sits between messages with nothing buffered, so dropping it and
   * starting a new one later loses nothing.
   */
  get idle(): boolean {
    return this.#state === HEAD1 && this.#msgOpcode === 0;
  }

  /** Whether the parser waits for a compressed stream's reader (see {@linkcode FrameParser.resume}). */
  get waiting(): boolean {
    return this.#state === WAIT;
  }

  /**
   * Goes on after a wait ({@linkcode FrameSink.held} no longer true): inflates what the
   * compressed stream holds, then parses the rest of the chunk it stopped in.
   */
  resume(): void {
    if (this.#state !== WAIT) return;
    const unzip = this.#unzip!, status = unzip.resume();
    if (status === "wait") return;
    this.#state = this.#resumeAt;
    const rest = unzip.behind();
    if (!this.#inflated(status) && rest !== null) this.push(rest);
  }

  /** Stops parsing for good and drops any buffered payload. */
  stop(): void {
    this.#state = DONE;
    this.#frame = null;
    this.#message = null;
    this.#inflater?.reset();
    this.#stream = null;
    this.#unzip?.close();
    this.#unzip = null;
  }

  // Byte 0: FIN, RSV1-3, opcode (RFC 6455 section 5.2). Every check that byte allows
  // is made here, so a bad frame fails before its length or payload arrives.
  #head1(buf: Uint8Array, pos: number): number {
    const b = buf[pos];
    if ((b & 0x70) !== 0) {
      const refused = rsvError(b, this.#inflater !== null);
      if (refused !== null) return this.#fail(refused);
    }
    const op = b & 0x0f, fin = b >= 0x80;
    if (op >= OP_CLOSE) {
      if (op > OP_PONG) return this.#fail("frame-opcode");
      if (!fin) return this.#fail("control-fragmented");
    } else if (op === OP_CONTINUATION) {
      if (this.#msgOpcode === 0) return this.#fail("unexpected-continuation");
      const cap = this.#stream !== null
        ? streamFragmentCap(this.#msgSize)
        : this.#opts.maxFragments ?? defaultFragmentCap(this.#msgLimit);
      if (++this.#fragments > cap) return this.#fail("too-many-fragments");
    } else if (op <= OP_BINARY) {
      if (this.#msgOpcode !== 0) return this.#fail("expected-continuation");
      this.#compressed = (b & 0x40) !== 0;
      this.#msgOpcode = op;
      this.#msgSize = 0;
      this.#fragments = 1;
      this.#msgLimit = Math.min(this.#opts.limits.maxMsgSize, MAX_MESSAGE);
    } else return this.#fail("frame-opcode");
    this.#fin = fin;
    this.#opcode = op;
    this.#state = HEAD2;
    return pos + 1;
  }

  // Byte 1: MASK and the 7-bit length (RFC 6455 sections 5.1 and 5.5).
  #head2(buf: Uint8Array, pos: number): number {
    const b = buf[pos];
    if (b < 0x80) return this.#fail("frame-unmasked");
    const len = b & 0x7f;
    if (this.#opcode >= OP_CLOSE && len > 125) return this.#fail("control-too-long");
    if (len < 126) return this.#lengthKnown(len, pos + 1);
    this.#need = len === 126 ? 2 : 8;
    this.#length = 0;
    this.#state = EXT_LENGTH;
    return pos + 1;
  }

  // The 16-bit or 64-bit extended length, big-endian, possibly split across chunks.
  #extLength(buf: Uint8Array, pos: number, end: number): number {
    let need = this.#need, len = this.#length, i = pos;
    for (const stop = Math.min(end, pos + need); i < stop; i++, need--) {
      const b = buf[i];
      // RFC 6455 section 5.2: the most significant bit of a 64-bit length MUST be 0.
      if (need === 8 && b >= 0x80) return this.#fail("frame-length");
      len = len * 256 + b;
    }
    this.#need = need;
    this.#length = len;
    return need > 0 ? i : this.#lengthKnown(len, i);
  }

  // The limit is checked here, before any payload byte is buffered.
  #lengthKnown(len: number, pos: number): number {
    if (this.#opcode < OP_CLOSE) {
      // The sink may take a message as a stream; a compressed one is inflated as it comes.
      const text = this.#opcode === OP_TEXT, first = this.#opcode !== OP_CONTINUATION;
      const zip = this.#compressed, canStream = !zip || this.#inflater!.streams;
      const to = first && canStream && this.#sink.start?.(text, len, this.#fin, zip);
      if (to) {
        const stream = this.#stream = new StreamedParts(this.#opts.isUtf8);
        this.#msgLimit = stream.begin(text, this.#opts.limits, to);
        if (zip) this.#unzip = this.#inflater!.stream(stream, this.#msgLimit, this.#held);
      }
      const total = this.#msgSize + len;
      const tooBig = this.#stream !== null ? "stream-too-big" : "message-too-big";
      if (!(total <= this.#msgLimit)) return this.#fail(tooBig);
      this.#msgSize = total;
    }
    this.#length = len;
    this.#got = 0;
    this.#need = 4;
    this.#key = 0;
    this.#state = MASK_KEY;
    return pos;
  }

  #maskKey(buf: Uint8Array, pos: number, end: number): number {
    let need = this.#need, key = this.#key, i = pos;
    if (need === 4 && end - pos >= 4) {
      key = readMaskKey(buf, pos);
      i += 4;
      need = 0;
    } else {
      for (; need > 0 && i < end; i++, need--) key = (key << 8) | buf[i];
    }
    this.#need = need;
    this.#key = key;
    if (need > 0) return i;
    this.#state = this.#length === 0 ? HEAD1 : PAYLOAD;
    if (this.#length === 0) this.#frameDone(EMPTY, 0, 0, true, -1);
    return i;
  }

  // The whole payload is in this chunk: it is unmasked towards the front, right after
  // the previous payload, with room for our own header in front (`reply.ts`), and handed
  // out as a view: no copy. There is always room but after a header split across chunks.
  #payload(buf: Uint8Array, pos: number, end: number): number {
    if (this.#stream !== null && this.#opcode < OP_CLOSE) return this.#streamPayload(buf, pos, end);
    const len = this.#length, stop = pos + len;
    if (this.#got > 0 || stop > end) return this.#partial(buf, pos, end);
    const room = this.#cursor, fits = pos - room >= headerLength(len);
    const at = fits ? room + headerLength(len) : pos;
    maskInto(buf, pos, stop, buf, at, this.#key, 0);
    this.#cursor = at + len;
    this.#state = HEAD1;
    this.#frameDone(buf, at, at + len, true, fits ? room : -1);
    return stop;
  }

  // A payload split across chunks is copied into its own buffer as it arrives, behind
  // room for our header; text is checked part by part so invalid UTF-8 fails before the
  // frame ends.
  #partial(buf: Uint8Array, pos: number, end: number): number {
    const len = this.#length, got = this.#got, room = headerLength(len);
    const take = Math.min(end - pos, len - got);
    let frame = this.#frame;
    if (frame === null || frame.length - room < got + take) frame = this.#grow(got + take);
    maskInto(buf, pos, pos + take, frame, room + got, this.#key, got);
    this.#got = got + take;
    const text = this.#opcode < OP_CLOSE && this.#msgOpcode === OP_TEXT && !this.#compressed;
    if (text && !this.#assembler().check(frame, room + got, room + got + take)) {
      return this.#fail("invalid-utf8");
    }
    if (got + take < len) return pos + take;
    this.#frame = null;
    this.#state = HEAD1;
    this.#frameDone(frame, room, room + len, false, 0);
    return pos + take;
  }

  // A streamed payload is unmasked in place and handed out as views of the chunk.
  #streamPayload(buf: Uint8Array, pos: number, end: number): number {
    const got = this.#got, stop = pos + Math.min(end - pos, this.#length - got);
    maskInto(buf, pos, stop, buf, pos, this.#key, got);
    this.#got = got + stop - pos;
    this.#cursor = stop; // later payloads of the chunk move to its front, not over these
    const frameEnd = this.#got === this.#length;
    if (frameEnd) this.#state = HEAD1;
    this.#streamPart(buf, pos, stop, frameEnd && this.#fin);
    return stop;
  }

  #streamPart(buf: Uint8Array, start: number, end: number, last: boolean): void {
    const stream = this.#stream!;
    if (last) this.#stream = null, this.#msgOpcode = 0;
    if (this.#unzip !== null) return this.#inflatePart(view(buf, start, end), last);
    if (!stream.push(buf, start, end, last)) this.#fail("invalid-utf8");
  }

  // A compressed stream's part (`deflate/stream_inflate.ts`): inflated now, or kept while
  // its reader is behind, and then the parser waits too, so that nothing after it in the
  // chunk (a close frame, the next message) overtakes it.
  #inflatePart(part: Uint8Array, last: boolean): void {
    const status = this.#unzip!.push(part, last);
    if (status !== "wait") return void this.#inflated(status);
    this.#resumeAt = this.#state;
    this.#state = WAIT;
  }

  // Returns whether the parser failed.
  #inflated(status: Exclude<InflateStatus, "wait">): boolean {
    if (status !== "ok") return this.#fail(status), true;
    if (this.#unzip!.done) this.#unzip = null;
    return false;
  }

  #grow(min: number): Uint8Array {
    const old = this.#frame, room = headerLength(this.#length);
    // A frame up to EAGER_CAPACITY gets its whole length at once (one allocation, no
    // copies); beyond that the buffer doubles, so a claimed length reserves no more than
    // about twice what has arrived.
    const wanted = Math.max(min, old === null ? EAGER_CAPACITY : (old.length - room) * 2);
    const next = (this.#opts.allocate ?? zeroed)(room + Math.min(this.#length, wanted));
    // The header room is seen (through the view's `buffer`) before a reply fills it.
    next.fill(0, 0, room);
    if (old !== null) next.set(old.subarray(room, room + this.#got), room);
    this.#frame = next;
    return next;
  }

  // `room` is where free bytes for our header start in `buf`, or -1 when there are none.
  #frameDone(buf: Uint8Array, start: number, end: number, whole: boolean, room: number): void {
    if (this.#opcode >= OP_CLOSE) this.#control(buf, start, end);
    else if (this.#stream !== null) this.#streamPart(buf, start, end, this.#fin);
    else if (this.#compressed) this.#compressedPart(view(buf, start, end));
    else if (this.#fin && this.#fragments === 1) this.#single(buf, start, end, whole, room);
    else this.#fragment(buf, start, end, whole);
  }

  // A message in one frame: the hot path, no assembly.
  #single(buf: Uint8Array, start: number, end: number, whole: boolean, room: number): void {
    this.#msgOpcode = 0;
    if (this.#opcode === OP_BINARY) {
      const data = view(buf, start, end);
      if (room < 0) return this.#sink.message(data, false);
      offerReply(data, buf, room, start);
      this.#sink.message(data, false);
      return withdrawReply();
    }
    let valid: boolean;
    if (whole) valid = isValidUtf8(buf, start, end, this.#opts.isUtf8);
    else {
      // Split across chunks: every part was already checked as it arrived.
      valid = this.#message!.textComplete();
      this.#message!.reset();
    }
    if (!valid) return void this.#fail("invalid-utf8");
    this.#deliverText(buf, start, end);
  }

  #fragment(buf: Uint8Array, start: number, end: number, whole: boolean): void {
    const m = this.#assembler(), text = this.#msgOpcode === OP_TEXT;
    if (text && whole && !m.check(buf, start, end)) return void this.#fail("invalid-utf8");
    m.append(view(buf, start, end));
    if (!this.#fin) return;
    this.#msgOpcode = 0;
    if (text && !m.textComplete()) return void this.#fail("invalid-utf8");
    const data = m.join();
    if (!text) return this.#sink.message(data, false);
    this.#deliverText(data, 0, data.length);
  }

  // Gathered whole, inflated within the limit, then checked (`deflate/inflater.ts`).
  #compressedPart(part: Uint8Array): void {
    if (!this.#fin) return this.#inflater!.append(part);
    const text = this.#msgOpcode === OP_TEXT;
    this.#msgOpcode = 0;
    this.#compressed = false;
    const data = this.#inflater!.finish(part, this.#msgLimit, text, this.#opts.isUtf8);
    if (typeof data === "string") return void this.#fail(data);
    if (text) this.#deliverText(data, 0, data.length);
    else this.#sink.message(data, false);
  }

  #deliverText(buf: Uint8Array, start: number, end: number): void {
    let text: string;
    try {
      text = (this.#opts.decodeUtf8 ?? pureDecode)(buf, start, end);
    } catch {
      // Longer than the engine's maximum string length.
      return void this.#fail("message-too-big");
    }
    this.#sink.message(text, true);
  }

  #control(buf: Uint8Array, start: number, end: number): void {
    if (this.#opcode === OP_PING) this.#sink.ping(view(buf, start, end));
    else if (this.#opcode === OP_PONG) this.#sink.pong(view(buf, start, end));
    else this.#close(buf, start, end);
  }

  #close(buf: Uint8Array, start: number, end: number): void {
    const opts = this.#opts;
    const read = readClose(buf, start, end, opts.isUtf8, opts.decodeUtf8 ?? pureDecode);
    if (typeof read === "string") return void this.#fail(read);
    this.stop();
    this.#sink.close(read.code, read.reason);
  }

  #assembler(): MessageAssembler {
    return this.#message ??= new MessageAssembler(this.#opts.isUtf8);
  }

  #fail(code: WsxErrorCode): number {
    this.stop();
    this.#sink.error(new WsxError(code));
    return STOP;
  }
}

/**
 * The frame half of the parser ([RFC 6455 section 5.2](https://www.rfc-editor.org/rfc/rfc6455#section-5.2)):
 * the header state machine, byte by byte across chunks, and where each payload's bytes go
 * (unmasked in place, into a buffer of its own when split, or out as a stream). What a
 * frame means (messages, text, control frames, inflation) is {@linkcode FrameParser}'s
 * (`parser.ts`), which extends {@linkcode FrameReader}. Pure: no runtime APIs.
 *
 * @module
 */

import { WsxError, type WsxErrorCode } from "../errors.ts";
import { headerLength } from "./encoder.ts";
import { maskFront, maskInto, maskMove, movesByWords, readMaskKey } from "./mask.ts";
import { type Inflater, rsvError } from "./deflate/inflater.ts";
import type { StreamInflater } from "./deflate/stream_inflate.ts";
import { type StreamedParts, streamFragmentCap } from "./stream.ts";
import { defaultFragmentCap, type FrameSink, type ParserOptions } from "./types.ts";
import { growFrame, roomOf } from "./frame_buffer.ts";

// Typed as numbers, not literals: #parse compares the state again after each step.
const HEAD1: number = 0, HEAD2: number = 1, EXT_LENGTH = 2, MASK_KEY: number = 3;
const PAYLOAD: number = 4, DONE = 5;
// A compressed stream's reader is behind: the rest of the chunk waits for `resume`.
const WAIT = 6;
// The opcodes of RFC 6455 section 5.2 (parser.ts names the ones it tells apart).
const OP_CONTINUATION = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PONG = 10;
// Typed arrays and Node buffers cannot grow past this, whatever maxMsgSize says.
const MAX_MESSAGE = 2 ** 31 - 1;
const STOP = Infinity;
const EMPTY = new Uint8Array(0);

/**
 * Reads frames: headers, limits and payload placement. Its subclass says what each frame
 * means through {@linkcode FrameReader.frameDone} and {@linkcode FrameReader.streamPart}.
 *
 * The fields the subclass reads on every frame are `protected`, not `#private`: a
 * `#private` field is invisible to a subclass, and an accessor per field would put a call
 * per read on the hot path.
 *
 * @example The only subclass
 * ```ts
 * import { FrameParser } from "./parser.ts";
 * import { FrameReader } from "./frame_reader.ts";
 * const sink = { message() {}, ping() {}, pong() {}, close() {}, error() {} };
 * console.log(new FrameParser(sink, { limits: { maxMsgSize: 1024 } }) instanceof FrameReader); // true
 * ```
 */
export abstract class FrameReader {
  protected readonly sink: FrameSink;
  protected readonly opts: ParserOptions;
  protected readonly inflater: Inflater | null; // permessage-deflate (RFC 7692), when negotiated
  protected fin = false;
  protected opcode = 0;
  protected msgOpcode = 0; // OP_TEXT or OP_BINARY while a message is open, else 0
  protected msgLimit = 0;
  protected fragments = 0;
  protected compressed = false; // the open message had RSV1 on its first frame
  protected stream: StreamedParts | null = null; // stream mode: the payload goes out as it arrives
  protected unzip: StreamInflater | null = null; // a compressed message in stream mode
  #state = HEAD1;
  #need = 0; // bytes still to read in EXT_LENGTH or MASK_KEY
  #length = 0;
  #key = 0;
  #got = 0; // payload bytes of a split frame received so far
  #frame: Uint8Array | null = null; // a split frame's header room, then its payload
  #cursor = 0; // where the consumed bytes of the current chunk start
  #msgSize = 0;
  #resumeAt = HEAD1; // in WAIT: the state to go on in
  // The chunk being parsed, its ArrayBuffer and offset: read once a chunk, since a typed
  // array's `buffer` is a call that costs about what the view itself does.
  #chunk: Uint8Array | null = null;
  #chunkBuffer: ArrayBufferLike | null = null;
  #chunkOffset = 0;
  #chunkWords: Int32Array | null = null; // the chunk's ArrayBuffer as words (mask.ts), made on first use

  /**
   * @param sink Where messages, control frames and errors go.
   * @param options Limits, UTF-8 helpers and the allocator; read live, never copied.
   * @param inflater Set when permessage-deflate was negotiated.
   */
  constructor(sink: FrameSink, options: ParserOptions, inflater: Inflater | null) {
    this.sink = sink;
    this.opts = options;
    this.inflater = inflater;
  }

  /** Whether the parser stopped: after a close frame, an error or {@linkcode FrameReader.stop}. */
  get stopped(): boolean {
    return this.#state === DONE;
  }

  /**
   * Whether the parser sits between messages with nothing buffered, so dropping it and
   * starting a new one later loses nothing.
   */
  get idle(): boolean {
    return this.#state === HEAD1 && this.msgOpcode === 0;
  }

  /** Whether the parser waits for a compressed stream's reader (see `FrameParser.resume`). */
  get waiting(): boolean {
    return this.#state === WAIT;
  }

  /**
   * Parses the next bytes. The chunk is rewritten: payloads are unmasked and moved towards
   * its front (see `reply.ts`), and messages may be views of it, so the caller must not
   * reuse the chunk's memory.
   *
   * @param chunk The bytes received.
   */
  push(chunk: Uint8Array): void {
    this.#chunk = chunk;
    this.#chunkBuffer = chunk.buffer;
    this.#chunkOffset = chunk.byteOffset;
    this.#parse(chunk);
    // Not kept: a parser waiting for the rest of a frame must not hold the chunk.
    this.#chunk = this.#chunkBuffer = this.#chunkWords = null;
  }

  // A plain `Uint8Array` over `buf[start..end)` (the chunk or a split frame's buffer). Not
  // `subarray`: on a Node.js Buffer (every chunk read) that makes another Buffer, through a
  // subclass's constructor that costs over twice a `Uint8Array`'s, once per message.
  protected view(buf: Uint8Array, start: number, end: number): Uint8Array {
    if (buf === this.#chunk) {
      return new Uint8Array(this.#chunkBuffer!, this.#chunkOffset + start, end - start);
    }
    return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
  }

  #parse(chunk: Uint8Array): void {
    const end = chunk.length;
    let pos = 0;
    this.#cursor = 0;
    while (pos < end) {
      // A frame whose header and payload lie in the chunk goes through its states in one
      // round: each case falls through to the next when that is the state it left.
      switch (this.#state) {
        case HEAD1:
          // Most frames: whole small messages, one frame each, read in one go.
          pos = this.#small(chunk, pos, end);
          if (pos >= end || this.#state !== HEAD1) break;
          pos = this.#head1(chunk, pos);
          if (pos >= end || this.#state !== HEAD2) break;
        // falls through
        case HEAD2:
          pos = this.#head2(chunk, pos);
          if (pos >= end || this.#state !== MASK_KEY) break;
        // falls through
        case MASK_KEY:
          pos = this.#maskKey(chunk, pos, end);
          if (pos >= end || this.#state !== PAYLOAD) break;
        // falls through
        case PAYLOAD:
          pos = this.#payload(chunk, pos, end);
          break;
        case EXT_LENGTH:
          pos = this.#extLength(chunk, pos, end);
          break;
        case WAIT:
          return this.unzip?.keep(chunk.subarray(pos));
        default:
          return;
      }
    }
  }

  /** Stops parsing for good and drops any buffered payload. */
  stop(): void {
    this.#state = DONE;
    this.#frame = null;
    this.inflater?.reset();
    this.stream = null;
    this.unzip?.close();
    this.unzip = null;
  }

  // What a whole frame means; `w`: it lay whole in the chunk; `room`: where free bytes for
  // our header start in `b`, or -1.
  protected abstract frameDone(b: Uint8Array, s: number, e: number, w: boolean, room: number): void;
  // A message in one small frame (`#small`), unmasked to `b[s..e)`; `t`: text; `r`: room.
  protected abstract smallMessage(b: Uint8Array, s: number, e: number, t: boolean, r: number): void;
  // Offers the message starting (`len` bytes in this frame) to the sink as a stream.
  protected abstract offer(len: number): void;
  // A part of a streamed message's payload, unmasked; `last` ends the message.
  protected abstract streamPart(buf: Uint8Array, start: number, end: number, last: boolean): void;
  // Checks a part of a split text frame as it arrives; false when it is not UTF-8.
  protected abstract checkText(buf: Uint8Array, start: number, end: number): boolean;

  /** Waits (the rest of the chunk goes to the compressed stream) until {@linkcode FrameReader.proceed}. */
  protected wait(): void {
    this.#resumeAt = this.#state;
    this.#state = WAIT;
  }

  /** Ends a wait: parsing goes on in the state it stopped in. */
  protected proceed(): void {
    this.#state = this.#resumeAt;
  }

  /** Stops, reports the error, and returns a position past any chunk. */
  protected fail(code: WsxErrorCode): number {
    this.stop();
    this.sink.error(new WsxError(code));
    return STOP;
  }

  // Whole data frames of 1-125 bytes, each a message (FIN, no RSV) within the limit, for a
  // sink that takes no streams: the states' work without their field writes (the next
  // header sets those again). Returns where the states take over, for any other frame.
  #small(buf: Uint8Array, pos: number, end: number): number {
    if (this.sink.start !== undefined || this.msgOpcode !== 0) return pos;
    while (pos + 6 < end && this.#state === HEAD1) {
      const b0 = buf[pos], len = buf[pos + 1] - 0x80, start = pos + 6, stop = start + len;
      if ((b0 !== 0x82 && b0 !== 0x81) || len < 1 || len > 125 || stop > end) break;
      if (!(len <= this.opts.limits.maxMsgSize)) break; // read as each message starts
      const key = readMaskKey(buf, pos + 2), room = this.#cursor, at = room + 2;
      maskFront(buf, this.#words(), this.#chunkOffset, start, stop, at, key);
      this.#cursor = at + len;
      this.smallMessage(buf, at, at + len, b0 === 0x81, room);
      pos = stop;
    }
    return pos;
  }

  // Byte 0: FIN, RSV1-3, opcode (RFC 6455 section 5.2). Every check that byte allows
  // is made here, so a bad frame fails before its length or payload arrives.
  #head1(buf: Uint8Array, pos: number): number {
    const b = buf[pos];
    if ((b & 0x70) !== 0) {
      const refused = rsvError(b, this.inflater !== null);
      if (refused !== null) return this.fail(refused);
    }
    const op = b & 0x0f, fin = b >= 0x80;
    if (op >= OP_CLOSE) {
      if (op > OP_PONG) return this.fail("frame-opcode");
      if (!fin) return this.fail("control-fragmented");
    } else if (op === OP_CONTINUATION) {
      if (this.msgOpcode === 0) return this.fail("unexpected-continuation");
      const cap = this.stream !== null
        ? streamFragmentCap(this.#msgSize)
        : this.opts.maxFragments ?? defaultFragmentCap(this.msgLimit);
      if (++this.fragments > cap) return this.fail("too-many-fragments");
    } else if (op <= OP_BINARY) {
      if (this.msgOpcode !== 0) return this.fail("expected-continuation");
      this.compressed = (b & 0x40) !== 0;
      this.msgOpcode = op;
      this.#msgSize = 0;
      this.fragments = 1;
      this.msgLimit = Math.min(this.opts.limits.maxMsgSize, MAX_MESSAGE);
    } else return this.fail("frame-opcode");
    this.fin = fin;
    this.opcode = op;
    this.#state = HEAD2;
    return pos + 1;
  }

  // Byte 1: MASK and the 7-bit length (RFC 6455 sections 5.1 and 5.5).
  #head2(buf: Uint8Array, pos: number): number {
    const b = buf[pos];
    if (b < 0x80) return this.fail("frame-unmasked");
    const len = b & 0x7f;
    if (this.opcode >= OP_CLOSE && len > 125) return this.fail("control-too-long");
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
      if (need === 8 && b >= 0x80) return this.fail("frame-length");
      len = len * 256 + b;
    }
    this.#need = need;
    this.#length = len;
    return need > 0 ? i : this.#lengthKnown(len, i);
  }

  // The limit is checked here, before any payload byte is buffered.
  #lengthKnown(len: number, pos: number): number {
    if (this.opcode < OP_CLOSE) {
      // A sink without `start` takes no streams: most, so nothing is offered to it.
      if (this.sink.start !== undefined && this.opcode !== OP_CONTINUATION) this.offer(len);
      const total = this.#msgSize + len;
      if (!(total <= this.msgLimit)) {
        return this.fail(this.stream !== null ? "stream-too-big" : "message-too-big");
      }
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
    if (this.#length === 0) this.frameDone(EMPTY, 0, 0, true, -1);
    return i;
  }

  // The whole payload is in this chunk: it is unmasked towards the front, right after
  // the previous payload, with room for our own header in front (`reply.ts`), and handed
  // out as a view: no copy. There is always room but after a header split across chunks.
  #payload(buf: Uint8Array, pos: number, end: number): number {
    if (this.stream !== null && this.opcode < OP_CLOSE) return this.#streamPayload(buf, pos, end);
    const len = this.#length, stop = pos + len;
    // A frame with a buffer of its own (split, or made by directRoom) fills it.
    if (this.#got > 0 || stop > end || this.#frame !== null) return this.#partial(buf, pos, end);
    const room = this.#cursor, fits = pos - room >= headerLength(len);
    const at = fits ? room + headerLength(len) : pos;
    if (movesByWords(len, pos - at)) maskMove(buf, this.#words(), pos, stop, at, this.#key);
    else maskInto(buf, pos, stop, buf, at, this.#key, 0);
    this.#cursor = at + len;
    this.#state = HEAD1;
    this.frameDone(buf, at, at + len, true, fits ? room : -1);
    return stop;
  }

  // `buf` of #payload is the chunk being parsed.
  #words(): Int32Array {
    const words = this.#chunkWords;
    if (words !== null) return words;
    const buffer = this.#chunkBuffer!;
    return this.#chunkWords = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }

  // A part of a payload split across chunks goes to its own buffer, behind our header's room.
  #partial(buf: Uint8Array, pos: number, end: number): number {
    const len = this.#length, got = this.#got, take = Math.min(end - pos, len - got);
    const frame = this.#frame = growFrame(this.#frame, len, got, got + take, this.opts.allocate);
    maskInto(buf, pos, pos + take, frame, headerLength(len) + got, this.#key, got);
    return this.#placed(frame, take) ? pos + take : STOP;
  }

  // `take` more bytes of a split payload lie unmasked in its buffer. Text is checked part
  // by part, so invalid UTF-8 fails before the frame ends. False when the parser failed.
  #placed(frame: Uint8Array, take: number): boolean {
    const len = this.#length, got = this.#got, room = headerLength(len);
    this.#got = got + take;
    const text = this.opcode < OP_CLOSE && this.msgOpcode === OP_TEXT && !this.compressed;
    if (text && !this.checkText(frame, room + got, room + got + take)) {
      return this.fail("invalid-utf8"), false;
    }
    if (got + take < len) return true;
    this.#frame = null;
    this.#state = HEAD1;
    this.frameDone(frame, room, room + len, false, 0);
    return true;
  }

  /**
   * Where the socket may read the next bytes of a split payload (`socket_reads.ts`) when
   * at least `min` of them are still to come: the free part of the frame's own buffer
   * (made now when it has none). Bytes read there are pushed as a view of it, and are
   * unmasked where they lie. Null otherwise.
   *
   * @param min The fewest payload bytes still to come worth a read of their own.
   * @returns The free part of the frame's buffer, at most the bytes still to come.
   */
  directRoom(min: number): Uint8Array | null {
    const len = this.#length, got = this.#got;
    if (this.#state !== PAYLOAD || len - got < min || this.stream !== null) return null;
    const frame = this.#frame = growFrame(this.#frame, len, got, got + 1, this.opts.allocate);
    return roomOf(frame, len, got);
  }

  // A streamed payload is unmasked in place and handed out as views of the chunk.
  #streamPayload(buf: Uint8Array, pos: number, end: number): number {
    const got = this.#got, stop = pos + Math.min(end - pos, this.#length - got);
    maskInto(buf, pos, stop, buf, pos, this.#key, got);
    this.#got = got + stop - pos;
    this.#cursor = stop; // later payloads of the chunk move to its front, not over these
    const frameEnd = this.#got === this.#length;
    if (frameEnd) this.#state = HEAD1;
    this.streamPart(buf, pos, stop, frameEnd && this.fin);
    return stop;
  }
}

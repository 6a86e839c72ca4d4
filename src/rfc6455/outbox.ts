/**
 * Coalesced output for one connection: frames are encoded straight into a shared
 * {@linkcode OutputSlab} and leave in one write per incoming chunk (while held) or per
 * tick (otherwise). One write carrying 64 small frames costs about what one frame alone
 * would, which is where most of the engine's speed comes from. Pure.
 *
 * @module
 */

import { MAX_CONTROL_FRAME, writeCloseFrame, writeControlFrame } from "./control.ts";
import {
  COPY_LIMIT,
  headerLength,
  OPCODE,
  pureUtf8Write,
  textFrameCapacity,
  writeHeader,
  writeTextFrame,
} from "./encoder.ts";
import { takeReply } from "./reply.ts";
import type { SlabFrame } from "./slab.ts";
import type { ChunkWriter, OutboxOptions } from "./chunk_writer.ts";

export type { ChunkWriter, OutboxOptions } from "./chunk_writer.ts";

const textEncoder = new TextEncoder();
const pureEncode = (text: string): Uint8Array => textEncoder.encode(text);

// Outboxes with bytes written outside a held chunk, flushed together in one microtask.
let queue: Outbox[] = [];
let scheduled = false;
function flushQueued(): void {
  const due = queue;
  queue = [];
  scheduled = false;
  for (const outbox of due) outbox.flush();
}

// Parked bytes above this go out at once rather than waiting for the flush.
const PARK_LIMIT = 1 << 20;

/**
 * The pending output of one connection: a contiguous region of the shared slab, or of a
 * received chunk for in-place replies (`reply.ts`).
 *
 * @example Two frames, one write
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * import { OutputSlab } from "./slab.ts";
 * const writes: Uint8Array[] = [];
 * const writer = { destroyed: false, cork() {}, uncork() {}, write: (c: Uint8Array) => (writes.push(c), true) };
 * const outbox = new Outbox(writer, { slab: new OutputSlab() });
 * outbox.hold();
 * outbox.text("a");
 * outbox.text("b");
 * outbox.release();
 * console.log(writes.length, writes[0]); // 1 Uint8Array [129, 1, 97, 129, 1, 98]
 * ```
 */
export class Outbox {
  #writer: ChunkWriter;
  #opts: OutboxOptions;
  #out: Uint8Array | null = null; // the slab our pending bytes live in
  #start = 0;
  #end = 0;
  #held = false;
  #deferred = false;
  #queued = false;
  #blocked = false;
  #latestPong: Uint8Array | null = null;
  // Regions set aside when another connection wrote to the slab in between (a broadcast
  // loop): they leave together at the flush, in one corked write, not one syscall each.
  #parked: Uint8Array[] | null = null;
  #parkedBytes = 0;

  /**
   * Creates an empty outbox.
   *
   * @param writer Where flushed bytes go.
   * @param options The shared slab and encoders.
   */
  constructor(writer: ChunkWriter, options: OutboxOptions) {
    this.#writer = writer;
    this.#opts = options;
  }

  /** Bytes encoded and not yet handed to the writer. */
  get pending(): number {
    return this.#end - this.#start + this.#parkedBytes;
  }

  /** Whether the last write was refused (backpressure) and no drain came since. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /**
   * Records that the writer drained: sends the frames that waited meanwhile, then the
   * answer to the latest ping held meanwhile.
   */
  drained(): void {
    this.#blocked = false;
    const pong = this.#latestPong;
    this.#latestPong = null;
    if (pong !== null) this.control(OPCODE.pong, pong);
    if (this.pending > 0 && !this.#held) this.flush();
  }

  /**
   * Drops the frames not handed to the writer yet (those waiting for a drain, whole and
   * not started), so that a close frame added next follows the frame in progress.
   */
  dropWaiting(): void {
    this.discard();
  }

  /** Holds writes until {@linkcode Outbox.release}: call around one incoming chunk. */
  hold(): void {
    this.#held = true;
  }

  /**
   * Keeps holding after the chunk, until {@linkcode Outbox.release} at the end of the
   * event loop's turn (`turn.ts`).
   *
   * @returns `true` the first time since the last release: the caller queues the release.
   */
  defer(): boolean {
    if (this.#deferred) return false;
    this.#deferred = this.#held = true;
    return true;
  }

  /**
   * Writes now what waits only for the end of the turn, not a backlog the writer refused:
   * a cap on buffered bytes must not count replies that are about to leave anyway.
   *
   * @returns Whether anything was handed to the writer.
   */
  writeHeld(): boolean {
    if (this.#blocked || this.pending === 0) return false;
    this.flush();
    return true;
  }

  /** Stops holding (and deferring) and flushes. */
  release(): void {
    this.#held = this.#deferred = false;
    this.flush();
  }

  /**
   * Adds a text frame.
   *
   * @param text The message text.
   */
  text(text: string): void {
    if (text.length * 3 > COPY_LIMIT) {
      return this.bytes(OPCODE.text, (this.#opts.encodeUtf8 ?? pureEncode)(text));
    }
    const at = this.#reserve(textFrameCapacity(text));
    this.#commit(writeTextFrame(this.#out!, at, text, this.#opts.utf8Write ?? pureUtf8Write));
  }

  /**
   * Adds a data frame. The payload the message handler was just given (`reply.ts`) gets
   * its header written in front of it and leaves from where it lies; any other large
   * payload is written by reference; small ones are copied.
   *
   * @param opcode `OPCODE.text` or `OPCODE.binary`.
   * @param bytes The payload.
   */
  bytes(opcode: number, bytes: Uint8Array): void {
    const n = bytes.byteLength, reply = takeReply(bytes);
    if (reply !== null && reply.start - reply.room === headerLength(n)) {
      const base = reply.base, room = reply.room;
      writeHeader(base, room, opcode, n);
      return this.#extend(base, room, reply.start + n);
    }
    this.#copy(opcode, bytes, n);
  }

  // Any other payload: apart, so that the in-place reply above stays small enough to inline.
  #copy(opcode: number, bytes: Uint8Array, n: number): void {
    if (n > COPY_LIMIT) {
      const at = this.#reserve(10);
      this.#commit(writeHeader(this.#out!, at, opcode, n));
      return this.#writeParts([bytes]);
    }
    const at = this.#reserve(n + 10);
    const out = this.#out!, body = writeHeader(out, at, opcode, n);
    out.set(bytes, body);
    this.#commit(body + n);
  }

  /**
   * Adds bytes that are not a frame: the handshake's response, as UTF-8 (what a socket
   * writes for a string).
   *
   * @param text The bytes, as a string.
   */
  raw(text: string): void {
    const at = this.#reserve(text.length * 3);
    this.#commit(at + (this.#opts.utf8Write ?? pureUtf8Write)(text, this.#out!, at));
  }

  /**
   * Adds a ping or pong frame.
   *
   * @param opcode `OPCODE.ping` or `OPCODE.pong`.
   * @param payload At most 125 bytes.
   */
  control(opcode: number, payload: Uint8Array): void {
    const at = this.#reserve(MAX_CONTROL_FRAME);
    this.#commit(writeControlFrame(this.#out!, at, opcode, payload));
  }

  /**
   * Answers a ping. While the writer refuses more (a peer that sends pings but reads
   * nothing), only the latest answer is kept and sent on drain: RFC 6455 section 5.5.3
   * lets an endpoint answer only the most recent ping, and this way a ping flood cannot
   * grow our memory.
   *
   * @param payload The ping's payload, at most 125 bytes.
   */
  pong(payload: Uint8Array): void {
    if (!this.#blocked) return this.control(OPCODE.pong, payload);
    this.#latestPong = payload.slice();
  }

  /**
   * Adds a close frame.
   *
   * @param code The close code; one not allowed on the wire sends no payload.
   * @param reason The reason, cut to 123 bytes.
   */
  close(code: number, reason: string): void {
    const at = this.#reserve(MAX_CONTROL_FRAME);
    this.#commit(writeCloseFrame(this.#out!, at, code, reason));
  }

  /**
   * Adds a frame encoded elsewhere (once, for many connections).
   *
   * @param parts The frame as one part (copied) or more (written by reference).
   */
  frame(parts: readonly Uint8Array[]): void {
    const first = parts[0];
    if (parts.length > 1 || first.byteLength > COPY_LIMIT) return this.#writeParts(parts);
    const at = this.#reserve(first.byteLength);
    this.#out!.set(first, at);
    this.#commit(at + first.byteLength);
  }

  /**
   * Adds a frame already in the shared slab (`encodeShared` in `shared_frame.ts`), by
   * reference: when it starts where this connection's pending bytes end, the region just
   * grows, so a burst of broadcasts leaves as one contiguous write with no copy per
   * receiver.
   *
   * @param frame The frame's place in the slab.
   */
  shared(frame: SlabFrame): void {
    this.#extend(frame.buffer, frame.start, frame.end);
  }

  /**
   * Hands the pending bytes to the writer, unless it asked to slow down (then: at drain).
   *
   * @param last The connection ends after this: everything goes to the writer now.
   */
  flush(last = false): void {
    this.#queued = false;
    // While the writer refuses more, frames wait here, whole and not started: memory a
    // slow peer holds stays in frames wsx can drop (a close over maxBufferedBytes does).
    if (this.#blocked && !last) return;
    this.#blocked = false;
    if (this.#parked !== null) return this.#writeParked();
    if (this.#end > this.#start) this.#writeOut();
  }

  /** Drops the pending bytes: the connection is gone. */
  discard(): void {
    this.#latestPong = null;
    this.#out = null;
    this.#start = this.#end = 0;
    this.#parked = null;
    this.#parkedBytes = 0;
  }

  // Returns where to write `n` bytes so they extend our pending region. When another
  // connection wrote at the slab's tail since, or the slab is full, what we hold is parked
  // (the slab never reuses bytes, so the view stays valid) and a new region starts.
  #reserve(n: number): number {
    const slab = this.#opts.slab;
    if (
      this.#out !== slab.buffer || this.#end !== slab.tail || slab.buffer.length - slab.tail < n
    ) {
      if (this.#end > this.#start) this.#park();
      slab.reserve(n);
      this.#out = slab.buffer;
      this.#start = this.#end = slab.tail;
    }
    return this.#end;
  }

  // Adds `buffer[start..end)`, bytes nobody writes again, to the pending output: when they
  // follow the pending region, the region just grows.
  #extend(buffer: Uint8Array, start: number, end: number): void {
    if (this.#out !== buffer || this.#end !== start) {
      if (this.#end > this.#start) this.#park();
      this.#out = buffer;
      this.#start = start;
    }
    this.#end = end;
    this.#schedule();
  }

  #commit(end: number): void {
    this.#end = end;
    this.#opts.slab.commit(end);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#held || this.#queued) return;
    this.#queued = true;
    queue.push(this);
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(flushQueued);
  }

  #writeOut(): void {
    const chunk = this.#out!.subarray(this.#start, this.#end);
    // Nothing is pending now: holding on to the buffer would only keep a slab or a
    // received chunk alive.
    this.#out = null;
    this.#start = this.#end = 0;
    if (this.#writer.destroyed) return;
    if (!this.#writer.write(chunk)) this.#refuse();
  }

  // The writer refused more: wait for its drain.
  #refuse(): void {
    this.#blocked = true;
    this.#opts.refused?.(this.#writer);
  }

  #park(): void {
    const chunk = this.#out!.subarray(this.#start, this.#end);
    this.#start = this.#end;
    (this.#parked ??= []).push(chunk);
    this.#parkedBytes += chunk.byteLength;
    if (this.#parkedBytes >= PARK_LIMIT && !this.#blocked) this.#writeParked();
  }

  #writeParked(): void {
    const parked = this.#parked;
    this.#parked = null;
    this.#parkedBytes = 0;
    const writer = this.#writer;
    if (writer.destroyed) return;
    writer.cork();
    for (const part of parked ?? []) if (!writer.write(part)) this.#refuse();
    if (this.#end > this.#start) this.#writeOut();
    writer.uncork();
  }

  #writeParts(parts: readonly Uint8Array[]): void {
    const writer = this.#writer;
    if (writer.destroyed) return;
    if (this.#blocked) {
      // Waiting for a drain: the parts wait too, by reference, after what is pending.
      if (this.#end > this.#start) this.#park();
      for (const part of parts) {
        (this.#parked ??= []).push(part);
        this.#parkedBytes += part.byteLength;
      }
      return this.#schedule();
    }
    writer.cork();
    if (this.#parked !== null) this.#writeParked();
    if (this.#end > this.#start) this.#writeOut();
    for (const part of parts) if (!writer.write(part)) this.#refuse();
    writer.uncork();
  }
}

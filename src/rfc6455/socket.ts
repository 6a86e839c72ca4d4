/**
 * The Node.js WebSocket engine: a {@linkcode Transport} over a socket that has already
 * answered the upgrade with a 101. The only file of the engine that imports `node:`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { Capabilities, Transport, TransportEvents, WriteResult } from "../core/transport.ts";
import { WsxError, type WsxErrorCode } from "../errors.ts";
import { CLOSE } from "../core/protocol/close_codes.ts";
import { OPCODE } from "./encoder.ts";
import { Outbox } from "./outbox.ts";
import type { SlabFrame } from "./slab.ts";
import { type DeflateSession, encodeBroadcast, packedFrame, RSV1 } from "./deflate/session.ts";
import { FrameParser } from "./parser.ts";
import { TurnQueue } from "./turn.ts";
import {
  type Config,
  configFor,
  NODE_CAPABILITIES,
  type NodeWebSocketOptions,
  outboxOptions,
} from "./socket_config.ts";
import type { FrameSink } from "./types.ts";

export type { NodeWebSocketOptions } from "./socket_config.ts";

const OPEN = 0, CLOSING = 1, CLOSED = 2;
// After a protocol error the socket is ended so the peer can read our close frame; a
// peer that never closes its side is destroyed after this long.
const ERROR_GRACE_MS = 1000;

const EMPTY = new Uint8Array(0);

// The engine rides on its socket so one set of listener functions serves every
// connection: no closures per connection.
const kEngine: unique symbol = Symbol("wsx.rfc6455.engine");
type OwnedSocket = Duplex & { [kEngine]?: NodeWebSocket; setNoDelay?(noDelay?: boolean): unknown };

// The engine whose incoming chunk is being parsed: an outbox it creates meanwhile is
// held, so what the handlers send leaves in one write when the chunk is done.
let receiving: NodeWebSocket | null = null;

/**
 * One server-side WebSocket connection over a Node.js socket.
 *
 * Writes are coalesced: every frame produced while one incoming chunk is processed, or
 * within one tick, goes out in a single `socket.write`.
 *
 * @example Echo on a socket whose upgrade was answered (see `handshake.ts` for the 101)
 * ```ts
 * import type { Duplex } from "node:stream";
 * import { NodeWebSocket } from "./socket.ts";
 * declare const socket: Duplex, head: Uint8Array;
 * const ws: NodeWebSocket = new NodeWebSocket(socket, head, {
 *   open() {}, heard() {}, pong() {}, drain() {}, closed() {},
 *   message: (data, isText) => ws.send(data, isText),
 * }, { limits: { maxMsgSize: 1 << 20 } });
 * ws.start();
 * ```
 */
export class NodeWebSocket implements Transport {
  #socket: OwnedSocket;
  #events: TransportEvents;
  #config: Config;
  // Both created on first use and dropped when idle again (after a chunk, with nothing
  // pending): an idle connection holds no parser or output state at all.
  #outbox: Outbox | null = null;
  #parser: FrameParser | null = null;
  #head: Uint8Array | null;
  #state = OPEN;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #deflate: DeflateSession | null;
  #paused = false; // reading held for a stream's reader (`pause`)

  /**
   * Wraps an upgraded socket; nothing is read until {@linkcode NodeWebSocket.start}.
   *
   * @param socket The upgraded socket; the 101 response is already written to it.
   * @param head Bytes read past the HTTP head (the `head` of Node's `upgrade` event).
   * @param events Where the connection reports; `open` is the adapter's to call.
   * @param options Limits and timeouts.
   * @param deflate permessage-deflate, when the handshake agreed it. @default {null}
   */
  constructor(
    socket: Duplex,
    head: Uint8Array,
    events: TransportEvents,
    options: NodeWebSocketOptions,
    deflate: DeflateSession | null = null,
  ) {
    this.#deflate = deflate;
    this.#socket = socket;
    this.#events = events;
    this.#config = configFor(options);
    this.#head = head.byteLength > 0 ? head : null;
  }

  /** What this engine does natively: everything but runtime keepalive. */
  get capabilities(): Capabilities {
    return NODE_CAPABILITIES;
  }

  /** Bytes accepted by {@linkcode NodeWebSocket.send} and not yet flushed to the kernel. */
  get bufferedAmount(): number {
    return this.#socket.writableLength + (this.#outbox?.pending ?? 0);
  }

  /** The socket. */
  get raw(): Duplex {
    return this.#socket;
  }

  /**
   * Sends the opening handshake's response ahead of everything else: it leaves at the end
   * of the turn (`turn.ts`), in one write with what `onOpen` and the first replies send.
   * Call once, before {@linkcode NodeWebSocket.start}.
   *
   * @param response The complete `101 Switching Protocols` response.
   */
  greet(response: string): void {
    const outbox = this.#out();
    outbox.hold();
    outbox.raw(response);
    if (outbox.defer()) NodeWebSocket.#turn.add(this);
  }

  /** Starts reading: parses `head` first, then the socket. Call once, after `events.open()`. */
  start(): void {
    const socket = this.#socket;
    if (socket[kEngine] !== undefined) return;
    socket[kEngine] = this;
    socket.setNoDelay?.(true);
    // 'close' follows every error (sockets destroy themselves on error), so an 'error'
    // listener is needed only to keep an error from being thrown: the adapter's, when
    // it has one. One listener per event keeps node's listener arrays from growing.
    if (socket.listenerCount("error") === 0) socket.on("error", NodeWebSocket.#onGone);
    socket.on("close", NodeWebSocket.#onGone);
    if (socket.destroyed) return this.#report(CLOSE.abnormal, "");
    // A peer that half-closes (FIN without a close frame, or after ours) is done: with
    // allowHalfOpen off, the stream ends our side too and 'close' follows, which
    // reports 1006 (https://nodejs.org/api/stream.html#duplexallowhalfopen).
    socket.allowHalfOpen = false;
    socket.on("drain", NodeWebSocket.#onDrain);
    const head = this.#head;
    this.#head = null;
    if (head !== null) this.#receive(head);
    if (this.#state === CLOSED) return;
    socket.on("data", NodeWebSocket.#onData);
    // Unless `head` already held reading for a stream's reader.
    if (socket.isPaused() && !this.#paused) socket.resume();
  }

  /**
   * Sends one message. Never throws.
   *
   * @param data A string (encoded as UTF-8) or bytes.
   * @param isText Whether to send a text frame rather than a binary one.
   * @param compress `false` sends it uncompressed even with permessage-deflate. @default {true}
   * @returns `"closed"` once closing, `"queued"` under backpressure, `"dropped"` when the
   * message could not be encoded, else `"sent"`.
   */
  send(data: string | Uint8Array, isText: boolean, compress = true): WriteResult {
    if (this.#state !== OPEN) return "closed";
    const outbox = this.#out();
    try {
      const packed = compress && this.#deflate !== null ? this.#deflate.pack(data) : null;
      if (packed !== null) outbox.bytes((isText ? OPCODE.text : OPCODE.binary) | RSV1, packed);
      else if (typeof data !== "string") outbox.bytes(isText ? OPCODE.text : OPCODE.binary, data);
      else if (isText) outbox.text(data);
      else outbox.bytes(OPCODE.binary, Buffer.from(data, "utf8"));
    } catch {
      // Only an allocation can fail here (a string too large to encode), and it fails
      // before anything is committed, so the stream stays consistent.
      return "dropped";
    }
    return outbox.blocked ? "queued" : "sent";
  }

  /**
   * Sends a frame encoded once for many sockets (`encodeFrame` or `encodeText` in
   * `encoder.ts`): small frames are copied into this connection's coalesced write,
   * large parts are written by reference.
   *
   * @param parts The frame, as returned by `encodeFrame` or `encodeText`.
   * @returns Like {@linkcode NodeWebSocket.send}.
   */
  sendFrame(parts: readonly Uint8Array[]): WriteResult {
    if (this.#state !== OPEN) return "closed";
    const outbox = this.#out();
    outbox.frame(parts);
    return outbox.blocked ? "queued" : "sent";
  }

  /**
   * Encodes a message once for many connections (broadcast and publish).
   *
   * @param data The message.
   * @param isText A text frame when true.
   * @returns The frame, for {@linkcode NodeWebSocket.sendEncoded} on any connection.
   */
  encode(data: string | Uint8Array, isText: boolean): SlabFrame | Uint8Array[] {
    return encodeBroadcast(outboxOptions, data, isText);
  }

  /**
   * Sends a frame from {@linkcode NodeWebSocket.encode}.
   *
   * @param encoded The frame.
   * @returns Like {@linkcode NodeWebSocket.send}.
   */
  sendEncoded(encoded: unknown): WriteResult {
    if (this.#state !== OPEN) return "closed";
    const deflate = this.#deflate;
    if (deflate) encoded = packedFrame(outboxOptions, encoded as object, deflate) ?? encoded;
    if (Array.isArray(encoded)) return this.sendFrame(encoded);
    const outbox = this.#out();
    outbox.shared(encoded as SlabFrame);
    return outbox.blocked ? "queued" : "sent";
  }

  /**
   * Starts the closing handshake; `events.closed` follows when the peer answers, or with
   * 1006 after `closeTimeoutMs`.
   *
   * @param code A close code valid on the wire; any other sends an empty close frame.
   * @param reason At most 123 bytes of UTF-8; longer is cut.
   * @param dropQueued Drop the frames still waiting for the socket to drain (a backlog
   * over the cap): the close frame then follows the frame in progress.
   */
  close(code: number, reason: string, dropQueued = false): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    const outbox = this.#out();
    if (dropQueued) outbox.dropWaiting();
    outbox.close(code, reason);
    this.#arm(this.#config.closeTimeoutMs);
  }

  /** Destroys the socket now; `events.closed(1006, "")` unless already reported. */
  terminate(): void {
    this.#socket.destroy();
    this.#report(CLOSE.abnormal, "");
  }

  /** Sends an empty ping. */
  ping(): void {
    if (this.#state === OPEN) this.#out().control(OPCODE.ping, EMPTY);
  }

  /** Stops reading the socket: a streamed message's reader is behind (`core/inbound.ts`). */
  pause(): void {
    if (this.#state === CLOSED) return;
    this.#paused = true;
    this.#socket.pause();
  }

  /** Reads the socket again after {@linkcode NodeWebSocket.pause} (also once closed: to its end). */
  resume(): void {
    this.#paused = false;
    // A compressed stream's parser waits with inflation left to do: that goes first,
    // and may hold reading again.
    if (this.#parser?.waiting && receiving !== this) this.#receive(null);
    if (!this.#paused) this.#socket.resume();
  }

  #out(): Outbox {
    let outbox = this.#outbox;
    if (outbox === null) {
      outbox = this.#outbox = new Outbox(this.#socket, outboxOptions);
      if (receiving === this) outbox.hold();
    }
    return outbox;
  }

  // Parses one chunk (or, with null, goes on after a wait); what the handlers send
  // meanwhile leaves in one write.
  #receive(chunk: Uint8Array | null): void {
    if (this.#state === CLOSED) return;
    if (chunk !== null) this.#events.heard();
    const started = NodeWebSocket.#turn.due();
    const outer = receiving;
    receiving = this;
    this.#outbox?.hold();
    try {
      const parser = this.#parser ??= new FrameParser(
        new NodeWebSocket.#Sink(this),
        this.#config.parser,
        this.#deflate?.inflater,
      );
      if (chunk !== null) parser.push(chunk);
      else parser.resume();
      if (parser.idle && this.#parser === parser) this.#parser = null;
    } catch {
      // A handler threw through the parser; its state is unknown, so give up.
      this.#fail(new WsxError("handler-error"));
    } finally {
      receiving = outer;
      const outbox = this.#outbox;
      // The replies leave after every read of this turn (`turn.ts`), in one write.
      if (outbox !== null) {
        if (outbox.pending === 0) this.#endTurn();
        else if (outbox.defer()) NodeWebSocket.#turn.add(this, started);
      }
    }
  }

  // A reply waits at most about a millisecond for the rest of its turn.
  static #turn = new TurnQueue<NodeWebSocket>((ws) => ws.#endTurn(), {
    schedule: setImmediate,
    now: () => performance.now(),
    budgetMs: 1,
  });

  #endTurn(): void {
    const outbox = this.#outbox;
    if (outbox === null || receiving === this) return;
    outbox.release();
    // Nothing is pending after a release; a blocked outbox waits for 'drain'.
    if (!outbox.blocked && this.#outbox === outbox) this.#outbox = null;
  }

  static #Sink = class Sink implements FrameSink {
    #ws: NodeWebSocket;
    constructor(ws: NodeWebSocket) {
      this.#ws = ws;
    }
    message(data: string | Uint8Array, isText: boolean): void {
      this.#ws.#events.message(data, isText);
    }
    ping(payload: Uint8Array): void {
      // RFC 6455 section 5.5.2: answer with a pong carrying the same payload.
      if (this.#ws.#state === OPEN) this.#ws.#out().pong(payload);
    }
    pong(): void {
      this.#ws.#events.pong();
    }
    close(code: number, reason: string): void {
      this.#ws.#peerClosed(code, reason);
    }
    error(err: WsxError): void {
      this.#ws.#fail(err);
    }
    start(isText: boolean, length: number, fin: boolean, compressed: boolean) {
      return this.#ws.#events.messageStart?.(isText, length, fin, compressed);
    }
    held(): boolean {
      return this.#ws.#paused;
    }
  };

  // RFC 6455 section 5.5.1: echo the peer's close (its code, or nothing when it sent
  // none), then close the TCP connection first, as a server should (section 7.1.1).
  #peerClosed(code: number, reason: string): void {
    if (this.#state === OPEN) this.#out().close(code, "");
    this.#finish(code, reason, this.#config.closeTimeoutMs);
  }

  #fail(err: WsxError): void {
    if (this.#state === CLOSED) return;
    if (this.#state === OPEN) this.#out().close(err.closeCode, err.message);
    this.#finish(err.closeCode, err.message, ERROR_GRACE_MS, err.code);
    // Nothing the peer sends now matters: stop reading, so that a peer streaming a
    // refused message is held back by TCP rather than read and dropped (which costs
    // memory on Deno's node:net until the socket is gone). Also when this failure came
    // from going on after a wait (`resume`), which must not undo it.
    this.#paused = true;
    this.#socket.pause();
  }

  // Ends the socket after our close frame, so the peer reads it, and reports at once.
  #finish(code: number, reason: string, graceMs: number, error?: WsxErrorCode): void {
    this.#state = CLOSED;
    this.#stopParser();
    this.#outbox?.flush(true);
    this.#outbox = null;
    this.#socket.end();
    this.#arm(graceMs);
    this.#events.closed(code, reason, error);
  }

  #report(code: number, reason: string): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#stopParser();
    this.#outbox?.discard();
    this.#outbox = null;
    this.#events.closed(code, reason);
  }

  #stopParser(): void {
    this.#parser?.stop();
    this.#parser = null;
  }

  #arm(ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(NodeWebSocket.#onTimer, ms, this);
    this.#timer.unref();
  }

  static #onTimer(ws: NodeWebSocket): void {
    ws.#timer = null;
    ws.#socket.destroy();
    const err = new WsxError("close-timeout");
    ws.#report(err.closeCode, err.message);
  }

  // Socket listeners, shared by every connection; `this` is the socket.
  static #onData(this: OwnedSocket, chunk: Uint8Array): void {
    const ws = this[kEngine];
    if (ws !== undefined) ws.#receive(chunk);
  }

  static #onDrain(this: OwnedSocket): void {
    const ws = this[kEngine];
    if (ws === undefined) return;
    const outbox = ws.#outbox;
    if (outbox !== null) {
      outbox.drained();
      // What waited for this drain filled the socket again: the next drain reports.
      if (outbox.blocked) return;
      if (outbox.pending === 0 && receiving !== ws) ws.#outbox = null;
    }
    if (ws.#state !== CLOSED) ws.#events.drain();
  }

  static #onGone(this: OwnedSocket): void {
    const ws = this[kEngine];
    if (ws !== undefined) ws.#report(CLOSE.abnormal, "");
  }
}

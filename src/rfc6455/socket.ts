/**
 * The Node.js WebSocket engine: a {@linkcode Transport} over a socket that has already
 * answered the upgrade with a 101. This file is its public API and the send side;
 * reading, the per-turn output and the connection's end are `socket_link.ts`'s. The
 * two are the only files of the engine that import `node:`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import type { Capabilities, Transport, TransportEvents, WriteResult } from "../core/transport.ts";
import { CLOSE } from "../core/protocol/close_codes.ts";
import { OPCODE } from "./encoder.ts";
import type { SlabFrame } from "./slab.ts";
import { type DeflateSession, encodeBroadcast, packedFrame, RSV1 } from "./deflate/session.ts";
import {
  configFor,
  NODE_CAPABILITIES,
  type NodeWebSocketOptions,
  outboxOptions,
} from "./socket_config.ts";
import { CLOSED, CLOSING, OPEN, SocketLink } from "./socket_link.ts";

export type { NodeWebSocketOptions } from "./socket_config.ts";

const EMPTY = new Uint8Array(0);

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
export class NodeWebSocket extends SocketLink implements Transport {
  #head: Uint8Array | null;

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
    super(socket, events, configFor(options), deflate);
    this.#head = head.byteLength > 0 ? head : null;
  }

  /** What this engine does natively: everything but runtime keepalive. */
  get capabilities(): Capabilities {
    return NODE_CAPABILITIES;
  }

  /** Writes what waits for the end of the turn now; whether there was any. */
  writeHeld(): boolean {
    return this.outbox?.writeHeld() ?? false;
  }

  /** Bytes accepted by {@linkcode NodeWebSocket.send} and not yet flushed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength + (this.outbox?.pending ?? 0);
  }

  /** The socket. */
  get raw(): Duplex {
    return this.socket;
  }

  /**
   * Sends the opening handshake's response ahead of everything else: it is held until
   * {@linkcode NodeWebSocket.start} returns and leaves in one write with what `onOpen`
   * and the replies to `head` send. Call once, before `start`.
   *
   * @param response The complete `101 Switching Protocols` response.
   */
  greet(response: string): void {
    this.hello(response);
  }

  /**
   * Starts reading: parses `head` first, then the socket; then sends what was held since
   * {@linkcode NodeWebSocket.greet}. Call once, after `events.open()`.
   */
  start(): void {
    const head = this.#head;
    this.#head = null;
    this.listen(head);
    // At once rather than at the end of the turn: a server busy with handshakes reads
    // about one per turn, and the end-of-turn run would cost a setImmediate each.
    this.release();
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
    if (this.state !== OPEN) return "closed";
    // Bytes sent as they are (most sends) take the short way: small enough for the JIT to
    // inline it into the handler's write, with the rest of the path.
    if (typeof data === "string" || (compress && this.deflate !== null)) {
      return this.#encoded(data, isText, compress);
    }
    const outbox = this.out();
    try {
      outbox.bytes(isText ? OPCODE.text : OPCODE.binary, data);
    } catch {
      return "dropped"; // see #encoded
    }
    return outbox.blocked ? "queued" : "sent";
  }

  // A string, or bytes to compress.
  #encoded(data: string | Uint8Array, isText: boolean, compress: boolean): WriteResult {
    const outbox = this.out();
    try {
      const packed = compress && this.deflate !== null ? this.deflate.pack(data) : null;
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
    if (this.state !== OPEN) return "closed";
    const outbox = this.out();
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
    if (this.state !== OPEN) return "closed";
    const deflate = this.deflate;
    if (deflate) encoded = packedFrame(outboxOptions, encoded as object, deflate) ?? encoded;
    if (Array.isArray(encoded)) return this.sendFrame(encoded);
    const outbox = this.out();
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
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    const outbox = this.out();
    if (dropQueued) outbox.dropWaiting();
    outbox.close(code, reason);
    this.arm(this.config.closeTimeoutMs);
  }

  /** Destroys the socket now; `events.closed(1006, "")` unless already reported. */
  terminate(): void {
    this.socket.destroy();
    this.report(CLOSE.abnormal, "");
  }

  /** Sends an empty ping. */
  ping(): void {
    if (this.state === OPEN) this.out().control(OPCODE.ping, EMPTY);
  }

  /** Stops reading the socket: a streamed message's reader is behind (`core/inbound.ts`). */
  pause(): void {
    if (this.state === CLOSED) return;
    this.paused = true;
    this.socket.pause();
  }

  /** Reads the socket again after {@linkcode NodeWebSocket.pause} (also once closed: to its end). */
  resume(): void {
    this.paused = false;
    // A compressed stream's parser waits with inflation left to do: that goes first,
    // and may hold reading again.
    this.unwait();
    if (!this.paused) this.socket.resume();
  }
}

/**
 * One connection of `Bun.listen` seen through the narrow part of a Node.js `Duplex` that
 * wsx's engine (`src/rfc6455/`) and the upgrade path (`node_upgrade.ts`,
 * `node_http.ts`, `node_head_timeout.ts`) use: `write` with `cork`/`uncork`, `end`,
 * `destroy`, `pause`/`resume`, and `data`, `drain`, `end`, `finish`, `close` and `error`
 * listeners. A connection then holds Bun's native socket and this one object instead of
 * a `node:net` `Socket` with its two stream states (see bench/README.md, "Bun engine over
 * `Bun.listen`").
 *
 * Bun's `write` takes what the kernel takes and returns the byte count: the rest is
 * kept here (a view, never a copy: the engine never writes into bytes it handed over)
 * and written on Bun's `drain`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { kEngine } from "../rfc6455/socket_link.ts";
import type { BunSocket } from "./bun_listen_api.ts";
import { SocketEvents } from "./bun_listen_events.ts";

const ENCODER = new TextEncoder();
const ENDING = 1, ENDED = 2, DESTROYED = 4, CLOSED = 8, PAUSED = 16, HALF_OPEN = 32;
// Bun's socket itself stopped reading: only once a chunk arrives while PAUSED. Pausing
// and resuming Bun's socket are an epoll_ctl each, and an upgrade pauses its socket
// only from its head until the engine reads, in the same turn as a rule.
const BUN_PAUSED = 64;
// A write answered false: `drain` is due once everything queued is written.
const NEED_DRAIN = 128;
// A TLS connection (`encrypted`).
const ENCRYPTED = 256;
// The connection waits for its request head (the listener's head timeouts read it).
const AWAITING_HEAD = 512;
// The peer's FIN came while paused: `end` waits until what came before it is read.
const PEER_ENDED = 1024;
// A TLS connection whose handshake ended: it can carry an answer.
const HANDSHAKEN = 2048;
// Node.js's default writableHighWaterMark from Node.js 22 on: corked writes up to this many
// bytes answer true; more asks the engine to wait for `drain`, as a Node.js socket would.
// Also the largest gather copied into one write; larger ones go out part by part.
const HIGH_WATER = 65536;

// What a connection needs only while Bun takes less than it writes, while writes are
// corked, or while chunks wait for a paused reader: made on first use, so that an idle
// connection holds none of it.
class Buffers {
  // Bytes Bun did not take yet, in order (the first may be the rest of a partial write).
  queue: Uint8Array[] | null = null;
  queued = 0;
  // Writes gathered between cork and uncork.
  corked: Uint8Array[] | null = null;
  corkedSize = 0;
  corks = 0;
  // Chunks read while paused or before anyone listens to `data`.
  inbox: Uint8Array[] | null = null;
}

/**
 * A `Bun.listen` socket as the engine's `Duplex`.
 *
 * @example
 * ```ts ignore
 * import { ListenSocket } from "./bun_listen_socket.ts";
 * Bun.listen({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   socket: {
 *     open: (socket) => void (socket.data = new ListenSocket(socket, false)),
 *     data: (socket, chunk) => socket.data!.received(chunk),
 *     drain: (socket) => socket.data!.drained(),
 *     close: (socket) => socket.data!.closed(),
 *   },
 * });
 * ```
 */
export class ListenSocket extends SocketEvents {
  /** The engine that reads this socket: declared, so that every connection has it in line. */
  [kEngine]: unknown = undefined;
  readonly #socket: BunSocket<ListenSocket>;
  #flags = 0;
  #io: Buffers | null = null;

  /**
   * @param socket Bun's socket.
   * @param encrypted Whether it is a TLS socket.
   */
  constructor(socket: BunSocket<ListenSocket>, encrypted: boolean) {
    super();
    this.#socket = socket;
    if (encrypted) this.#flags = ENCRYPTED;
  }

  /** Whether the connection is TLS (`tls.TLSSocket#encrypted`). */
  get encrypted(): boolean {
    return (this.#flags & ENCRYPTED) !== 0;
  }

  /** Whether it is a TLS connection still in its handshake (no answer can reach its peer). */
  get handshaking(): boolean {
    return (this.#flags & (ENCRYPTED | HANDSHAKEN)) === ENCRYPTED;
  }
  /** Bun's `handshake`: the TLS handshake ended. */
  handshook(): void {
    this.#flags |= HANDSHAKEN;
  }

  /** Whether the connection still waits for its request head (set by the listener). */
  get awaitingHead(): boolean {
    return (this.#flags & AWAITING_HEAD) !== 0;
  }
  set awaitingHead(on: boolean) {
    this.#flags = on ? this.#flags | AWAITING_HEAD : this.#flags & ~AWAITING_HEAD;
  }

  /** Whether it was destroyed. */
  get destroyed(): boolean {
    return (this.#flags & DESTROYED) !== 0;
  }

  /** Whether it can still be written. */
  get writable(): boolean {
    return (this.#flags & (ENDING | DESTROYED)) === 0;
  }

  /** Bytes written and not taken by the kernel yet. */
  get writableLength(): number {
    const io = this.#io;
    return io === null ? 0 : io.queued + io.corkedSize;
  }

  /** Whether the socket stays open after the peer's FIN. Off: the FIN ends our side too. */
  get allowHalfOpen(): boolean {
    return (this.#flags & HALF_OPEN) !== 0;
  }
  set allowHalfOpen(on: boolean) {
    this.#flags = on ? this.#flags | HALF_OPEN : this.#flags & ~HALF_OPEN;
  }

  /**
   * `TCP_NODELAY`: already set on every socket `Bun.listen` accepts (seen with `strace`
   * on Bun 1.4.5), so turning it on again would only cost a system call.
   */
  setNoDelay(noDelay = true): this {
    if (!noDelay) this.#socket.setNoDelay(false);
    return this;
  }

  /** Writes one chunk; `false` when it waits for `drain`. */
  write(chunk: Uint8Array | string): boolean {
    if ((this.#flags & (ENDING | DESTROYED)) !== 0) return false;
    const io = this.#io;
    if (typeof chunk === "string") {
      // Bun writes a string itself (the 101, most of all): no encoded copy.
      if (io === null || (io.queue === null && io.corked === null)) return this.#sendText(chunk);
      chunk = ENCODER.encode(chunk);
    }
    if (io !== null && io.corked !== null) {
      io.corked.push(chunk);
      io.corkedSize += chunk.length;
      if (io.queued + io.corkedSize < HIGH_WATER) return true;
      this.#flags |= NEED_DRAIN;
      return false;
    }
    return this.#send(chunk);
  }

  #sendText(text: string): boolean {
    const sent = this.#socket.write(text);
    // -1: closed; Bun's close handler follows.
    if (sent < 0) return false;
    // Bun counts UTF-8 bytes: as many as characters for the ASCII a 101 is made of.
    if (sent === text.length && sent === Buffer.byteLength(text)) return true;
    return this.#keep(ENCODER.encode(text), sent);
  }

  #send(bytes: Uint8Array): boolean {
    const io = this.#io;
    if (io !== null && io.queue !== null) {
      io.queue.push(bytes);
      io.queued += bytes.length;
      this.#flags |= NEED_DRAIN;
      return false;
    }
    const sent = this.#socket.write(bytes);
    if (sent >= bytes.length) return true;
    // -1: closed; Bun's close handler follows.
    if (sent < 0) return false;
    return this.#keep(bytes, sent);
  }

  // Keeps what Bun did not take of `bytes` for its `drain`.
  #keep(bytes: Uint8Array, sent: number): boolean {
    const io = this.#io ??= new Buffers();
    io.queue = [bytes.subarray(sent)];
    io.queued = bytes.length - sent;
    this.#flags |= NEED_DRAIN;
    return false;
  }

  /** Gathers writes until {@linkcode ListenSocket.uncork}. */
  cork(): void {
    const io = this.#io ??= new Buffers();
    io.corks++;
    io.corked ??= [];
  }

  /** Writes what was gathered, in one write. */
  uncork(): void {
    const io = this.#io;
    if (io === null || io.corks === 0 || --io.corks > 0) return;
    const parts = io.corked!, size = io.corkedSize;
    io.corked = null;
    io.corkedSize = 0;
    if (parts.length === 0 || (this.#flags & DESTROYED) !== 0) return;
    if (parts.length === 1 || size > HIGH_WATER) {
      for (const part of parts) this.#send(part);
    } else {
      const joined = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        joined.set(part, at);
        at += part.length;
      }
      this.#send(joined);
    }
    // A write answered false but Bun took everything: `drain` follows at once, as on
    // Node.js (asynchronously).
    if (io.queue === null && (this.#flags & NEED_DRAIN) !== 0) {
      queueMicrotask(() => this.#drainIfDue());
    }
  }

  #drainIfDue(): void {
    if (this.#io?.queue || (this.#flags & (NEED_DRAIN | DESTROYED)) !== NEED_DRAIN) return;
    this.#flags &= ~NEED_DRAIN;
    this.emit("drain");
  }

  /** Writes `chunk` if given, then half-closes once everything is written; `finish` follows. */
  end(chunk?: Uint8Array | string): this {
    if ((this.#flags & (ENDING | DESTROYED)) !== 0) return this;
    if (chunk !== undefined) this.write(chunk);
    // Corked writes go out first.
    const io = this.#io;
    if (io !== null && io.corks > 0) {
      io.corks = 1;
      this.uncork();
    }
    this.#flags |= ENDING;
    if (!this.#io?.queue) this.#finish();
    return this;
  }

  #finish(): void {
    this.#flags |= ENDED;
    // The engine's: a half-close, reading on till the peer closes (Bun's end() closes once
    // written, and a peer still sending, refused with 1009, say, gets a reset that can
    // drop the close frame). The HTTP/1.1 server's: closed once written (half-closed, a
    // peer that does not read, a slowloris cut with 408, would wait out its 10 s linger).
    if (this[kEngine] !== undefined) this.#socket.shutdown();
    else this.#socket.end();
    queueMicrotask(() => this.emit("finish"));
  }

  /** Ends, then destroys once written. */
  destroySoon(): void {
    this.end();
    if ((this.#flags & ENDED) !== 0) this.destroy();
    else this.once("finish", this.destroy);
  }

  /** Closes at once; `close` follows (asynchronously, as on Node.js). */
  destroy(): this {
    if ((this.#flags & DESTROYED) !== 0) return this;
    this.#flags |= DESTROYED;
    this.#io = null;
    this.#socket.terminate();
    queueMicrotask(() => this.closed());
    return this;
  }

  /** Stops reading. */
  pause(): this {
    this.#flags |= PAUSED;
    return this;
  }

  /** Reads again: chunks held meanwhile first. */
  resume(): this {
    if ((this.#flags & BUN_PAUSED) !== 0 && (this.#flags & DESTROYED) === 0) {
      this.#socket.resume();
    }
    this.#flags &= ~(PAUSED | BUN_PAUSED);
    const io = this.#io;
    const inbox = io === null ? null : io.inbox;
    if (inbox === null) return this.#endIfDue();
    io!.inbox = null;
    // Flowing again: held chunks go to `data` (dropped with no listener, as on Node.js).
    if (this.dataListeners !== undefined) {
      for (let i = 0; i < inbox.length; i++) {
        if ((this.#flags & PAUSED) !== 0) {
          if (this.#io !== null) this.#io.inbox = inbox.slice(i);
          return this;
        }
        this.emit("data", inbox[i]);
      }
    }
    return this.#endIfDue();
  }

  // A FIN heard while paused: `end` after the resume (asynchronously, as on Node.js).
  #endIfDue(): this {
    if ((this.#flags & PEER_ENDED) !== 0) {
      queueMicrotask(() => {
        if ((this.#flags & (PEER_ENDED | PAUSED | DESTROYED)) === PEER_ENDED) this.ended();
      });
    }
    return this;
  }

  /** Whether reading is paused. */
  isPaused(): boolean {
    return (this.#flags & PAUSED) !== 0;
  }

  // Bun's handlers, one per event of the listener.

  /** Bun read a chunk. */
  received(chunk: Uint8Array): void {
    if ((this.#flags & PAUSED) === 0) {
      // Flowing: with no `data` listener the chunk is dropped, as by a Node.js stream.
      const data = this.dataListeners;
      if (typeof data === "function") data.call(this as never, chunk);
      else if (data !== undefined) this.emit("data", chunk);
      return;
    }
    if ((this.#flags & DESTROYED) !== 0) return;
    const io = this.#io ??= new Buffers();
    (io.inbox ??= []).push(chunk);
    if ((this.#flags & BUN_PAUSED) === 0) {
      this.#flags |= BUN_PAUSED;
      this.#socket.pause();
    }
  }

  /** Bun's socket can take more: the queue goes out, then `drain`. */
  drained(): void {
    const io = this.#io;
    const queue = io === null ? null : io.queue;
    if (queue === null) return;
    io!.queue = null;
    io!.queued = 0;
    for (let i = 0; i < queue.length; i++) {
      if (!this.#send(queue[i])) {
        for (let j = i + 1; j < queue.length; j++) this.#send(queue[j]);
        return;
      }
    }
    if ((this.#flags & ENDING) !== 0) return this.#finish();
    this.#drainIfDue();
  }

  /** The peer half-closed (FIN): `end` once all before it is read (a paused upgrade answers first). */
  ended(): void {
    if ((this.#flags & (PAUSED | DESTROYED)) === PAUSED) {
      this.#flags |= PEER_ENDED;
      return;
    }
    this.#flags &= ~PEER_ENDED;
    this.emit("end");
    if ((this.#flags & HALF_OPEN) === 0) this.end();
  }

  /** The connection is gone: `close`, once. */
  closed(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#flags |= CLOSED | DESTROYED;
    this.#io = null;
    this.emit("close", false);
  }

  /** Bun reported an error: `error`, then `close`. */
  failed(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.destroy();
  }
}

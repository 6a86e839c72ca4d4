/**
 * The inside of a `NodeWebSocket` (`socket.ts`): reading the socket through the parser,
 * the output held and released per turn (`turn.ts`), and how the connection ends (the
 * peer's close, a failure, the close timer, the socket going away). `socket.ts` keeps
 * the public API on top of it.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { MessageParts, TransportEvents } from "../core/transport.ts";
import { ERRORS, WsxError, type WsxErrorCode } from "../errors.ts";
import { CLOSE } from "../core/protocol/close_codes.ts";
import { systemClock } from "../core/clock.ts";
import { Wheel } from "../core/wheel.ts";
import { type ChunkWriter, Outbox, type OutboxOptions } from "./outbox.ts";
import type { DeflateSession } from "./deflate/session.ts";
import { FrameParser } from "./parser.ts";
import { TurnQueue } from "./turn.ts";
import { type Config, noReadAhead, outboxOptions } from "./socket_config.ts";
import { readDirectly } from "./socket_reads.ts";
import type { FrameSink } from "./types.ts";

/** The connection's states, in order. */
export const OPEN = 0, CLOSING = 1, CLOSED = 2;
// After a protocol error the socket is ended so the peer can read our close frame; a
// peer that never closes its side is destroyed after this long.
const ERROR_GRACE_MS = 1000;
// How often close timeouts are swept: a socket is destroyed at most this long after its
// close timeout (plus the sweep's own slices).
const CLOSE_SWEEP_MS = 500;

/**
 * The key the engine rides on its socket under, so that one set of listener functions
 * serves every connection (no closures per connection). A socket class of wsx's own
 * declares it as a field (`bun_listen_socket.ts`): a property added later would take
 * storage out of line in every connection.
 *
 * @example
 * ```ts
 * import { kEngine } from "./socket_link.ts";
 * class OwnSocket {
 *   [kEngine]: unknown = undefined;
 * }
 * ```
 */
export const kEngine: unique symbol = Symbol("wsx.rfc6455.engine");
type OwnedSocket = Duplex & { [kEngine]?: SocketLink; setNoDelay?(noDelay?: boolean): unknown };

// The engine whose incoming chunk is being parsed: an outbox it creates meanwhile is
// held, so what the handlers send leaves in one write when the chunk is done.
let receiving: SocketLink | null = null;

/**
 * One connection's socket, parser and output, and its end. `NodeWebSocket` extends it.
 *
 * The fields `NodeWebSocket` reads on every send are `protected`, not `#private`: a
 * `#private` field is invisible to a subclass, and an accessor per field would put a
 * call per message on the hot path.
 *
 * @example The only subclass
 * ```ts
 * import type { Duplex } from "node:stream";
 * import { NodeWebSocket } from "./socket.ts";
 * import { SocketLink } from "./socket_link.ts";
 * declare const socket: Duplex;
 * const events = { open() {}, heard() {}, pong() {}, drain() {}, closed() {}, message() {} };
 * const ws = new NodeWebSocket(socket, new Uint8Array(0), events, { limits: { maxMsgSize: 1024 } });
 * console.log(ws instanceof SocketLink); // true
 * ```
 */
export abstract class SocketLink {
  protected readonly socket: OwnedSocket;
  protected readonly events: TransportEvents;
  protected readonly config: Config;
  // Both created on first use and dropped when idle again (after a chunk, with nothing
  // pending): an idle connection holds no parser or output state at all.
  protected outbox: Outbox | null = null;
  #parser: FrameParser | null = null;
  protected state: number = OPEN;
  // The beat of the close timeout in #closing, or -1: no timer of its own.
  #closeBeat = -1;
  protected readonly deflate: DeflateSession | null;
  protected paused = false; // reading held for a stream's reader (`pause`)
  // The 101 response, until it leaves: first in the outbox when one is made before the
  // engine starts, else alone, as the string it is (most connections send nothing in
  // onOpen: no outbox, no slab region and no Buffer view for the greeting).
  #greeting: string | null = null;
  // 0 while the socket may still be read into buffers of ours (`socket_reads.ts`).
  #reads = 0;

  /**
   * @param socket The upgraded socket.
   * @param events Where the connection reports.
   * @param config The resolved options.
   * @param deflate permessage-deflate, when the handshake agreed it.
   */
  constructor(
    socket: Duplex,
    events: TransportEvents,
    config: Config,
    deflate: DeflateSession | null,
  ) {
    this.deflate = deflate;
    this.socket = socket;
    this.events = events;
    this.config = config;
  }

  /** The outbox, created on first use (held while this connection's chunk is parsed). */
  protected out(): Outbox {
    return this.outbox ?? this.#newOutbox(); // small: inlined into every send
  }

  #newOutbox(): Outbox {
    const outbox = this.outbox = new Outbox(this.socket, SocketLink.#outboxOptions);
    if (receiving === this) outbox.hold();
    const greeting = this.#greeting;
    // Held until the engine starts, so that it leaves in one write with the rest.
    if (greeting !== null) this.#greeting = null, outbox.hold(), outbox.raw(greeting);
    return outbox;
  }

  /**
   * Holds the opening handshake's response until {@linkcode SocketLink.release}: what is
   * sent meanwhile follows it in the same write.
   *
   * @param response The complete `101 Switching Protocols` response.
   */
  protected hello(response: string): void {
    const outbox = this.outbox;
    if (outbox === null) return void (this.#greeting = response);
    outbox.hold();
    outbox.raw(response);
  }

  /** Sends what the outbox holds now, unless a chunk of this connection is being read. */
  protected release(): void {
    const greeting = this.#greeting;
    if (greeting !== null) {
      // Nothing was sent since the greeting: it leaves alone (unless the socket is gone).
      this.#greeting = null;
      if (this.state !== CLOSED && !this.socket.destroyed) this.socket.write(greeting);
      return;
    }
    this.#endTurn();
  }

  /**
   * Listens to the socket and reads `head`, then the socket.
   *
   * @param head Bytes read past the HTTP head, or null.
   */
  protected listen(head: Uint8Array | null): void {
    const socket = this.socket;
    if (socket[kEngine] !== undefined) return;
    socket[kEngine] = this;
    socket.setNoDelay?.(true);
    // 'close' follows every error (sockets destroy themselves on error), so an 'error'
    // listener is needed only to keep an error from being thrown: the adapter's, when
    // it has one. One listener per event keeps node's listener arrays from growing.
    if (socket.listenerCount("error") === 0) socket.on("error", SocketLink.#onGone);
    socket.on("close", SocketLink.#onGone);
    if (socket.destroyed) return this.report(CLOSE.abnormal, "");
    // A peer that half-closes (FIN without a close frame, or after ours) is done: with
    // allowHalfOpen off, the stream ends our side too and 'close' follows, which
    // reports 1006 (https://nodejs.org/api/stream.html#duplexallowhalfopen).
    socket.allowHalfOpen = false;
    noReadAhead(socket);
    if (head !== null) this.#receive(head);
    if (this.state === CLOSED) return;
    socket.on("data", SocketLink.#onData);
    // Unless `head` already held reading for a stream's reader.
    if (socket.isPaused() && !this.paused) socket.resume();
  }

  /** Goes on with inflation a compressed stream's parser left waiting for its reader. */
  protected unwait(): void {
    if (this.#parser?.waiting && receiving !== this) this.#receive(null);
  }

  // Parses one chunk (or, with null, goes on after a wait); what the handlers send
  // meanwhile leaves in one write.
  #receive(chunk: Uint8Array | null): void {
    if (this.state === CLOSED) return;
    if (chunk !== null) this.events.heard();
    const started = SocketLink.#turn.due();
    const outer = receiving;
    receiving = this;
    this.outbox?.hold();
    try {
      const parser = this.#parser ??= new FrameParser(
        new SocketLink.#Sink(this),
        this.config.parser,
        this.deflate?.inflater,
      );
      if (chunk !== null) parser.push(chunk);
      else parser.resume();
      if (this.#reads === 0 && chunk !== null) {
        this.#reads = readDirectly(this.socket, parser, () => this.#parser);
      }
      if (parser.idle && this.#parser === parser) this.#parser = null;
    } catch {
      // A handler threw through the parser; its state is unknown, so give up.
      this.#fail(new WsxError("handler-error"));
    } finally {
      receiving = outer;
      const outbox = this.outbox;
      // The replies leave after every read of this turn (`turn.ts`), in one write; a
      // lone connection's at once (see #solo).
      if (outbox !== null) {
        const turn = SocketLink.#turn;
        if (outbox.pending === 0) this.#endTurn();
        else if (turn.lone && SocketLink.#solo === this && receiving === null) this.#endTurn();
        else {
          SocketLink.#solo = turn.size === 0 ? this : null;
          if (outbox.defer()) turn.add(this, started);
        }
      }
    }
  }

  // The connection whose replies were the first of their turn, while no other
  // connection's followed: once such a turn has run alone (`lone`), its next replies
  // leave in the callback that read the request, with no end-of-turn run scheduled at
  // all. Another connection's replies wait for the end of their turn and take its place.
  static #solo: SocketLink | null = null;

  // A reply waits at most about a millisecond for the rest of its turn.
  static #turn = new TurnQueue<SocketLink>((ws) => ws.#endTurn(), {
    schedule: setImmediate,
    now: () => performance.now(),
    budgetMs: 1,
  });

  #endTurn(): void {
    const outbox = this.outbox;
    if (outbox === null || receiving === this) return;
    outbox.release();
    // Nothing is pending after a release; a blocked outbox waits for 'drain'.
    if (!outbox.blocked && this.outbox === outbox) this.outbox = null;
  }

  static #Sink = class Sink implements FrameSink {
    #ws: SocketLink;
    // Absent unless the application takes streams: the parser then offers no message.
    start: FrameSink["start"];
    constructor(ws: SocketLink) {
      this.#ws = ws;
      this.start = ws.events.streams === false ? undefined : Sink.#start;
    }
    static #start(
      this: Sink,
      isText: boolean,
      length: number,
      fin: boolean,
      compressed: boolean,
    ): MessageParts | undefined {
      return this.#ws.events.messageStart?.(isText, length, fin, compressed);
    }
    message(data: string | Uint8Array, isText: boolean): void {
      this.#ws.events.message(data, isText);
    }
    ping(payload: Uint8Array): void {
      // RFC 6455 section 5.5.2: answer with a pong carrying the same payload.
      if (this.#ws.state === OPEN) this.#ws.out().pong(payload);
    }
    pong(): void {
      this.#ws.events.pong();
    }
    close(code: number, reason: string): void {
      this.#ws.#peerClosed(code, reason);
    }
    error(err: WsxError): void {
      this.#ws.#fail(err);
    }
    held(): boolean {
      return this.#ws.paused;
    }
  };

  // RFC 6455 section 5.5.1: echo the peer's close (its code, or nothing when it sent
  // none), then close the TCP connection first, as a server should (section 7.1.1).
  #peerClosed(code: number, reason: string): void {
    if (this.state === OPEN) this.out().close(code, "");
    this.#finish(code, reason, this.config.closeTimeoutMs);
  }

  #fail(err: WsxError): void {
    if (this.state === CLOSED) return;
    if (this.state === OPEN) this.out().close(err.closeCode, err.message);
    this.#finish(err.closeCode, err.message, ERROR_GRACE_MS, err.code);
    // Nothing the peer sends now matters: stop reading, so that a peer streaming a
    // refused message is held back by TCP rather than read and dropped (which costs
    // memory on Deno's node:net until the socket is gone). Also when this failure came
    // from going on after a wait (`resume`), which must not undo it.
    this.paused = true;
    this.socket.pause();
  }

  // Ends the socket after our close frame, so the peer reads it, and reports at once.
  #finish(code: number, reason: string, graceMs: number, error?: WsxErrorCode): void {
    this.state = CLOSED;
    this.#stopParser();
    this.outbox?.flush(true);
    this.outbox = null;
    this.socket.end();
    this.arm(graceMs);
    this.events.closed(code, reason, error);
  }

  /**
   * Reports the end once (clearing the timer): `events.closed(code, reason)`.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  protected report(code: number, reason: string): void {
    if (this.#closeBeat !== -1) SocketLink.#closing.unschedule(this, this.#closeBeat);
    this.#closeBeat = -1;
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.#stopParser();
    this.outbox?.discard();
    this.outbox = null;
    this.#greeting = null;
    this.events.closed(code, reason);
  }

  #stopParser(): void {
    this.#parser?.stop();
    this.#parser = null;
    if (SocketLink.#solo === this) SocketLink.#solo = null;
  }

  /**
   * Destroys the socket after `ms` (within half a second after) unless
   * {@linkcode SocketLink.report} comes first.
   *
   * @param ms The delay.
   */
  protected arm(ms: number): void {
    const closing = SocketLink.#closing;
    if (this.#closeBeat !== -1) closing.unschedule(this, this.#closeBeat);
    this.#closeBeat = closing.scheduleAt(this, closing.now() + ms);
  }

  // Close timeouts of every connection: one shared timer whose sweeps are sliced, so thousands of closes timing out together never stall the loop.
  static #closing = new Wheel<SocketLink>(systemClock, (ws) => ws.#closeTimedOut(), {
    intervalMs: CLOSE_SWEEP_MS,
  });

  #closeTimedOut(): void {
    this.#closeBeat = -1;
    this.socket.destroy();
    // The table entry, not a WsxError: no stack trace for thousands of cuts in one sweep.
    const entry = ERRORS["close-timeout"];
    this.report(entry.closeCode, entry.message);
  }

  // Socket listeners, shared by every connection; `this` is the socket.
  static #onData(this: OwnedSocket, chunk: Uint8Array): void {
    const ws = this[kEngine];
    if (ws !== undefined) ws.#receive(chunk);
  }

  // 'drain' is listened for once a write was refused (`refused` of the outbox options):
  // most connections never fill their socket, and each listener is a key in the
  // socket's event table for the life of the connection.
  static #outboxOptions: OutboxOptions = {
    ...outboxOptions,
    refused(writer: ChunkWriter): void {
      // Once per socket however often it refuses: removed first (a no-op the first
      // time), as any emitter allows (Bun.listen's sockets have no `listeners()`).
      const socket = writer as OwnedSocket;
      socket.removeListener("drain", SocketLink.#onDrain);
      socket.on("drain", SocketLink.#onDrain);
    },
  };

  static #onDrain(this: OwnedSocket): void {
    const ws = this[kEngine];
    if (ws === undefined) return;
    const outbox = ws.outbox;
    if (outbox !== null) {
      outbox.drained();
      // What waited for this drain filled the socket again: the next drain reports.
      if (outbox.blocked) return;
      if (outbox.pending === 0 && receiving !== ws) ws.outbox = null;
    }
    if (ws.state !== CLOSED) ws.events.drain();
  }

  static #onGone(this: OwnedSocket): void {
    const ws = this[kEngine];
    if (ws !== undefined) ws.report(CLOSE.abnormal, "");
  }
}

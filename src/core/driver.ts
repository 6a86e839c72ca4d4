/**
 * The life of one connection, shared by every adapter: ordering of callbacks, the size
 * limit, the ping timer driven by the shared heartbeat, backpressure and closing.
 * Adapters report to it through {@linkcode TransportEvents}; users see only the handle.
 *
 * @module
 */

import type { Transport, TransportEvents, WriteResult } from "./transport.ts";
import { WsxError, type WsxErrorCode } from "../errors.ts";
import type { WebSocketHandlers } from "../types.ts";
import { createHandle, type WebSocketConnection } from "./connection.ts";
import { capture, type Captured, type DriverInit, newRare, type Rare } from "./driver_state.ts";
import type { ServerGroup } from "./group.ts";
import type { Heartbeat, Tickable } from "./heartbeat.ts";
import { type InboundStream, startStream, streamWhole } from "./inbound.ts";
import { ReadGate } from "./read_gate.ts";
import { checkCloseArgs, exceedsLimit } from "./limits.ts";
import { heartbeat as sharedHeartbeat, registry } from "./registry.ts";
import { reportError } from "./report.ts";
import { countClose } from "./stats.ts";
import * as topics from "./topics.ts";

export type { DriverInit } from "./driver_state.ts";

// The connection state and two booleans share one small integer (one field, no boxes).
const OPENING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3, STATE = 3;
const HEARD = 4; // a frame arrived since the last tick
const DRAIN_WANTED = 8; // a write was queued or dropped: onDrain is due
type Inbound = InboundStream | undefined;
const SECURE = 16; // the connection came over TLS: set once, never cleared
const WARNED = 32; // onShutdown ran

/**
 * The core side of one connection. Adapters create it, bind their transport, and report
 * events to it; it calls the user's handlers.
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import { ConnectionDriver } from "./driver.ts";
 * ```
 */
export class ConnectionDriver<U = unknown> implements TransportEvents, Tickable {
  // Every field is declared here, so every driver has one compact shape; an idle
  // connection's driver holds 11 fields and no other object of its own.
  /** Process-unique id. */
  readonly uuid: number;
  /** User data. */
  udata: U;
  /** The runtime side; set by {@linkcode ConnectionDriver.bind}. */
  transport!: Transport;
  readonly #handlers: WebSocketHandlers<U>;
  // Captured now: later changes of the settings affect only new connections.
  readonly #captured: Captured;
  #handle: WebSocketConnection<U> | null = null;
  #flags = OPENING;
  // Times relative to #captured.origin, small integers kept in the fields themselves
  // (see #since). They start undefined so that V8 keeps the fields tagged: a value out
  // of small-integer range, if a connection ever lives that long, is then one heap
  // number of that connection, not a boxed field in every connection.
  #lastHeard: number | undefined = undefined; // set when the connection opens
  #pingSent: number | undefined = undefined; // while a ping is unanswered
  #pingRoundTripMs: number | undefined = undefined;
  #rare: Rare | null = null;

  /** @param init What the driver is made from. */
  constructor(init: DriverInit<U>) {
    this.uuid = registry.nextId();
    this.udata = init.udata;
    this.#handlers = init.handlers;
    if (init.secure) this.#flags |= SECURE;
    this.#captured = capture(init.group, init.heartbeat ?? sharedHeartbeat, init.group.settings);
    if (init.protocol) (this.#rare ??= newRare()).protocol = init.protocol;
  }

  /** The user's handle: one object for the whole life of the connection, made on first use. */
  get handle(): WebSocketConnection<U> {
    return this.#handle ??= createHandle(this);
  }

  /** The owning server. */
  get group(): ServerGroup {
    return this.#captured.group;
  }

  /** The agreed subprotocol, or "". */
  get protocol(): string {
    return this.#rare?.protocol ?? "";
  }

  /** Whether the connection came over TLS (`wss:`). */
  get secure(): boolean {
    return (this.#flags & SECURE) !== 0;
  }

  /** Round trip of the last answered ping in ms, or undefined. */
  get pingRoundTripMs(): number | undefined {
    return this.#pingRoundTripMs;
  }

  get #state(): number {
    return this.#flags & STATE;
  }

  set #state(state: number) {
    this.#flags = (this.#flags & ~STATE) | state;
  }

  /** Attaches the runtime side. */
  bind(transport: Transport): void {
    this.transport = transport;
  }

  /** `"open"`, `"closing"` or `"closed"` (`"open"` also while opening). */
  get readyState(): "open" | "closing" | "closed" {
    return this.#state <= OPEN ? "open" : this.#state === CLOSING ? "closing" : "closed";
  }

  /** When the peer was last heard from (ms since the epoch, precise to about a second). */
  get lastHeardAt(): number {
    const captured = this.#captured;
    if (this.#flags & HEARD) return captured.heartbeat.now();
    return this.#lastHeard === undefined ? 0 : captured.origin + this.#lastHeard;
  }

  /** The timeout in seconds this connection captured when it opened. */
  get timeoutSeconds(): number {
    return this.#captured.timeoutMs / 1000;
  }

  // ---- TransportEvents: what the adapter reports ----

  /** The handshake completed. */
  open(): void {
    if (this.#state !== OPENING) return;
    this.#state = OPEN;
    const captured = this.#captured;
    this.#lastHeard = this.#since(captured.heartbeat.now());
    registry.add(this as ConnectionDriver<unknown>);
    captured.group.add(this as ConnectionDriver<unknown>);
    captured.heartbeat.add(this);
    const onOpen = this.#handlers.onOpen;
    if (!onOpen) return;
    let result: void | Promise<void>;
    try {
      result = onOpen(this.handle);
    } catch (error) {
      return this.#handlerFailed(error, "onOpen");
    }
    if (result && typeof (result as Promise<void>).then === "function") {
      // Messages wait until an async onOpen settles.
      (this.#rare ??= newRare()).backlog = [];
      (result as Promise<void>).then(
        () => this.#flushBacklog(),
        (error) => this.#handlerFailed(error, "onOpen"),
      );
    }
  }

  /** A whole message arrived. */
  message(data: string | Uint8Array, isText: boolean): void {
    this.#flags |= HEARD;
    if (this.#state !== OPEN) return;
    const caps = this.transport.capabilities;
    if (!caps.enforcesMaxMsgSize && exceedsLimit(data, this.#captured.group.settings.maxMsgSize)) {
      return this.fail("message-too-big");
    }
    const backlog = this.#rare?.backlog;
    if (backlog) return void backlog.push(data, isText);
    // A streaming transport offered the message to streamWhen at its start already.
    this.#deliver(data, isText, caps.streaming);
  }

  /** A message starts (streaming transports): its stream, when `onStream` takes it. */
  messageStart(isText: boolean, length: number, fin: boolean, compressed: boolean): Inbound {
    const handlers = this.#handlers;
    // While an async onOpen runs, messages wait whole in the backlog.
    if (!handlers.onStream || this.#state !== OPEN || this.#rare?.backlog) return undefined;
    const rare = this.#rare ??= newRare();
    rare.streams ??= new ReadGate(this, this.#captured.heartbeat, this.#captured.group.settings);
    return startStream(this, handlers, { isText, length, fin, compressed }, rare.streams);
  }

  /** Any inbound frame arrived. */
  heard(): void {
    this.#flags |= HEARD;
  }

  /** A pong arrived. */
  pong(): void {
    this.#flags |= HEARD;
    if (this.#pingSent === undefined) return;
    this.#pingRoundTripMs = this.#since(this.#captured.heartbeat.now()) - this.#pingSent;
  }

  /** The outbound queue emptied. */
  drain(): void {
    if (!(this.#flags & DRAIN_WANTED)) return;
    this.#flags &= ~DRAIN_WANTED;
    const onDrain = this.#handlers.onDrain;
    if (onDrain && this.#state === OPEN) {
      try {
        onDrain(this.handle);
      } catch (error) {
        this.#handlerFailed(error, "onDrain");
      }
    }
  }

  /** The connection is gone. */
  closed(code: number, reason: string, error?: WsxErrorCode): void {
    if (this.#state === CLOSED) return;
    const wasOpened = this.#state !== OPENING;
    this.#state = CLOSED;
    const rare = this.#rare;
    if (rare !== null) rare.backlog = null;
    rare?.streams?.interrupt(code, reason); // a message stream's reader learns why it ended
    if (!wasOpened) return;
    const captured = this.#captured;
    registry.delete(this as ConnectionDriver<unknown>);
    captured.heartbeat.remove(this);
    if (rare?.topics) rare.topics = topics.unsubscribeAll(this, rare.topics);
    // A close the server started reports the server's code and reason.
    const info = rare?.closeInfo ?? { code, reason, error };
    countClose(captured.group.stats, info.code, info.error);
    try {
      this.#handlers.onClose?.(this.handle, info.code, info.reason);
    } catch (error) {
      reportError(error, "onClose");
    }
    this.group.remove(this as ConnectionDriver<unknown>);
  }

  // ---- What the handle and the server call ----

  /** Sends a message unless the connection is closing or over its outbound cap. */
  write(data: string | Uint8Array, isText: boolean, compress = true): WriteResult {
    const refused = this.#admit(data.length);
    if (refused !== undefined) return refused;
    const result = compress
      ? this.transport.send(data, isText)
      : this.transport.send(data, isText, false);
    if (result === "queued") this.#flags |= DRAIN_WANTED;
    return result;
  }

  /** Sends a message the transport encoded once for many receivers. */
  writeEncoded(encoded: unknown, size: number): WriteResult {
    const refused = this.#admit(size);
    if (refused !== undefined) return refused;
    const result = this.transport.sendEncoded!(encoded);
    if (result === "queued") this.#flags |= DRAIN_WANTED;
    return result;
  }

  /** Subscribes to a topic; the subscription ends with the connection. */
  subscribe(topic: string): boolean {
    if (this.#state !== OPEN) return false;
    const added = topics.subscribe(this, topic);
    if (added) ((this.#rare ??= newRare()).topics ??= new Set()).add(topic);
    return added;
  }

  /** Unsubscribes from a topic. */
  unsubscribe(topic: string): boolean {
    this.#rare?.topics?.delete(topic);
    return topics.unsubscribe(this, topic);
  }

  /** Publishes to a topic (the handle's `publish`). */
  publish(topic: string, data: string | Uint8Array, isText: boolean, excludeSelf: boolean): void {
    topics.publish(topic, data, isText, excludeSelf ? this.uuid : undefined);
  }

  /** Whether the connection is subscribed to a topic. */
  isSubscribed(topic: string): boolean {
    return this.#rare?.topics?.has(topic) ?? false;
  }

  // The state and outbound-cap checks shared by every write.
  #admit(size: number): WriteResult | undefined {
    if (this.#state !== OPEN) return "closed";
    const buffered = this.transport.bufferedAmount;
    const captured = this.#captured;
    if (buffered > 0 && buffered + size > captured.maxBufferedBytes) {
      if (captured.dropWhenFull) {
        captured.group.stats.droppedWrites++;
        this.#flags |= DRAIN_WANTED;
        return "dropped";
      }
      this.fail("buffer-full");
      return "closed";
    }
    return undefined;
  }

  /** Starts the closing handshake; throws `RangeError` for a code or reason the RFC forbids. */
  close(code: number, reason: string): void {
    checkCloseArgs(code, reason);
    this.#closeAs(code, reason);
  }

  /** Closes for a protocol or policy reason from the error table. */
  fail(code: WsxErrorCode): void {
    const error = new WsxError(code);
    if (code === "ping-timeout") this.group.stats.pingTimeouts++;
    if (error.closeCode === 1006) {
      // The peer is gone or stuck: no closing handshake to wait for.
      if (this.#state >= CLOSING && this.#rare?.closeInfo) return this.transport.terminate();
      (this.#rare ??= newRare()).closeInfo = { code: 1006, reason: error.message, error: code };
      this.#state = CLOSING;
      this.transport.terminate();
      return;
    }
    this.#closeAs(error.closeCode, error.message, code);
  }

  /** The server shuts down: onShutdown, once, while the connection is open. */
  warnShutdown(): void {
    if (this.#state !== OPEN || this.#flags & WARNED) return;
    this.#flags |= WARNED;
    try {
      this.#handlers.onShutdown?.(this.handle);
    } catch (error) {
      reportError(error, "onShutdown");
    }
  }

  /** The server shuts down: onShutdown (unless it ran), then the close frame. */
  shutdown(code: number, reason: string): void {
    this.warnShutdown();
    this.#closeAs(code, reason);
  }

  /** Destroys the connection now. */
  terminate(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.transport.terminate();
  }

  /** Visited by the heartbeat about once a second. */
  tick(now: number, from: Heartbeat): void {
    // The process-wide heartbeat visits every registered driver, also those a test gave
    // a heartbeat of their own.
    if (from !== this.#captured.heartbeat) return;
    // Runtimes without a drain event (Deno) are polled here.
    if (this.#flags & DRAIN_WANTED && this.transport.bufferedAmount === 0) this.drain();
    // Reading paused for a stream's reader is no silent peer (for streamTimeout at most).
    if (this.#rare?.streams?.holdsReading(now)) this.#flags |= HEARD;
    const captured = this.#captured, at = this.#since(now);
    if (this.#flags & HEARD) {
      this.#flags &= ~HEARD;
      this.#lastHeard = at;
      this.#pingSent = undefined;
      return;
    }
    if (this.#state !== OPEN || captured.timeoutMs === 0) return;
    if (!this.transport.capabilities.ping) return;
    if (this.#pingSent === undefined) {
      if (at - this.#lastHeard! >= captured.timeoutMs) {
        this.#pingSent = at;
        this.transport.ping();
      }
    } else if (at - this.#pingSent >= captured.pongTimeoutMs) {
      this.fail("ping-timeout");
    }
  }

  // Math.floor gives a small integer where the difference of two epoch times (doubles)
  // would be a new heap number.
  #since(now: number): number {
    return Math.floor(now - this.#captured.origin);
  }

  #closeAs(code: number, reason: string, error?: WsxErrorCode): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    const rare = (this.#rare ??= newRare());
    rare.closeInfo = { code, reason, error };
    rare.backlog = null;
    rare.streams?.interrupt(code, reason);
    // Over maxBufferedBytes: what is queued and not started is dropped for the close.
    if (error === "buffer-full") this.transport.close(code, reason, true);
    else this.transport.close(code, reason);
  }

  #deliver(data: string | Uint8Array, isText: boolean, offered = false): void {
    const handlers = this.#handlers;
    if (handlers.onStream && !offered && streamWhole(this, handlers, data, isText)) return;
    const onMessage = handlers.onMessage;
    if (!onMessage) return;
    try {
      onMessage(this.handle, data, isText);
    } catch (error) {
      this.#handlerFailed(error, "onMessage");
    }
  }

  #flushBacklog(): void {
    const rare = this.#rare;
    const backlog = rare?.backlog;
    if (!backlog) return;
    rare!.backlog = null;
    for (let i = 0; i < backlog.length && this.#state === OPEN; i += 2) {
      this.#deliver(backlog[i] as string | Uint8Array, backlog[i + 1] as boolean);
    }
  }

  #handlerFailed(error: unknown, where: string): void {
    reportError(error, where);
    this.fail("handler-error");
  }
}

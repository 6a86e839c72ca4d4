/**
 * The life of one connection, shared by every adapter: ordering of callbacks, the size
 * limit, the ping timer driven by the shared heartbeat, backpressure and closing.
 * Adapters report to it through {@linkcode TransportEvents}; users see only the handle.
 *
 * @module
 */

import type { Transport, TransportEvents, WriteResult } from "../adapters/adapter.ts";
import { ERRORS, WsxError, type WsxErrorCode } from "../errors.ts";
import type { WebSocketHandlers } from "../types.ts";
import { createHandle, type WebSocketConnection } from "./connection.ts";
import type { ServerGroup } from "./group.ts";
import { type Heartbeat, heartbeat as sharedHeartbeat, type Tickable } from "./heartbeat.ts";
import { checkCloseArgs, exceedsLimit } from "./limits.ts";
import { registry } from "./registry.ts";
import { reportError } from "./report.ts";
import { settings } from "./settings.ts";
import { subscribe as subscribeTopic, unsubscribe as unsubscribeTopic } from "./topics.ts";

const OPENING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * What a driver is made from.
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import type { DriverInit } from "./driver.ts";
 * ```
 */
export interface DriverInit<U> {
  /** The user's handlers. */
  readonly handlers: WebSocketHandlers<U>;
  /** The first user data. */
  readonly udata: U;
  /** The server the connection belongs to. */
  readonly group: ServerGroup;
  /** The subprotocol agreed in the handshake, or "". */
  readonly protocol?: string;
  /** The heartbeat; the process-wide one unless a test passes its own. */
  readonly heartbeat?: Heartbeat;
}

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
  /** The user's handle: one object for the whole life of the connection. */
  readonly handle: WebSocketConnection<U>;
  /** Process-unique id. */
  readonly uuid: number;
  /** The owning server. */
  readonly group: ServerGroup;
  /** The agreed subprotocol, or "". */
  readonly protocol: string;
  /** User data. */
  udata: U;
  /** The runtime side; set by {@linkcode ConnectionDriver.bind}. */
  transport!: Transport;
  /** Round trip of the last answered ping in ms, or undefined. */
  pingRoundTripMs: number | undefined;
  #state = OPENING;
  readonly #handlers: WebSocketHandlers<U>;
  readonly #heartbeat: Heartbeat;
  readonly #timeoutMs: number;
  readonly #pongTimeoutMs: number;
  readonly #maxBufferedBytes: number;
  readonly #dropWhenFull: boolean;
  #heard = false;
  #lastHeardMs = 0;
  #pingSentMs = 0;
  #drainWanted = false;
  #topics: Set<string> | undefined;
  #backlog: Array<string | Uint8Array | boolean> | null = null;
  #closeInfo: { code: number; reason: string } | null = null;

  /** @param init What the driver is made from. */
  constructor(init: DriverInit<U>) {
    this.#handlers = init.handlers;
    this.udata = init.udata;
    this.group = init.group;
    this.protocol = init.protocol ?? "";
    this.#heartbeat = init.heartbeat ?? sharedHeartbeat;
    this.uuid = registry.nextId();
    // Captured now: later changes of the settings affect only new connections.
    this.#timeoutMs = settings.timeout * 1000;
    this.#pongTimeoutMs = (settings.pongTimeout || settings.timeout) * 1000;
    this.#maxBufferedBytes = settings.maxBufferedBytes;
    this.#dropWhenFull = settings.backpressure === "drop";
    this.handle = createHandle(this);
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
    return this.#heard ? this.#heartbeat.now() : this.#lastHeardMs;
  }

  /** The timeout in seconds this connection captured when it opened. */
  get timeoutSeconds(): number {
    return this.#timeoutMs / 1000;
  }

  // ---- TransportEvents: what the adapter reports ----

  /** The handshake completed. */
  open(): void {
    if (this.#state !== OPENING) return;
    this.#state = OPEN;
    this.#lastHeardMs = this.#heartbeat.now();
    registry.add(this as ConnectionDriver<unknown>);
    this.group.add(this as ConnectionDriver<unknown>);
    this.#heartbeat.add(this);
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
      this.#backlog = [];
      (result as Promise<void>).then(
        () => this.#flushBacklog(),
        (error) => this.#handlerFailed(error, "onOpen"),
      );
    }
  }

  /** A whole message arrived. */
  message(data: string | Uint8Array, isText: boolean): void {
    this.#heard = true;
    if (this.#state !== OPEN) return;
    if (
      !this.transport.capabilities.enforcesMaxMsgSize && exceedsLimit(data, settings.maxMsgSize)
    ) {
      return this.fail("message-too-big");
    }
    if (this.#backlog !== null) {
      this.#backlog.push(data, isText);
      return;
    }
    this.#deliver(data, isText);
  }

  /** Any inbound frame arrived. */
  heard(): void {
    this.#heard = true;
  }

  /** A pong arrived. */
  pong(): void {
    this.#heard = true;
    if (this.#pingSentMs !== 0) this.pingRoundTripMs = this.#heartbeat.now() - this.#pingSentMs;
  }

  /** The outbound queue emptied. */
  drain(): void {
    if (!this.#drainWanted) return;
    this.#drainWanted = false;
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
  closed(code: number, reason: string): void {
    if (this.#state === CLOSED) return;
    const wasOpened = this.#state !== OPENING;
    this.#state = CLOSED;
    this.#backlog = null;
    if (!wasOpened) return;
    registry.delete(this as ConnectionDriver<unknown>);
    this.#heartbeat.remove(this);
    if (this.#topics) {
      for (const topic of this.#topics) unsubscribeTopic(this as ConnectionDriver<unknown>, topic);
      this.#topics = undefined;
    }
    // A close the server started reports the server's code and reason.
    const info = this.#closeInfo ?? { code, reason };
    const stats = this.group.stats;
    stats.closedByCode[info.code] = (stats.closedByCode[info.code] ?? 0) + 1;
    // Counted here, where every path meets: the core's own check, Bun's cap, and the
    // Node engine's check at the frame header all end as this close.
    if (info.code === 1009 && info.reason.startsWith(ERRORS["message-too-big"].message)) {
      stats.oversize++;
    }
    try {
      this.#handlers.onClose?.(this.handle, info.code, info.reason);
    } catch (error) {
      reportError(error, "onClose");
    }
    this.group.remove(this as ConnectionDriver<unknown>);
  }

  // ---- What the handle and the server call ----

  /** Sends a message unless the connection is closing or over its outbound cap. */
  write(data: string | Uint8Array, isText: boolean): WriteResult {
    const refused = this.#admit(data.length);
    if (refused !== undefined) return refused;
    const result = this.transport.send(data, isText);
    if (result === "queued") this.#drainWanted = true;
    return result;
  }

  /** Sends a message the transport encoded once for many receivers. */
  writeEncoded(encoded: unknown, size: number): WriteResult {
    const refused = this.#admit(size);
    if (refused !== undefined) return refused;
    const result = this.transport.sendEncoded!(encoded);
    if (result === "queued") this.#drainWanted = true;
    return result;
  }

  /** Subscribes to a topic; the subscription ends with the connection. */
  subscribe(topic: string): boolean {
    if (this.#state !== OPEN) return false;
    const added = subscribeTopic(this as ConnectionDriver<unknown>, topic);
    if (added) (this.#topics ??= new Set()).add(topic);
    return added;
  }

  /** Unsubscribes from a topic. */
  unsubscribe(topic: string): boolean {
    this.#topics?.delete(topic);
    return unsubscribeTopic(this as ConnectionDriver<unknown>, topic);
  }

  /** Whether the connection is subscribed to a topic. */
  isSubscribed(topic: string): boolean {
    return this.#topics?.has(topic) ?? false;
  }

  // The state and outbound-cap checks shared by every write.
  #admit(size: number): WriteResult | undefined {
    if (this.#state !== OPEN) return "closed";
    const buffered = this.transport.bufferedAmount;
    if (buffered > 0 && buffered + size > this.#maxBufferedBytes) {
      if (this.#dropWhenFull) {
        this.group.stats.droppedWrites++;
        this.#drainWanted = true;
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
      if (this.#state >= CLOSING && this.#closeInfo) return this.transport.terminate();
      this.#closeInfo = { code: 1006, reason: error.message };
      this.#state = CLOSING;
      this.transport.terminate();
      return;
    }
    this.#closeAs(error.closeCode, error.message);
  }

  /** The server shuts down: onShutdown, then the close frame. */
  shutdown(code: number, reason: string): void {
    if (this.#state !== OPEN) return;
    try {
      this.#handlers.onShutdown?.(this.handle);
    } catch (error) {
      reportError(error, "onShutdown");
    }
    this.#closeAs(code, reason);
  }

  /** Destroys the connection now. */
  terminate(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.transport.terminate();
  }

  /** Visited by the heartbeat about once a second. */
  tick(now: number): void {
    // Runtimes without a drain event (Deno) are polled here.
    if (this.#drainWanted && this.transport.bufferedAmount === 0) this.drain();
    if (this.#heard) {
      this.#heard = false;
      this.#lastHeardMs = now;
      this.#pingSentMs = 0;
      return;
    }
    if (this.#state !== OPEN || this.#timeoutMs === 0) return;
    if (!this.transport.capabilities.ping) return;
    if (this.#pingSentMs === 0) {
      if (now - this.#lastHeardMs >= this.#timeoutMs) {
        this.#pingSentMs = now;
        this.transport.ping();
      }
    } else if (now - this.#pingSentMs >= this.#pongTimeoutMs) {
      this.fail("ping-timeout");
    }
  }

  #closeAs(code: number, reason: string): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#closeInfo = { code, reason };
    this.#backlog = null;
    this.transport.close(code, reason);
  }

  #deliver(data: string | Uint8Array, isText: boolean): void {
    const onMessage = this.#handlers.onMessage;
    if (!onMessage) return;
    try {
      onMessage(this.handle, data, isText);
    } catch (error) {
      this.#handlerFailed(error, "onMessage");
    }
  }

  #flushBacklog(): void {
    const backlog = this.#backlog;
    this.#backlog = null;
    if (!backlog) return;
    for (let i = 0; i < backlog.length && this.#state === OPEN; i += 2) {
      this.#deliver(backlog[i] as string | Uint8Array, backlog[i + 1] as boolean);
    }
  }

  #handlerFailed(error: unknown, where: string): void {
    reportError(error, where);
    this.fail("handler-error");
  }
}

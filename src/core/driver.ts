/**
 * The life of one connection, shared by every adapter: ordering of callbacks, the size
 * limit, the ping timer driven by the shared heartbeat, backpressure and closing.
 * Adapters report to it through {@linkcode TransportEvents}; users see only the handle.
 *
 * @module
 */

import type { TransportEvents, WriteResult } from "./transport.ts";
import { ERRORS, type WsxErrorCode } from "../errors.ts";
import { createHandle, type WebSocketConnection } from "./connection.ts";
import {
  CHECKS_SIZE,
  CLOSED,
  CLOSING,
  DRAIN_WANTED,
  OPEN,
  OPENING,
  WARNED,
} from "./driver_base.ts";
import { TopicDriver } from "./driver_topics.ts";
import { type DriverInit, newRare } from "./driver_state.ts";
import type { WebSocketHandlers } from "../types.ts";
import { type InboundStream, startStream, streamWhole } from "./inbound.ts";
import { ReadGate } from "./read_gate.ts";
import { checkCloseArgs, exceedsLimit } from "./limits.ts";
import { registry } from "./registry.ts";
import { reportError } from "./report.ts";
import { countClose } from "./stats.ts";
import { isThenable } from "./thenable.ts";

export type { DriverInit } from "./driver_state.ts";

type Inbound = InboundStream | undefined;

/**
 * The core side of one connection. Adapters create it, bind their transport, and report
 * events to it; it calls the user's handlers. Its state, liveness and topic membership
 * are the layers below it (`driver_base.ts`, `driver_heartbeat.ts`, `driver_topics.ts`).
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import { ConnectionDriver } from "./driver.ts";
 * ```
 */
export class ConnectionDriver<U = unknown> extends TopicDriver<U> implements TransportEvents {
  readonly #handlers: WebSocketHandlers<U>;
  #handle: WebSocketConnection<U> | null = null;

  /** @param init What the driver is made from. */
  constructor(init: DriverInit<U>) {
    super(init);
    this.#handlers = init.handlers;
  }

  /** The user's handle: one object for the whole life of the connection, made on first use. */
  get handle(): WebSocketConnection<U> {
    return this.#handle ??= createHandle(this);
  }

  // ---- TransportEvents: what the adapter reports ----

  /** The handshake completed. */
  open(): void {
    if (this.state !== OPENING) return;
    this.state = OPEN;
    registry.add(this as ConnectionDriver<unknown>);
    this.captured.group.add(this as ConnectionDriver<unknown>);
    this.startHeartbeat();
    const onOpen = this.#handlers.onOpen;
    if (!onOpen) return;
    let result: void | Promise<void>;
    try {
      result = onOpen(this.handle);
    } catch (error) {
      return this.handlerFailed(error, "onOpen");
    }
    if (isThenable(result)) {
      // Messages wait until an async onOpen settles.
      (this.rare ??= newRare()).backlog = [];
      result.then(
        () => this.#flushBacklog(),
        (error) => this.handlerFailed(error, "onOpen"),
      );
    }
  }

  /** A whole message arrived. */
  message(data: string | Uint8Array, isText: boolean): void {
    this.heard();
    if (this.state !== OPEN) return;
    if (
      this.flags & CHECKS_SIZE && exceedsLimit(data, this.captured.group.settings.maxMsgSize)
    ) return this.fail("message-too-big");
    // A streaming transport offered the message to streamWhen at its start already.
    if (this.rare !== null || this.#handlers.onStream) {
      return this.#deliverRare(data, isText, this.transport.capabilities.streaming);
    }
    // The common case calls onMessage itself, not through #onMessage: JavaScriptCore
    // inlines calls 5 deep at most, and the handler's write to the socket is 4 deep here.
    const onMessage = this.#handlers.onMessage;
    if (!onMessage) return;
    try {
      onMessage(this.handle, data, isText);
    } catch (error) {
      this.handlerFailed(error, "onMessage");
    }
  }

  /** Whether {@linkcode ConnectionDriver.messageStart} can take a message: `onStream` is set. */
  get streams(): boolean {
    return this.#handlers.onStream !== undefined;
  }

  /** A message starts (streaming transports): its stream, when `onStream` takes it. */
  messageStart(isText: boolean, length: number, fin: boolean, compressed: boolean): Inbound {
    const handlers = this.#handlers;
    // While an async onOpen runs, messages wait whole in the backlog.
    if (!handlers.onStream || this.state !== OPEN || this.rare?.backlog) return undefined;
    const rare = this.rare ??= newRare();
    rare.streams ??= new ReadGate(this, this.captured.heartbeat, this.captured.group.settings);
    return startStream(this, handlers, { isText, length, fin, compressed }, rare.streams);
  }

  /** The outbound queue emptied. */
  drain(): void {
    if (!(this.flags & DRAIN_WANTED)) return;
    this.flags &= ~DRAIN_WANTED;
    const onDrain = this.#handlers.onDrain;
    if (onDrain && this.state === OPEN) {
      try {
        onDrain(this.handle);
      } catch (error) {
        this.handlerFailed(error, "onDrain");
      }
    }
  }

  /** The connection is gone. */
  closed(code: number, reason: string, error?: WsxErrorCode): void {
    if (this.state === CLOSED) return;
    const wasOpened = this.state !== OPENING;
    this.state = CLOSED;
    const rare = this.rare;
    if (rare !== null) rare.backlog = null;
    rare?.streams?.interrupt(code, reason); // a message stream's reader learns why it ended
    if (!wasOpened) return;
    const captured = this.captured;
    registry.delete(this as ConnectionDriver<unknown>);
    this.stopHeartbeat();
    this.leaveTopics();
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
  write(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult {
    // Open and under the cap (most writes; replies held for the end of the turn count as
    // buffered): what #admit would let through. Kept small and shallow (JavaScriptCore
    // inlines functions of under 170 bytecode units, 5 calls deep), so that the whole
    // write is inlined into the handler that writes.
    const buffered = this.transport.bufferedAmount;
    if (
      !this.isOpen || (buffered > 0 && buffered + data.length > this.captured.maxBufferedBytes)
    ) return this.#writeChecked(data, isText, compress);
    const result = this.transport.send(data, isText, compress);
    return result === "queued" ? this.#queued() : result;
  }

  #writeChecked(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult {
    const refused = this.#admit(data.length);
    if (refused !== undefined) return refused;
    const result = this.transport.send(data, isText, compress);
    return result === "queued" ? this.#queued() : result;
  }

  #queued(): WriteResult {
    this.wantDrain();
    return "queued";
  }

  /** Sends a message the transport encoded once for many receivers. */
  writeEncoded(encoded: unknown, size: number): WriteResult {
    const refused = this.#admit(size);
    if (refused !== undefined) return refused;
    const result = this.transport.sendEncoded!(encoded);
    if (result === "queued") this.wantDrain();
    return result;
  }

  // The state and outbound-cap checks shared by every write.
  #admit(size: number): WriteResult | undefined {
    if (this.state !== OPEN) return "closed";
    let buffered = this.transport.bufferedAmount;
    const captured = this.captured;
    if (buffered > 0 && buffered + size > captured.maxBufferedBytes) {
      // Replies held back only for the end of the turn are no backlog: written now, they
      // count only as far as the socket cannot take them.
      if (this.transport.writeHeld?.()) buffered = this.transport.bufferedAmount;
    }
    if (buffered > 0 && buffered + size > captured.maxBufferedBytes) {
      if (captured.dropWhenFull) {
        captured.group.stats.droppedWrites++;
        this.wantDrain();
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
    // The table entry, not a WsxError: an Error captures a stack trace nobody reads, and
    // a ping sweep fails thousands of connections in one beat.
    const entry = ERRORS[code];
    if (code === "ping-timeout") this.group.stats.pingTimeouts++;
    if (entry.closeCode === 1006) {
      // The peer is gone or stuck: no closing handshake to wait for.
      if (this.state >= CLOSING && this.rare?.closeInfo) return this.transport.terminate();
      (this.rare ??= newRare()).closeInfo = { code: 1006, reason: entry.message, error: code };
      this.state = CLOSING;
      this.transport.terminate();
      return;
    }
    this.#closeAs(entry.closeCode, entry.message, code);
  }

  /** The server shuts down: onShutdown, once, while the connection is open. */
  warnShutdown(): void {
    if (this.state !== OPEN || this.flags & WARNED) return;
    this.flags |= WARNED;
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
    if (this.state === CLOSED) return;
    this.state = CLOSING;
    this.transport.terminate();
  }

  #closeAs(code: number, reason: string, error?: WsxErrorCode): void {
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    const rare = (this.rare ??= newRare());
    rare.closeInfo = { code, reason, error };
    rare.backlog = null;
    rare.streams?.interrupt(code, reason);
    // Over maxBufferedBytes: what is queued and not started is dropped for the close.
    if (error === "buffer-full") this.transport.close(code, reason, true);
    else this.transport.close(code, reason);
  }

  // A message while an async onOpen runs (it waits), or for onStream.
  #deliverRare(data: string | Uint8Array, isText: boolean, offered: boolean): void {
    const backlog = this.rare?.backlog;
    if (backlog) return void backlog.push(data, isText);
    this.#deliver(data, isText, offered);
  }

  #deliver(data: string | Uint8Array, isText: boolean, offered = false): void {
    const handlers = this.#handlers;
    if (handlers.onStream && !offered && streamWhole(this, handlers, data, isText)) return;
    this.#onMessage(data, isText);
  }

  #onMessage(data: string | Uint8Array, isText: boolean): void {
    const onMessage = this.#handlers.onMessage;
    if (!onMessage) return;
    try {
      onMessage(this.handle, data, isText);
    } catch (error) {
      this.handlerFailed(error, "onMessage");
    }
  }

  #flushBacklog(): void {
    const rare = this.rare;
    const backlog = rare?.backlog;
    if (!backlog) return;
    rare!.backlog = null;
    for (let i = 0; i < backlog.length && this.state === OPEN; i += 2) {
      this.#deliver(backlog[i] as string | Uint8Array, backlog[i + 1] as boolean);
    }
  }
}

/**
 * The state every layer of a connection driver shares (`driver.ts` is the whole driver):
 * its id, user data, transport, handlers, what it captured at open, one small integer of
 * state and flags, and the rarely used rest. The layers above it are one concept each:
 * liveness (`driver_heartbeat.ts`), topic membership (`driver_topics.ts`) and the
 * connection's events, writes and close (`driver.ts`).
 *
 * @module
 */

import type { Transport, WriteResult } from "./transport.ts";
import type { WsxErrorCode } from "../errors.ts";
import type { WebSocketConnection } from "./connection.ts";
import type { Heartbeat } from "./heartbeat.ts";
import type { Member } from "./member.ts";
import { capture, type Captured, type DriverInit, newRare, type Rare } from "./driver_state.ts";
import type { ServerGroup } from "./group.ts";
import { heartbeat as sharedHeartbeat, registry } from "./registry.ts";
import { reportError } from "./report.ts";

// The connection state and a few booleans share one small integer (one field, no boxes).
/** The handshake is under way. */
export const OPENING = 0;
/** The connection is open. */
export const OPEN = 1;
/** A close began. */
export const CLOSING = 2;
/** The connection is gone. */
export const CLOSED = 3;
/** The bits of the flags that hold the state. */
export const STATE = 3;
/** A write was queued or dropped: onDrain is due. */
export const DRAIN_WANTED = 4;
/** The connection came over TLS: set once, never cleared. */
export const SECURE = 8;
/** onShutdown ran. */
export const WARNED = 16;
/** The core checks each message against `maxMsgSize` (the transport does not). */
export const CHECKS_SIZE = 32;

/**
 * The shared state of a connection driver. The fields the layers above read on every
 * message are `protected`, not `#private`: a `#private` field is invisible to a subclass,
 * and an accessor per field would put a call per message on the hot path.
 *
 * @typeParam U The type of the user data.
 * @example The driver is the only subclass chain
 * ```ts
 * import { DriverBase } from "./driver_base.ts";
 * import { ConnectionDriver } from "./driver.ts";
 * console.log(ConnectionDriver.prototype instanceof DriverBase); // true
 * ```
 */
export abstract class DriverBase<U = unknown> implements Member {
  // Every field of the whole chain is declared in one of its classes, so every driver has
  // one compact shape; an idle connection's driver holds 14 fields and no other object.
  /** Process-unique id. */
  readonly uuid: number;
  /** User data. */
  udata: U;
  /** The runtime side; set by {@linkcode DriverBase.bind}. */
  transport!: Transport;
  /** Captured at open: later changes of the settings affect only new connections. */
  protected readonly captured: Captured;
  /** The state (`STATE` bits) and the flags above. */
  protected flags: number = OPENING;
  /** What few connections need, made on first use. */
  protected rare: Rare | null = null;
  /** Where its server's group keeps it (`group.ts`); -1 outside one. */
  groupSlot: number = -1;

  /** @param init What the driver is made from. */
  constructor(init: DriverInit<U>) {
    this.uuid = registry.nextId();
    this.udata = init.udata;
    if (init.secure) this.flags |= SECURE;
    this.captured = capture(init.group, init.heartbeat ?? sharedHeartbeat, init.group.settings);
    if (init.protocol) (this.rare ??= newRare()).protocol = init.protocol;
  }

  /** The user's handle: one object for the whole life of the connection. */
  abstract get handle(): WebSocketConnection<U>;

  /** The owning server. */
  get group(): ServerGroup {
    return this.captured.group;
  }

  /** The agreed subprotocol, or "". */
  get protocol(): string {
    return this.rare?.protocol ?? "";
  }

  /** Whether the connection came over TLS (`wss:`). */
  get secure(): boolean {
    return (this.flags & SECURE) !== 0;
  }

  /** The connection state: `OPENING`, `OPEN`, `CLOSING` or `CLOSED`. */
  protected get state(): number {
    return this.flags & STATE;
  }

  protected set state(state: number) {
    this.flags = (this.flags & ~STATE) | state;
  }

  /** Whether the connection is open (no getter of its own inside: see write()). */
  protected get isOpen(): boolean {
    return (this.flags & STATE) === OPEN;
  }

  /** Attaches the runtime side. */
  bind(transport: Transport): void {
    this.transport = transport;
    // Read once here, not from the transport's capabilities for every message.
    if (transport.capabilities.enforcesMaxMsgSize) this.flags &= ~CHECKS_SIZE;
    else this.flags |= CHECKS_SIZE;
  }

  /** `"open"`, `"closing"` or `"closed"` (`"open"` also while opening). */
  get readyState(): "open" | "closing" | "closed" {
    const state = this.state;
    return state <= OPEN ? "open" : state === CLOSING ? "closing" : "closed";
  }

  /** The outbound queue emptied. */
  abstract drain(): void;

  /** Closes for a protocol or policy reason from the error table. */
  abstract fail(code: WsxErrorCode): void;

  /** Sends a message unless the connection is closing or over its outbound cap. */
  abstract write(data: string | Uint8Array, isText: boolean): WriteResult;

  /** Sends a message the transport encoded once for many receivers. */
  abstract writeEncoded(encoded: unknown, size: number): WriteResult;

  /** The server shuts down: onShutdown, once, while the connection is open. */
  abstract warnShutdown(): void;

  /** The server shuts down: onShutdown (unless it ran), then the close frame. */
  abstract shutdown(code: number, reason: string): void;

  /** Destroys the connection now. */
  abstract terminate(): void;

  /** The connection is gone. */
  abstract closed(code: number, reason: string, error?: WsxErrorCode): void;

  /** Visited by the heartbeat. */
  abstract tick(now: number, from: Heartbeat): void;

  /** A handler threw: report it, then close with 1011. */
  protected handlerFailed(error: unknown, where: string): void {
    reportError(error, where);
    this.fail("handler-error");
  }
}

/**
 * What a connection driver (`driver.ts`) is made from, and the state it keeps outside its
 * own fields: what it captures when it opens (its server, its heartbeat and the settings
 * in force), in one frozen object that every connection capturing the same values
 * shares, and what few connections ever need, allocated on first use. An idle
 * connection then holds two references, not ten fields.
 *
 * @module
 */

import type { WebSocketHandlers } from "../types.ts";
import type { WsxErrorCode } from "../errors.ts";
import type { ServerGroup } from "./group.ts";
import type { Heartbeat } from "./heartbeat.ts";
import type { ReadGate } from "./read_gate.ts";
import type { Settings } from "./settings.ts";

/**
 * What a driver is made from.
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import type { DriverInit } from "./driver_state.ts";
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
  /** Whether the connection came over TLS (`wss:`). @default {false} */
  readonly secure?: boolean;
  /** The heartbeat; the process-wide one unless a test passes its own. */
  readonly heartbeat?: Heartbeat;
}

/**
 * The captured values. Times a driver stores are kept relative to `origin`, so that
 * they stay small integers (no boxed doubles per connection) for weeks.
 *
 * @example
 * ```ts
 * import { capture } from "./driver_state.ts";
 * import { ServerGroup } from "./group.ts";
 * import { heartbeat } from "./registry.ts";
 * import { settings } from "./settings.ts";
 * const captured = capture(new ServerGroup(null), heartbeat, settings);
 * console.log(captured.timeoutMs); // 40000 with the defaults
 * ```
 */
export interface Captured {
  /** The server the connection belongs to. */
  readonly group: ServerGroup;
  /** The heartbeat that visits the connection. */
  readonly heartbeat: Heartbeat;
  /** The heartbeat's time when this object was made; stored times are relative to it. */
  readonly origin: number;
  /** Silence before a ping, in ms (0: never ping). */
  readonly timeoutMs: number;
  /** Silence after a ping before giving up, in ms. */
  readonly pongTimeoutMs: number;
  /** The outbound backlog cap in bytes. */
  readonly maxBufferedBytes: number;
  /** Whether a write over the cap is dropped rather than closing the connection. */
  readonly dropWhenFull: boolean;
}

// A new origin once a day keeps the times drivers store small (they stay small
// integers for 24 days after their origin).
const ORIGIN_MAX_AGE_MS = 86_400_000;

/**
 * The captured values for a new connection: the object the previous connection of the
 * same server got when nothing changed since, else a new one.
 *
 * @param group The server.
 * @param heartbeat The heartbeat.
 * @param settings The settings in force now.
 * @returns A frozen object, possibly shared with other connections.
 * @example
 * ```ts
 * import { capture } from "./driver_state.ts";
 * import { ServerGroup } from "./group.ts";
 * import { heartbeat } from "./registry.ts";
 * import { settings } from "./settings.ts";
 * const group = new ServerGroup(null);
 * capture(group, heartbeat, settings) === capture(group, heartbeat, settings); // true
 * ```
 */
export function capture(
  group: ServerGroup,
  heartbeat: Heartbeat,
  settings: Readonly<Settings>,
): Captured {
  const timeoutMs = settings.timeout * 1000;
  const pongTimeoutMs = (settings.pongTimeout || settings.timeout) * 1000;
  const dropWhenFull = settings.backpressure === "drop";
  // Connections of one server almost always capture the same values, so the server
  // keeps the last object made and one object serves them all.
  const previous = group.lastCaptured as Captured | undefined;
  if (
    previous !== undefined && previous.heartbeat === heartbeat &&
    heartbeat.now() - previous.origin < ORIGIN_MAX_AGE_MS &&
    previous.timeoutMs === timeoutMs && previous.pongTimeoutMs === pongTimeoutMs &&
    previous.maxBufferedBytes === settings.maxBufferedBytes &&
    previous.dropWhenFull === dropWhenFull
  ) {
    return previous;
  }
  const captured: Captured = Object.freeze({
    group,
    heartbeat,
    origin: heartbeat.now(),
    timeoutMs,
    pongTimeoutMs,
    maxBufferedBytes: settings.maxBufferedBytes,
    dropWhenFull,
  });
  group.lastCaptured = captured;
  return captured;
}

/**
 * What few connections ever need: a subprotocol, topics, messages held back while an
 * async `onOpen` runs, the close the server started and a message being streamed.
 *
 * @example
 * ```ts
 * import { newRare } from "./driver_state.ts";
 * const state = newRare();
 * state.protocol = "chat";
 * ```
 */
export interface Rare {
  /** The agreed subprotocol, or "". */
  protocol: string;
  /** The topics subscribed to. */
  topics: Set<string> | undefined;
  /** Messages that arrived while an async onOpen was pending: data, isText, ... */
  backlog: Array<string | Uint8Array | boolean> | null;
  /** The close the server started, reported to onClose, with its error-table entry. */
  closeInfo: { code: number; reason: string; error?: WsxErrorCode } | null;
  /** The reading of the connection's message streams (`onStream`), from the first one. */
  streams: ReadGate | undefined;
}

/**
 * An empty {@linkcode Rare}, every field declared so all share one shape.
 *
 * @returns The new state.
 * @example
 * ```ts
 * import { newRare } from "./driver_state.ts";
 * newRare().topics; // undefined
 * ```
 */
export function newRare(): Rare {
  return { protocol: "", topics: undefined, backlog: null, closeInfo: null, streams: undefined };
}

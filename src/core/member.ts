/**
 * What the shared parts of the core (registry, server group, topics, heartbeat, `each`)
 * need from one open connection. They sit below the connection driver: it implements this
 * interface, they never import it, so the core has no import cycle.
 *
 * @module
 */

import type { WebSocketConnection } from "./connection.ts";
import type { Tickable } from "./heartbeat.ts";
import type { Transport, WriteResult } from "./transport.ts";
import type { WsxErrorCode } from "../errors.ts";

/**
 * The server side a member reports to for native pub/sub: Bun publishes once per server.
 *
 * @example
 * ```ts
 * import type { NativePublisher } from "./member.ts";
 * const none: NativePublisher = { publishNative: undefined };
 * ```
 */
export interface NativePublisher {
  /** The runtime's own publish to every subscriber of the server, if it has one. */
  readonly publishNative:
    | ((topic: string, data: string | Uint8Array, isText: boolean) => void)
    | undefined;
}

/**
 * One open connection, as the registry, the server group, the topics and the heartbeat
 * see it. `ConnectionDriver` implements it.
 *
 * @example Count the open members of a set
 * ```ts
 * import type { Member } from "./member.ts";
 * const open = (members: Iterable<Member>): number =>
 *   [...members].filter((m) => m.readyState === "open").length;
 * ```
 */
export interface Member extends Tickable {
  /** The connection's id, unique in the process. */
  readonly uuid: number;
  /** Where its server's group keeps it (`group.ts`); -1 outside one. */
  groupSlot: number;
  /** The handle the user's callbacks receive. */
  readonly handle: WebSocketConnection<unknown>;
  /** `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: "open" | "closing" | "closed";
  /** The server the connection arrived on. */
  readonly group: NativePublisher;
  /** The runtime side of the connection. */
  readonly transport: Transport;
  /** Sends a message, as `ws.write` does. */
  write(data: string | Uint8Array, isText: boolean): WriteResult;
  /** Sends a message the transport encoded once for many receivers. */
  writeEncoded(encoded: unknown, size: number): WriteResult;
  /** Tells the user (`onShutdown`), once, without closing: the server shuts down. */
  warnShutdown(): void;
  /** Tells the user (`onShutdown`, unless it was) and closes: the server shuts down. */
  shutdown(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /** Ends the connection's life in the core, as the transport's `closed` event does. */
  closed(code: number, reason: string, error?: WsxErrorCode): void;
}

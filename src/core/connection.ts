/**
 * The connection handle users hold: one object for the whole life of a connection.
 *
 * @module
 */

import { messageData, type SendData } from "./data.ts";

/**
 * Per-message options of {@linkcode WebSocketConnection.write}.
 *
 * @example
 * ```ts
 * import type { WriteOptions } from "./connection.ts";
 * const plain: WriteOptions = { compress: false };
 * ```
 */
export interface WriteOptions {
  /**
   * `false` sends the message uncompressed even when permessage-deflate is in use; `true`
   * compresses it when it reaches the threshold. @default {true}
   */
  readonly compress?: boolean;
}
import type { Capabilities, Transport, WriteResult } from "./transport.ts";

/**
 * What a handle needs from the core side of its connection. The connection driver
 * implements it; the handle never imports the driver, so the core has no import cycle.
 *
 * @example
 * ```ts
 * import type { ConnectionCore } from "./connection.ts";
 * const isOpen = (core: ConnectionCore): boolean => core.readyState === "open";
 * ```
 */
export interface ConnectionCore {
  /** The user data. */
  udata: unknown;
  /** The connection's id, unique in the process. */
  readonly uuid: number;
  /** The server the connection arrived on. */
  readonly group: { readonly raw: unknown };
  /** The runtime side of the connection. */
  readonly transport: Transport;
  /** `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: "open" | "closing" | "closed";
  /** The subprotocol agreed in the handshake, or "". */
  readonly protocol: string;
  /** Whether the connection arrived over TLS (`wss:`). */
  readonly secure: boolean;
  /** When the peer was last heard from, in ms since the epoch. */
  readonly lastHeardAt: number;
  /** Round trip of the last answered ping in ms, where the runtime reports pongs. */
  readonly pingRoundTripMs: number | undefined;
  /** The ping timeout in seconds taken when the connection opened. */
  readonly timeoutSeconds: number;
  /** Sends a message. */
  write(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection. */
  terminate(): void;
  /** Subscribes to a topic. */
  subscribe(topic: string): boolean;
  /** Unsubscribes from a topic. */
  unsubscribe(topic: string): boolean;
  /** Whether the connection is subscribed to a topic. */
  isSubscribed(topic: string): boolean;
  /** Publishes to a topic, leaving this connection out when `excludeSelf`. */
  publish(topic: string, data: string | Uint8Array, isText: boolean, excludeSelf: boolean): void;
}

let wrap: <U>(core: ConnectionCore) => WebSocketConnection<U>;

/**
 * One WebSocket connection, the same object in every callback of its life.
 *
 * @typeParam U The type of the user data.
 * @example Echo and count messages in the user data
 * ```ts
 * import type { WebSocketConnection } from "./connection.ts";
 * function onMessage(ws: WebSocketConnection<number>, data: string | Uint8Array, isText: boolean) {
 *   ws.setUdata(ws.getUdata() + 1);
 *   ws.write(data, isText);
 * }
 * ```
 */
export class WebSocketConnection<U = unknown> {
  // Typed without U so that a handle of any user data is a WebSocketConnection<unknown>.
  #d!: ConnectionCore;

  static {
    wrap = <V>(core: ConnectionCore) => {
      const handle = new WebSocketConnection<V>();
      handle.#d = core;
      return handle;
    };
  }

  private constructor() {}

  /**
   * The user data.
   *
   * @returns The current user data.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection<string>;
   * console.log(ws.getUdata());
   * ```
   */
  getUdata(): U {
    return this.#d.udata as U;
  }

  /**
   * Replaces the user data.
   *
   * @param udata The new user data.
   * @returns The old user data.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection<string>;
   * const old = ws.setUdata("alice");
   * ```
   */
  setUdata(udata: U): U {
    const old = this.#d.udata as U;
    this.#d.udata = udata;
    return old;
  }

  /**
   * The connection's id: unique in the process and never reused.
   *
   * @returns The id.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * console.log(ws.getUuid());
   * ```
   */
  getUuid(): number {
    return this.#d.uuid;
  }

  /**
   * The runtime's server object the connection arrived on (`Deno.HttpServer`, Bun's
   * `Server` or Node's `http.Server`).
   *
   * @returns The server object.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * console.log(ws.getServer());
   * ```
   */
  getServer(): unknown {
    return this.#d.group.raw;
  }

  /**
   * Sends a message. Throws only for data of another type.
   *
   * @param data The message; an `ArrayBuffer` or another `ArrayBufferView` is sent as its
   * bytes.
   * @param isText A text frame when true, binary when false. @default {typeof data === "string"}
   * @param options `{ compress: false }` sends this message uncompressed when the
   * connection uses permessage-deflate (already compressed data, say). @default {{}}
   * @returns `"sent"` or `"queued"` on success; `"dropped"` over the outbound cap with the
   * `"drop"` policy; `"closed"` once the connection is closing or closed.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * if (ws.write("hello") === "closed") console.log("gone");
   * ws.write(new Uint8Array(4096), false, { compress: false });
   * ```
   */
  write(
    data: SendData,
    isText: boolean = typeof data === "string",
    options?: WriteOptions,
  ): WriteResult {
    return this.#d.write(messageData(data), isText, options?.compress !== false);
  }

  /**
   * Starts the closing handshake. Does nothing once closing.
   *
   * @param code 1000-1003, 1007-1014 or 3000-4999. @default {1000}
   * @param reason At most 123 UTF-8 bytes. @default {""}
   * @throws {RangeError} For a code or reason the RFC forbids.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.close(4000, "bye");
   * ```
   */
  close(code: number = 1000, reason: string = ""): void {
    this.#d.close(code, reason);
  }

  /**
   * Destroys the connection at once, without a closing handshake; `onClose` reports 1006.
   *
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.terminate();
   * ```
   */
  terminate(): void {
    this.#d.terminate();
  }

  /**
   * Subscribes to a topic; the subscription ends with the connection.
   *
   * @param topic 1 to 1024 characters.
   * @returns `false` when already subscribed (or not open).
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.subscribe("room:42");
   * ```
   */
  subscribe(topic: string): boolean {
    return this.#d.subscribe(topic);
  }

  /**
   * Unsubscribes from a topic.
   *
   * @param topic The topic.
   * @returns `false` when it was not subscribed.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.unsubscribe("room:42");
   * ```
   */
  unsubscribe(topic: string): boolean {
    return this.#d.unsubscribe(topic);
  }

  /**
   * Whether the connection is subscribed to a topic.
   *
   * @param topic The topic.
   * @returns `true` when subscribed.
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.isSubscribed("room:42");
   * ```
   */
  isSubscribed(topic: string): boolean {
    return this.#d.isSubscribed(topic);
  }

  /**
   * Publishes to every subscriber of a topic, in every process sharing the pub/sub
   * engine.
   *
   * @param topic The topic.
   * @param data The message.
   * @param isText A text message when true. @default {typeof data === "string"}
   * @param options `excludeSelf` leaves this connection out. @default {{ excludeSelf: false }}
   * @example
   * ```ts
   * import type { WebSocketConnection } from "./connection.ts";
   * declare const ws: WebSocketConnection;
   * ws.publish("room:42", "hello", true, { excludeSelf: true });
   * ```
   */
  publish(
    topic: string,
    data: SendData,
    isText: boolean = typeof data === "string",
    options: { readonly excludeSelf?: boolean } = {},
  ): void {
    this.#d.publish(topic, messageData(data), isText, options.excludeSelf === true);
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get readyState(): "open" | "closing" | "closed" {
    return this.#d.readyState;
  }

  /** Bytes written and not yet sent to the network. */
  get bufferedAmount(): number {
    return this.#d.readyState === "closed" ? 0 : this.#d.transport.bufferedAmount;
  }

  /** The subprotocol agreed in the handshake, or "". */
  get protocol(): string {
    return this.#d.protocol;
  }

  /**
   * Whether the connection came over TLS: `true` for `wss:`, when its upgrade request's
   * URL was `https:` (a server started with `serve({ tls })`, or your own HTTPS server).
   * Behind a proxy that ends TLS, the connection that reached wsx is plain: `false`.
   */
  get secure(): boolean {
    return this.#d.secure;
  }

  /** When the peer was last heard from, in ms since the epoch (precise to about a second). */
  get lastHeardAt(): number {
    return this.#d.lastHeardAt;
  }

  /** Round trip of the last answered ping in ms, where the runtime reports pongs. */
  get pingRoundTripMs(): number | undefined {
    return this.#d.pingRoundTripMs;
  }

  /** The ping timeout in seconds this connection took from the settings when it opened. */
  get timeoutSeconds(): number {
    return this.#d.timeoutSeconds;
  }

  /** What the runtime does natively for this connection (pings, pongs, size limit, ...). */
  get capabilities(): Capabilities {
    return this.#d.transport.capabilities;
  }

  /** The runtime's own socket object. */
  get raw(): unknown {
    return this.#d.transport.raw;
  }
}

/**
 * Makes the handle of a connection's core side (for the core only).
 *
 * @param core The core side, the connection's driver.
 * @returns Its handle.
 * @example
 * ```ts
 * import { createHandle } from "./connection.ts";
 * ```
 */
export function createHandle<U>(core: ConnectionCore): WebSocketConnection<U> {
  return wrap(core);
}

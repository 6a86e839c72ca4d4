/**
 * The seam between a runtime and the shared core: what every adapter provides for one
 * connection ({@linkcode Transport}), what it says it can do ({@linkcode Capabilities}),
 * and what it reports back ({@linkcode TransportEvents}).
 *
 * @module
 */

import type { WsxErrorCode } from "../errors.ts";

/**
 * What a write did: `"sent"` handed to the socket, `"queued"` accepted behind
 * backpressure, `"dropped"` refused by the outbound cap, `"closed"` refused because the
 * connection is closing or closed. Success is `"sent"` or `"queued"`.
 *
 * @example
 * ```ts
 * import type { WriteResult } from "./transport.ts";
 * const ok = (r: WriteResult): boolean => r === "sent" || r === "queued";
 * ```
 */
export type WriteResult = "sent" | "queued" | "dropped" | "closed";

/**
 * What a runtime does natively. The core fills in the rest, and the conformance suite
 * skips only the cases a flag rules out.
 *
 * @example
 * ```ts
 * import type { Capabilities } from "./transport.ts";
 * const caps: Capabilities = {
 *   ping: true, inboundControlFrames: true, pongs: true,
 *   enforcesMaxMsgSize: true, runtimeKeepalive: false, headersOn101: true, streaming: true,
 *   abort: true,
 * };
 * ```
 */
export interface Capabilities {
  /** The core can send a ping frame. */
  readonly ping: boolean;
  /** Inbound pings and pongs are reported, so they count as signs of life. */
  readonly inboundControlFrames: boolean;
  /** Inbound pongs are reported, so a ping round trip can be measured. */
  readonly pongs: boolean;
  /** The runtime closes oversized messages with 1009 before buffering them whole. */
  readonly enforcesMaxMsgSize: boolean;
  /** The runtime pings idle connections itself (Deno's `idleTimeout`). */
  readonly runtimeKeepalive: boolean;
  /** Headers and cookies can be added to the 101 response. */
  readonly headersOn101: boolean;
  /**
   * permessage-deflate (RFC 7692): `"per-upgrade"` wsx's engine negotiates it with the
   * setting or each upgrade's override; `"per-server"` the runtime does, with the setting
   * in force when the server started (Bun: it declines offers that carry
   * `server_max_window_bits`, and `upgrade()`'s override is ignored); `"none"` never
   * negotiated (Deno's native server has no such option). @default {"none"}
   */
  readonly perMessageDeflate?: "per-upgrade" | "per-server" | "none";
  /**
   * A message can be taken as a stream while it arrives (`onStream`), with reading paused
   * while its reader is behind. Without it (the runtimes' own WebSocket servers), every
   * message arrives whole and stays bounded by `maxMsgSize`.
   */
  readonly streaming: boolean;
  /**
   * The socket can be cut at once, so a peer that stops reading holds no memory past
   * the close timeout. Deno's native WebSocket has no such call: there a close frame
   * waits behind the bytes queued for a peer that does not read.
   */
  readonly abort: boolean;
}

/**
 * Where the payload of a message taken as a stream goes, part by part, in order.
 *
 * @example Count the bytes
 * ```ts
 * import type { MessageParts } from "./transport.ts";
 * let size = 0;
 * const parts: MessageParts = { part(bytes, last) { size += bytes.byteLength; if (last) console.log(size); } };
 * ```
 */
export interface MessageParts {
  /**
   * The next bytes (text only cut between code points; a view the receiver may keep);
   * `last` on the final part, which may be empty.
   */
  part(bytes: Uint8Array, last: boolean): void;
}

/**
 * What an application sees of a message when it chooses whether to stream it
 * (`streamWhen`): the header of the message's first frame, nothing more.
 *
 * @example Stream what is large or of unknown size
 * ```ts
 * import type { MessageStart } from "./transport.ts";
 * const streamWhen = (info: MessageStart): boolean => !info.fin || info.length > 65536;
 * ```
 */
export interface MessageStart {
  /** A text message (its stream carries UTF-8 bytes) rather than a binary one. */
  readonly isText: boolean;
  /**
   * The payload length of the first frame, in bytes: the whole message's length when
   * `fin` is true and the message is not compressed.
   */
  readonly length: number;
  /** Whether the first frame is also the last: when false, the total size is unknown. */
  readonly fin: boolean;
  /**
   * Whether the message is compressed (permessage-deflate): `length` is then the
   * compressed size. Streamed, it is inflated as it arrives (bounded by `maxStreamSize`
   * and by the reader's window); whole, it is inflated within `maxMsgSize`.
   */
  readonly compressed: boolean;
}

/**
 * One connection as the runtime sees it. Methods never throw.
 *
 * @example A transport that discards everything
 * ```ts
 * import type { Transport } from "./transport.ts";
 * const t: Transport = {
 *   capabilities: {
 *     ping: false, inboundControlFrames: false, pongs: false,
 *     enforcesMaxMsgSize: false, runtimeKeepalive: false, headersOn101: false,
 *     streaming: false,
 *     abort: false,
 *   },
 *   send: () => "sent", close: () => {}, terminate: () => {}, ping: () => {},
 *   bufferedAmount: 0, raw: null,
 * };
 * ```
 */
export interface Transport {
  /** What this runtime does natively. */
  readonly capabilities: Capabilities;
  /**
   * Sends one message; `isText` selects a text or a binary frame. `compress: false` asks
   * that it not be compressed (permessage-deflate); transports without it ignore it.
   */
  send(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult;
  /**
   * Starts the closing handshake with a valid close code and a reason of at most 123
   * bytes. `dropQueued` (a backlog over `maxBufferedBytes`): messages not yet started are
   * dropped, so the close frame follows the one in progress; transports that cannot
   * ignore it.
   */
  close(code: number, reason: string, dropQueued?: boolean): void;
  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void;
  /** Sends a ping frame, where {@linkcode Capabilities.ping} says it can. */
  ping(): void;
  /**
   * Encodes a message once for many connections of this runtime (optional: broadcasts
   * and publishes then write the same bytes to every receiver).
   */
  encode?(data: string | Uint8Array, isText: boolean): unknown;
  /** Sends what {@linkcode Transport.encode} returned. */
  sendEncoded?(encoded: unknown): WriteResult;
  /**
   * Subscribes the socket to a topic of the runtime's own pub/sub (optional: Bun). The
   * server group then publishes to the topic natively (`ServerGroup.publishNative`).
   */
  subscribe?(topic: string): void;
  /** Ends a subscription made with {@linkcode Transport.subscribe}. */
  unsubscribe?(topic: string): void;
  /** Publishes to the runtime's topic from this socket, leaving this socket out. */
  publishFrom?(topic: string, data: string | Uint8Array, isText: boolean): void;
  /**
   * Stops reading from the peer until {@linkcode Transport.resume} (where
   * {@linkcode Capabilities.streaming} says so): a streamed message's reader is behind.
   */
  pause?(): void;
  /** Reads from the peer again after {@linkcode Transport.pause}. */
  resume?(): void;
  /**
   * Writes now what the transport holds back only to batch it (replies gathered for the
   * end of the turn), so that {@linkcode Transport.bufferedAmount} then counts a real
   * backlog alone. Transports that hold nothing back leave it out.
   *
   * @returns Whether anything was written.
   */
  writeHeld?(): boolean;
  /** Bytes accepted by {@linkcode Transport.send} and not yet written to the socket. */
  readonly bufferedAmount: number;
  /** The runtime's own socket object. */
  readonly raw: unknown;
}

/**
 * What an adapter reports to the core for one connection, in this order: `open` once,
 * then any number of `message`, `heard`, `pong` and `drain`, then `closed` exactly once.
 *
 * @example
 * ```ts
 * import type { TransportEvents } from "./transport.ts";
 * const events: TransportEvents = {
 *   open() {}, message(data, isText) { console.log(isText, data); },
 *   heard() {}, pong() {}, drain() {}, closed(code, reason) { console.log(code, reason); },
 * };
 * ```
 */
export interface TransportEvents {
  /** The handshake is complete; the connection is open. */
  open(): void;
  /** A whole message arrived: a string when `isText`, else an exact Uint8Array view. */
  message(data: string | Uint8Array, isText: boolean): void;
  /**
   * A data message starts (transports that can stream): the header of its first frame.
   * Returns where its payload goes to take it as a stream (never through `message`
   * then), or `undefined` to have it whole.
   */
  messageStart?(
    isText: boolean,
    length: number,
    fin: boolean,
    compressed: boolean,
  ): MessageParts | undefined;
  /**
   * Whether `messageStart` can ever take a message (the application handles `onStream`),
   * fixed for the connection's life: when false, a transport need not offer each message.
   */
  readonly streams?: boolean;
  /** Any inbound frame arrived (data or control): the peer is alive. */
  heard(): void;
  /** A pong arrived. */
  pong(): void;
  /** The outbound queue emptied after backpressure. */
  drain(): void;
  /**
   * The connection is gone: the close code and reason (1005 with no code, 1006 when
   * abnormal), and the entry of the error table when the engine or the runtime failed
   * the connection itself (the core counts by this code, never by the reason's text).
   */
  closed(code: number, reason: string, error?: WsxErrorCode): void;
}

/**
 * Bun's `ServerWebSocket` behind the wsx {@linkcode Transport} seam.
 *
 * @module
 */

import type { Capabilities, Transport, WriteResult } from "../core/transport.ts";
import { asBytes, asText } from "./convert.ts";
import { ERRORS, type WsxErrorCode } from "../errors.ts";

/**
 * The part of Bun's `ServerWebSocket` wsx uses.
 *
 * @example
 * ```ts
 * import type { BunSocket } from "./bun.ts";
 * ```
 */
export interface BunSocket {
  /** The per-connection data given to `server.upgrade` (wsx's connection). */
  readonly data: unknown;
  /** `1` while open. */
  readonly readyState: number;
  /** Sends a string as text and bytes as binary, compressed as `sendText` says. */
  send(data: string | Uint8Array, compress?: boolean): number;
  /** Sends text, compressed when `compress` and permessage-deflate was negotiated. */
  sendText(data: string, compress?: boolean): number;
  /** Sends binary, compressed when `compress` and permessage-deflate was negotiated. */
  sendBinary(data: Uint8Array, compress?: boolean): number;
  /** Closes with a code and reason. */
  close(code?: number, reason?: string): void;
  /** Destroys the connection. */
  terminate(): void;
  /** Sends a ping. */
  ping(data?: Uint8Array): number;
  /** Bytes queued. */
  getBufferedAmount(): number;
  /** Subscribes to a topic of Bun's pub/sub. */
  subscribe(topic: string): void;
  /** Unsubscribes from a topic of Bun's pub/sub. */
  unsubscribe(topic: string): void;
  /** Publishes to a topic, leaving this socket out. */
  publish(topic: string, data: string | Uint8Array): number;
}

const CAPABILITIES: Capabilities = Object.freeze({
  ping: true,
  inboundControlFrames: true,
  pongs: true,
  // Bun's cap is fixed per server; the core also checks the live value.
  enforcesMaxMsgSize: false,
  runtimeKeepalive: false,
  headersOn101: true,
  perMessageDeflate: "per-server",
  // Bun.serve hands over whole messages only.
  streaming: false,
  abort: true,
});

/** What Bun reports (as 1006) after it refused a message over maxPayloadLength. */
export const BUN_TOO_BIG = "Received too big message";

// Bun (uWebSockets) closes a connection that breaks the protocol with the right close
// frame on the wire (checked with hand-made frames on Bun 1.4.5), but tells its close
// handler 1006 and its own reason. Each reason, with the code Bun sent on the wire and
// the entry of the wsx table for the same case, so that onClose reads as on Node.
const BUN_FAILURES: ReadonlyMap<string, WsxErrorCode | 1007> = new Map<
  string,
  WsxErrorCode | 1007
>([
  [BUN_TOO_BIG, "message-too-big"],
  ["Received an incorrectly masked frame", "frame-unmasked"],
  ["Received invalid opcode", "frame-opcode"],
  ["Received unexpected RSV1 bit", "frame-rsv"],
  ["Received unexpected RSV2 or RSV3 bit", "frame-rsv"],
  ["Received invalid close payload", "close-payload"],
  ["Received invalid close code", "close-code"],
  ["Received too big control frame", "control-too-long"],
  ["Received fragmented control frame", "control-fragmented"],
  ["Received continuation frame outside a fragmented message", "unexpected-continuation"],
  ["Received new message inside a fragmented message", "expected-continuation"],
  // Sent for a text message and for a close reason alike, so no one entry of the table
  // fits: 1007 with Bun's own words.
  ["Received invalid UTF-8", 1007],
]);

/**
 * The close code and reason wsx reports for what Bun's close handler got: a protocol
 * error Bun reported as 1006 becomes the code Bun sent on the wire.
 *
 * @param code The code Bun's close handler got.
 * @param reason The reason Bun's close handler got.
 * @returns The code and reason for onClose, and the error-table entry Bun's reason maps to.
 * @example
 * ```ts
 * import { bunCloseInfo } from "./bun_transport.ts";
 * bunCloseInfo(1006, "Received invalid opcode"); // [1002, "Invalid frame: reserved opcode", "frame-opcode"]
 * ```
 */
export function bunCloseInfo(
  code: number,
  reason: string,
): [code: number, reason: string, error?: WsxErrorCode] {
  const failure = code === 1006 ? BUN_FAILURES.get(reason) : undefined;
  if (failure === undefined) return [code, reason];
  if (typeof failure === "number") return [failure, reason];
  return [ERRORS[failure].closeCode, ERRORS[failure].message, failure];
}

const EMPTY = 1, SUBSCRIBED = 2;

/**
 * One Bun `ServerWebSocket` as a wsx {@linkcode Transport}.
 *
 * @example
 * ```ts
 * import { BunTransport, type BunSocket } from "./bun_transport.ts";
 * declare const ws: BunSocket;
 * const transport = new BunTransport(ws);
 * ```
 */
export class BunTransport implements Transport {
  /** Bun's socket. */
  readonly raw: BunSocket;
  // Not #private, like the methods send() calls: JavaScriptCore inlines only functions
  // of a small bytecode size, and each use of a #private name costs several instructions.
  protected readonly threshold: number;
  // EMPTY: Bun's queue is known to be empty, so bufferedAmount (read by every write)
  // need not ask Bun. Bun's queue only grows when a frame goes out: a send that answers
  // -1 (queued), a ping, the pong Bun sends for an inbound ping (pinged()), a close
  // frame, or a publish reaching a SUBSCRIBED socket; each of these clears EMPTY, and
  // it is set again once Bun reports an empty queue. A send that answers a byte count
  // left nothing queued. Both in one field: every open connection has a transport.
  #flags = 0;

  /** What Bun's server does for wsx: the same for every socket. */
  get capabilities(): Capabilities {
    return CAPABILITIES;
  }

  /**
   * @param ws Bun's socket.
   * @param threshold Messages of at least this many bytes (UTF-16 units for text) are
   * compressed when Bun negotiated permessage-deflate. @default {Infinity}
   */
  constructor(ws: BunSocket, threshold: number = Infinity) {
    this.raw = ws;
    this.threshold = threshold;
  }

  send(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult {
    // Most writes: a string as text or bytes as binary (what Bun's send() does with
    // each). Kept this small so that JavaScriptCore inlines it into the handler that
    // writes; the rest is apart. Without permessage-deflate there is no threshold to
    // compare with (BunDeflateTransport adds it).
    if (isText !== (typeof data === "string")) return this.sendOther(data, isText, compress);
    const status = this.raw.send(data);
    // Bun: bytes sent, -1 queued behind backpressure, 0 dropped or the socket closed.
    return status > 0 ? "sent" : this.unsent(status, data);
  }

  /** Sends what {@linkcode BunTransport.send} leaves apart: converted or compressed. */
  protected sendOther(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult {
    const ws = this.raw, packed = compress !== false && data.length >= this.threshold;
    const status = isText
      ? ws.sendText(asText(data), packed)
      : ws.sendBinary(asBytes(data), packed);
    return status > 0 ? "sent" : this.unsent(status, data);
  }

  protected unsent(status: number, data: string | Uint8Array): WriteResult {
    if (status === -1) {
      this.#flags &= ~EMPTY;
      return "queued";
    }
    if (this.raw.readyState !== 1) return "closed";
    // An empty message on an open socket also gives 0 (no payload byte) though its frame went.
    return data.length === 0 ? "sent" : "dropped";
  }

  close(code: number, reason: string): void {
    this.#flags &= ~EMPTY;
    try {
      this.raw.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  terminate(): void {
    try {
      this.raw.terminate();
    } catch {
      // Already closed.
    }
  }

  ping(): void {
    this.#flags &= ~EMPTY;
    this.raw.ping();
  }

  /** An inbound ping arrived: Bun answers it with a pong of its own. */
  pinged(): void {
    this.#flags &= ~EMPTY;
  }

  subscribe(topic: string): void {
    // Publishes reach a subscribed socket without a send of its own: ask Bun from now on.
    this.#flags = SUBSCRIBED;
    this.raw.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    // A closed socket has left its topics already.
    if (this.raw.readyState === 1) this.raw.unsubscribe(topic);
  }

  publishFrom(topic: string, data: string | Uint8Array, isText: boolean): void {
    this.raw.publish(topic, isText ? asText(data) : asBytes(data));
  }

  get bufferedAmount(): number {
    return this.#flags & EMPTY ? 0 : this.#askBuffered();
  }

  #askBuffered(): number {
    const buffered = this.raw.getBufferedAmount();
    if (buffered === 0 && !(this.#flags & SUBSCRIBED)) this.#flags |= EMPTY;
    return buffered;
  }
}

/**
 * A {@linkcode BunTransport} on a server with permessage-deflate: messages of at least
 * the threshold go out compressed. Apart so that the transports of the other servers
 * compare nothing with a threshold per write.
 *
 * @example
 * ```ts
 * import { BunDeflateTransport, type BunSocket } from "./bun_transport.ts";
 * declare const ws: BunSocket;
 * const transport = new BunDeflateTransport(ws, 1024);
 * ```
 */
export class BunDeflateTransport extends BunTransport {
  override send(data: string | Uint8Array, isText: boolean, compress?: boolean): WriteResult {
    if (isText !== (typeof data === "string") || data.length >= this.threshold) {
      return this.sendOther(data, isText, compress);
    }
    const status = this.raw.send(data);
    return status > 0 ? "sent" : this.unsent(status, data);
  }
}

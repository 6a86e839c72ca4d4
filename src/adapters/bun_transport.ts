/**
 * Bun's `ServerWebSocket` behind the wsx {@linkcode Transport} seam.
 *
 * @module
 */

import type { Capabilities, Transport, WriteResult } from "./adapter.ts";
import { asBytes, asText } from "./convert.ts";

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
  /** Sends text. */
  sendText(data: string): number;
  /** Sends binary. */
  sendBinary(data: Uint8Array): number;
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
});

/** What Bun reports (as 1006) after it refused a message over maxPayloadLength. */
export const BUN_TOO_BIG = "Received too big message";

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
  readonly capabilities: Capabilities = CAPABILITIES;
  readonly #ws: BunSocket;

  constructor(ws: BunSocket) {
    this.#ws = ws;
  }

  send(data: string | Uint8Array, isText: boolean): WriteResult {
    const ws = this.#ws;
    const status = isText ? ws.sendText(asText(data)) : ws.sendBinary(asBytes(data));
    // Bun: bytes sent, -1 queued behind backpressure, 0 dropped (connection gone).
    return status > 0 ? "sent" : status === -1 ? "queued" : "closed";
  }

  close(code: number, reason: string): void {
    try {
      this.#ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  terminate(): void {
    try {
      this.#ws.terminate();
    } catch {
      // Already closed.
    }
  }

  ping(): void {
    this.#ws.ping();
  }

  subscribe(topic: string): void {
    this.#ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    // A closed socket has left its topics already.
    if (this.#ws.readyState === 1) this.#ws.unsubscribe(topic);
  }

  publishFrom(topic: string, data: string | Uint8Array, isText: boolean): void {
    this.#ws.publish(topic, isText ? asText(data) : asBytes(data));
  }

  get bufferedAmount(): number {
    return this.#ws.getBufferedAmount();
  }

  get raw(): unknown {
    return this.#ws;
  }
}

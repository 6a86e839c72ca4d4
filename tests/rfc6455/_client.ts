/**
 * A raw TCP WebSocket client for the engine tests: it writes masked frames by hand and
 * reads server frames with its own small reader, independent of the engine's parser.
 *
 * @module
 */

import { connect, type Socket } from "node:net";

/** One frame read from the server. */
export interface ServerFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Uint8Array;
}

/** Options for {@linkcode clientFrame}. */
export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  key?: number;
  masked?: boolean;
}

/** Builds one client frame, masked with `key` (random by default). */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string,
  o: FrameOptions = {},
): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const n = data.byteLength, masked = o.masked ?? true;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (masked ? 4 : 0) + n);
  out[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  out[1] = (masked ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  const dv = new DataView(out.buffer);
  if (ext === 2) dv.setUint16(2, n);
  if (ext === 8) dv.setBigUint64(2, BigInt(n));
  let at = 2 + ext;
  const key = o.key ?? (Math.random() * 2 ** 32) >>> 0;
  if (masked) {
    dv.setUint32(at, key);
    at += 4;
  }
  const k = [key >>> 24, (key >>> 16) & 255, (key >>> 8) & 255, key & 255];
  for (let i = 0; i < n; i++) out[at + i] = masked ? data[i] ^ k[i & 3] : data[i];
  return out;
}

/** The payload of a close frame. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const r = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 255;
  out.set(r, 2);
  return out;
}

/** A client connection after a successful handshake. */
export class RawClient {
  readonly socket: Socket;
  #buf: Uint8Array = new Uint8Array(0);
  #waiters: (() => void)[] = [];
  #ended = false;
  readonly ended: Promise<void>;

  private constructor(socket: Socket, rest: Uint8Array) {
    this.socket = socket;
    this.#buf = rest;
    socket.on("data", (c: Uint8Array) => {
      this.#buf = concat(this.#buf, c);
      this.#wake();
    });
    this.ended = new Promise((resolve) => {
      socket.on("close", () => {
        this.#ended = true;
        this.#wake();
        resolve();
      });
    });
    socket.on("error", () => {});
  }

  /** Connects and completes the opening handshake. */
  static async connect(port: number, extraHeaders = ""): Promise<RawClient> {
    const socket = connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        extraHeaders + "\r\n",
    );
    let head: Uint8Array = new Uint8Array(0);
    for (;;) {
      const chunk: Uint8Array = await new Promise((resolve, reject) => {
        socket.once("data", resolve);
        socket.once("close", () => reject(new Error("closed during handshake")));
      });
      head = concat(head, chunk);
      const text = Buffer.from(head).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      if (!text.startsWith("HTTP/1.1 101")) throw new Error(`handshake refused: ${text}`);
      socket.pause();
      const client = new RawClient(socket, head.subarray(end + 4));
      socket.resume();
      return client;
    }
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Writes bytes in pieces of `size`, one write per piece. */
  async writeChunked(bytes: Uint8Array, size: number, delayMs = 0): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      this.socket.write(bytes.subarray(i, i + size));
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  /** Sends one masked frame. */
  send(
    opcode: number,
    payload: Uint8Array | string = new Uint8Array(0),
    o: FrameOptions = {},
  ): void {
    this.write(clientFrame(opcode, payload, o));
  }

  /** Reads the next server frame; rejects after `timeoutMs` or when the socket closes. */
  async read(timeoutMs = 5000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#take();
      if (frame !== null) return frame;
      if (this.#ended) throw new Error("socket closed before a whole frame");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads the next frame and expects a close with `code`, then the socket to end. */
  async expectClose(code: number | null, timeoutMs = 5000): Promise<ServerFrame> {
    const frame = await this.read(timeoutMs);
    if (frame.opcode !== 8) throw new Error(`expected a close frame, got opcode ${frame.opcode}`);
    const got = frame.payload.length >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : null;
    if (got !== code) throw new Error(`expected close code ${code}, got ${got}`);
    return frame;
  }

  /** Whether the socket closed within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), timeoutMs)));
    const result = await Promise.race([this.ended.then(() => true), timeout]);
    clearTimeout(t);
    return result;
  }

  /** Bytes received and not yet read as frames. */
  get pending(): number {
    return this.#buf.length;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #take(): ServerFrame | null {
    const b = this.#buf;
    if (b.length < 2) return null;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f, at = 2;
    if (len === 126) {
      if (b.length < 4) return null;
      len = (b[2] << 8) | b[3];
      at = 4;
    } else if (len === 127) {
      if (b.length < 10) return null;
      len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
      at = 10;
    }
    if (masked) at += 4;
    if (b.length < at + len) return null;
    const payload = b.slice(at, at + len);
    this.#buf = b.subarray(at + len);
    return { fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 15, masked, payload };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

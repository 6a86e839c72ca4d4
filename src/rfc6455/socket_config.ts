/**
 * What every `NodeWebSocket` (`socket.ts`) of the process shares: its options resolved once
 * per options object, the output slab, and Node's fast UTF-8 helpers.
 *
 * @module
 */

import { Buffer, isUtf8 } from "node:buffer";
import type { Capabilities } from "../core/transport.ts";
import type { Utf8Write } from "./encoder.ts";
import type { OutboxOptions } from "./outbox.ts";
import { OutputSlab } from "./slab.ts";
import type { ParserOptions } from "./types.ts";
import type { MessageLimits, Utf8Decode } from "./types.ts";

/**
 * How a `NodeWebSocket` (`socket.ts`) behaves. Share one object between connections.
 *
 * @example Share options between connections
 * ```ts
 * import type { NodeWebSocketOptions } from "./socket_config.ts";
 * const options: NodeWebSocketOptions = { limits: { maxMsgSize: 1 << 20 }, closeTimeoutMs: 5000 };
 * ```
 */
export interface NodeWebSocketOptions {
  /** The live limits, read each time a message starts. */
  readonly limits: MessageLimits;
  /** How long to wait for the peer's close frame after sending ours. @default {5000} */
  readonly closeTimeoutMs?: number;
  /** The most frames one message may span. @default {1024} */
  readonly maxFragments?: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

const allocate = (size: number): Uint8Array => Buffer.allocUnsafeSlow(size);

// Buffer#toString slices without a view; assembled messages are plain Uint8Arrays.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const nodeDecode: Utf8Decode = (b, s, e) =>
  b instanceof Buffer ? b.toString("utf8", s, e) : textDecoder.decode(b.subarray(s, e));

// Slabs come from Buffer.allocUnsafeSlow, so the target is always a Buffer. Its native
// utf8Write skips the argument juggling of Buffer#write (about a third of the cost for
// short strings); it is undocumented, so fall back to write when it is missing.
interface FastBuffer extends Buffer {
  utf8Write?(text: string, offset: number): number;
}
const nodeUtf8Write: Utf8Write = typeof (Buffer.prototype as FastBuffer).utf8Write === "function"
  ? (text, target, offset) => (target as FastBuffer).utf8Write!(text, offset)
  : (text, target, offset) => (target as Buffer).write(text, offset);

/**
 * What every connection's outbox shares: one slab for every connection (its Buffer
 * regions go to socket.write without conversion) and Node's UTF-8 encoders.
 *
 * @example
 * ```ts
 * import { outboxOptions } from "./socket_config.ts";
 * console.log(outboxOptions.slab.tail);
 * ```
 */
export const outboxOptions: OutboxOptions = {
  slab: new OutputSlab(65536, (n) => Buffer.allocUnsafeSlow(n)),
  utf8Write: nodeUtf8Write,
  encodeUtf8: (text) => Buffer.from(text, "utf8"),
};

/**
 * Options resolved once per options object, shared by its connections.
 *
 * @example
 * ```ts
 * import { type Config, configFor } from "./socket_config.ts";
 * const config: Config = configFor({ limits: { maxMsgSize: 1024 } });
 * console.log(config.closeTimeoutMs); // 5000
 * ```
 */
export interface Config {
  /** What the frame parser reads. */
  readonly parser: ParserOptions;
  /** How long to wait for the peer's close frame, in ms. */
  readonly closeTimeoutMs: number;
}

const configs = new WeakMap<NodeWebSocketOptions, Config>();
// The options last asked for, and their config. (Held strongly: one options object, whose
// server may be gone; the config holds nothing of a connection.)
const last: { options?: NodeWebSocketOptions; config?: Config } = {};
/**
 * The resolved options of an options object, made once.
 *
 * @param options The options a connection was given.
 * @returns The resolved options, shared by every connection given the same object.
 * @example
 * ```ts
 * import { configFor } from "./socket_config.ts";
 * const options = { limits: { maxMsgSize: 1024 } };
 * configFor(options) === configFor(options); // true
 * ```
 */
export function configFor(options: NodeWebSocketOptions): Config {
  // A server's connections share one options object: the last one is at hand without a
  // WeakMap lookup.
  if (options === last.options) return last.config!;
  let config = configs.get(options);
  if (config === undefined) {
    const { limits, maxFragments, closeTimeoutMs = DEFAULT_CLOSE_TIMEOUT_MS } = options;
    // A split payload's buffer is filled before anyone sees it: no need to zero it.
    const parser = { limits, maxFragments, isUtf8, decodeUtf8: nodeDecode, allocate };
    config = { parser, closeTimeoutMs };
    configs.set(options, config);
  }
  last.options = options;
  last.config = config;
  return config;
}

/**
 * What the Node.js engine does natively: everything but runtime keepalive.
 *
 * @example
 * ```ts
 * import { NODE_CAPABILITIES } from "./socket_config.ts";
 * console.log(NODE_CAPABILITIES.pongs); // true
 * ```
 */
export const NODE_CAPABILITIES: Capabilities = Object.freeze({
  ping: true,
  inboundControlFrames: true,
  pongs: true,
  enforcesMaxMsgSize: true,
  runtimeKeepalive: false,
  headersOn101: true,
  perMessageDeflate: "per-upgrade",
  streaming: true,
  abort: true,
});

type StreamState = { readingMore?: boolean };

/**
 * Stops a socket's read-ahead. After every chunk a readable stream schedules one
 * (`maybeReadMore`: a `process.nextTick` that calls `read(0)` while its buffer is below
 * the high-water mark), but a `node:net` socket's handle reads on by itself until the
 * buffer is full, and `resume()` restarts it after a pause: for the engine's sockets
 * that tick, one per read (the handshake's head included), does nothing. Marked as
 * under way, it is never scheduled. A stream without that state is left alone.
 *
 * @param socket A socket the engine reads.
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { noReadAhead } from "./socket_config.ts";
 * noReadAhead(new Socket());
 * ```
 */
export function noReadAhead(socket: object): void {
  // Only a socket over a native handle reads on by itself; a stream whose _read pulls
  // (a Duplex handed to node:http by a proxy or a test) needs the read-ahead to go on.
  const handle = (socket as { _handle?: { readStart?: unknown } | null })._handle;
  if (typeof handle?.readStart !== "function") return;
  const state = (socket as { _readableState?: StreamState })._readableState;
  if (state?.readingMore === false) state.readingMore = true;
}

/**
 * permessage-deflate on one connection of the engine: the inflater the parser uses, and
 * the decision to compress a message on its way out (a size threshold, and the writer's
 * opt-out). A broadcast is compressed once for every receiver with the same settings
 * ({@linkcode packedFrame}).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { DeflateConfig } from "../../core/deflate_options.ts";
import { COPY_LIMIT, encodeFrame, OPCODE } from "../encoder.ts";
import type { OutboxOptions } from "../outbox.ts";
import { encodeForMany, encodeShared } from "../shared_frame.ts";
import type { SlabFrame } from "../slab.ts";
import { deflateMessage, type DeflateSettings, openInflate, rawInflate } from "./codec.ts";
import { Inflater } from "./inflater.ts";
import { type DeflateParams, negotiateDeflate } from "./negotiate.ts";

/**
 * RSV1: set on the first frame of a compressed message
 * ([RFC 7692 section 6](https://www.rfc-editor.org/rfc/rfc7692#section-6)). OR it into
 * an opcode: the encoder writes `0x80 | opcode`.
 *
 * @example
 * ```ts
 * import { RSV1 } from "./session.ts";
 * console.log((0x80 | RSV1 | 1).toString(16)); // "c1"
 * ```
 */
export const RSV1 = 0x40;

const settingsCache = new Map<string, DeflateSettings>();
// One frozen settings object per distinct (level, memLevel, window): receivers that
// share it share a broadcast's compressed frame.
function settingsFor(level: number, memLevel: number, windowBits: number): DeflateSettings {
  const key = `${level}/${memLevel}/${windowBits}`;
  let s = settingsCache.get(key);
  if (s === undefined) settingsCache.set(key, s = Object.freeze({ level, memLevel, windowBits }));
  return s;
}

// The last `max` bytes of `a` followed by `b`, in a new buffer.
function lastBytes(a: Uint8Array, b: Uint8Array, max: number): Uint8Array {
  if (b.byteLength >= max) return b.slice(b.byteLength - max);
  const keep = Math.min(a.byteLength, max - b.byteLength);
  const out = new Uint8Array(keep + b.byteLength);
  out.set(a.subarray(a.byteLength - keep));
  out.set(b, keep);
  return out;
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

// What a broadcast's plain frame was made from, and its compressed frames made so far,
// kept beside the frame so `Transport.encode` still returns the plain frame.
interface Packs {
  readonly data: string | Uint8Array;
  readonly isText: boolean;
  readonly frames: Array<readonly [DeflateSettings, SlabFrame | Uint8Array[]]>;
}
const packsOf = new WeakMap<object, Packs>();
// Set once a connection negotiates the extension: before that, a broadcast pays nothing.
let inUse = false;

/**
 * Encodes a message once for many receivers (`encodeForMany`), and when some connection
 * uses permessage-deflate, remembers what the frame was made from, so that
 * {@linkcode packedFrame} can compress it once for every receiver with the same settings.
 *
 * @param options The shared slab and encoders.
 * @param data The message.
 * @param isText A text message when true.
 * @returns The plain frame, for `Outbox.shared` or `Outbox.frame`.
 * @example
 * ```ts
 * import { encodeBroadcast } from "./session.ts";
 * import { OutputSlab } from "../slab.ts";
 * console.log(Array.isArray(encodeBroadcast({ slab: new OutputSlab() }, "hi", true))); // false
 * ```
 */
export function encodeBroadcast(
  options: OutboxOptions,
  data: string | Uint8Array,
  isText: boolean,
): SlabFrame | Uint8Array[] {
  const frame = encodeForMany(options, data, isText);
  if (inUse) packsOf.set(frame, { data, isText, frames: [] });
  return frame;
}

/**
 * The compressed frame of a broadcast for receivers with these settings, compressed on
 * first use and then shared.
 *
 * @param options The shared slab and encoders.
 * @param frame A frame from {@linkcode encodeBroadcast}.
 * @param session The receiver's permessage-deflate.
 * @returns The frame with RSV1 set, or `null` when the message stays plain.
 * @example
 * ```ts
 * import { packedFrame } from "./session.ts";
 * ```
 */
export function packedFrame(
  options: OutboxOptions,
  frame: object,
  session: DeflateSession,
): SlabFrame | Uint8Array[] | null {
  const packs = packsOf.get(frame);
  if (packs === undefined || !session.wants(packs.data.length)) return null;
  if (session.takeover) {
    // Compressed against this connection's own history: nothing to share.
    const own = session.pack(packs.data)!;
    return encodeFrame((packs.isText ? OPCODE.text : OPCODE.binary) | RSV1, own);
  }
  const settings = session.settings;
  for (const [s, packed] of packs.frames) if (s === settings) return packed;
  const payload = deflateMessage(bytesOf(packs.data), settings);
  const opcode = (packs.isText ? OPCODE.text : OPCODE.binary) | RSV1;
  const packed = payload.byteLength <= COPY_LIMIT
    ? encodeShared(options, opcode, payload)
    : encodeFrame(opcode, payload);
  packs.frames.push([settings, packed]);
  return packed;
}

/**
 * permessage-deflate as agreed on one connection.
 *
 * @example
 * ```ts
 * import { DeflateSession } from "./session.ts";
 * import { DEFAULT_DEFLATE } from "../../core/deflate_options.ts";
 * const session = new DeflateSession(DEFAULT_DEFLATE, { serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
 * console.log(session.pack("x".repeat(2048))!.byteLength < 100); // true
 * ```
 */
export class DeflateSession {
  /** The parser's inflater for this connection. */
  readonly inflater: Inflater = new Inflater(rawInflate, openInflate);
  /** How this connection's messages are compressed. */
  readonly settings: DeflateSettings;
  #threshold: number;
  // Server context takeover: the last 2^windowBits bytes of the messages compressed so
  // far, which the peer's inflater holds as its window. Null without takeover.
  #history: Uint8Array | null;

  /**
   * Sets up permessage-deflate for one connection.
   *
   * @param config The server's options.
   * @param params What the handshake agreed.
   */
  constructor(config: DeflateConfig, params: DeflateParams) {
    inUse = true;
    this.#threshold = config.threshold;
    this.settings = settingsFor(config.level, config.memLevel, params.serverMaxWindowBits);
    this.#history = params.serverContextTakeover ? new Uint8Array(0) : null;
  }

  /** Whether this connection keeps its compression context (no shared broadcast frames). */
  get takeover(): boolean {
    return this.#history !== null;
  }

  /**
   * Whether a message of about this size is compressed.
   *
   * @param size Its size in bytes (UTF-16 units for a string: a lower bound).
   * @returns `true` at or above the threshold.
   */
  wants(size: number): boolean {
    return size >= this.#threshold;
  }

  /**
   * Compresses a message when it reaches the threshold.
   *
   * @param data The message; a string is compressed as UTF-8.
   * @returns The compressed payload, or `null` to send it plain.
   */
  pack(data: string | Uint8Array): Uint8Array | null {
    if (!this.wants(data.length)) return null;
    const bytes = bytesOf(data), history = this.#history;
    if (history === null) return deflateMessage(bytes, this.settings);
    const out = deflateMessage(bytes, this.settings, history);
    this.#history = lastBytes(history, bytes, 1 << this.settings.windowBits);
    return out;
  }
}

/**
 * Negotiates permessage-deflate for one upgrade (`negotiate.ts`) and sets it up.
 *
 * @param offer The request's `Sec-WebSocket-Extensions`, or `null`.
 * @param config The server's options, or `null` when off.
 * @returns The 101's `Sec-WebSocket-Extensions` value and the session, or `null`.
 * @example
 * ```ts
 * import { agreeDeflate } from "./session.ts";
 * import { DEFAULT_DEFLATE } from "../../core/deflate_options.ts";
 * console.log(agreeDeflate("permessage-deflate", DEFAULT_DEFLATE)?.header);
 * ```
 */
export function agreeDeflate(
  offer: string | null,
  config: DeflateConfig | null,
): { readonly header: string; readonly session: DeflateSession } | null {
  if (config === null || offer === null) return null;
  const answer = negotiateDeflate(offer, config);
  if (answer === null) return null;
  return { header: answer.header, session: new DeflateSession(config, answer.params) };
}

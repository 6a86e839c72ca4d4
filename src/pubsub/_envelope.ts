/**
 * The bytes one published message travels as between processes. The topic travels as
 * the Redis channel name, so the envelope holds the rest. Version 2 adds a sequence
 * number (this origin's count of messages on the topic) so that receivers see gaps;
 * readers take both versions, so that processes of two wsx versions keep talking during
 * a rolling deploy.
 *
 * ```text
 * byte 0       version (1 or 2)
 * byte 1       flags: 1 = text, 2 = an excluded connection follows the origin
 * byte 2       origin length n (bytes, at most 255)
 * n bytes      origin, UTF-8 (PROCESS_ID of the publisher)
 * 4 bytes      sequence number, uint32 big-endian (version 2 only)
 * 8 bytes      excluded connection uuid, float64 big-endian (only with flag 2)
 * the rest     payload: UTF-8 for text, the bytes as they are for binary
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { PubSubMessage } from "../core/topics.ts";

/** The newest envelope version this module writes and reads. */
export const ENVELOPE_VERSION = 2;

const FLAG_TEXT = 1;
const FLAG_EXCLUDE = 2;

/**
 * Encodes a message, leaving its topic out (it travels as the channel name).
 *
 * @param message The message.
 * @param seq The sequence number (uint32): a version 2 envelope; without it, version 1.
 * @returns The envelope, as a `Buffer` (what the Redis client sends as bytes).
 * @throws {RangeError} When the origin is longer than 255 bytes.
 */
export function encodeEnvelope(message: PubSubMessage, seq?: number): Buffer {
  const origin = Buffer.from(message.origin, "utf8");
  if (origin.length > 255) {
    throw new RangeError(`Invalid origin: expected at most 255 bytes, got ${origin.length}`);
  }
  const exclude = message.exclude;
  const seqBytes = seq === undefined ? 0 : 4;
  const head = 3 + origin.length + seqBytes + (exclude === undefined ? 0 : 8);
  const data = message.data;
  const size = typeof data === "string" ? Buffer.byteLength(data, "utf8") : data.length;
  const out = Buffer.allocUnsafe(head + size);
  out[0] = seq === undefined ? 1 : 2;
  out[1] = (message.isText ? FLAG_TEXT : 0) | (exclude === undefined ? 0 : FLAG_EXCLUDE);
  out[2] = origin.length;
  origin.copy(out, 3);
  if (seq !== undefined) out.writeUInt32BE(seq >>> 0, 3 + origin.length);
  if (exclude !== undefined) out.writeDoubleBE(exclude, 3 + origin.length + seqBytes);
  if (typeof data === "string") out.write(data, head, "utf8");
  else out.set(data, head);
  return out;
}

/** A decoded envelope: the message, and its sequence number when version 2. */
export interface Envelope {
  readonly message: PubSubMessage;
  readonly seq: number | undefined;
}

/**
 * Reads an envelope of either version. A binary payload is copied out of the client's
 * read buffer, so that connections still holding it after this call never see those
 * bytes reused.
 *
 * @param bytes The envelope.
 * @param topic The topic (from the channel name).
 * @returns The message and its sequence number.
 * @throws {TypeError} When the bytes are not a version 1 or 2 envelope.
 */
export function readEnvelope(bytes: Buffer, topic: string): Envelope {
  const version = bytes[0];
  if (bytes.length < 3 || (version !== 1 && version !== 2)) {
    throw new TypeError(
      `Cannot decode a pub/sub message: expected envelope version 1 or 2, got ${
        bytes.length === 0 ? "no bytes" : version
      }`,
    );
  }
  const flags = bytes[1];
  const originEnd = 3 + bytes[2];
  const seqEnd = originEnd + (version === 2 ? 4 : 0);
  const head = seqEnd + (flags & FLAG_EXCLUDE ? 8 : 0);
  if (bytes.length < head) {
    throw new TypeError(`Cannot decode a pub/sub message: truncated at ${bytes.length} bytes`);
  }
  const origin = bytes.toString("utf8", 3, originEnd);
  const isText = (flags & FLAG_TEXT) !== 0;
  const data = isText ? bytes.toString("utf8", head) : new Uint8Array(bytes.subarray(head));
  const seq = version === 2 ? bytes.readUInt32BE(originEnd) : undefined;
  const message: PubSubMessage = flags & FLAG_EXCLUDE
    ? { topic, data, isText, origin, exclude: bytes.readDoubleBE(seqEnd) }
    : { topic, data, isText, origin };
  return { message, seq };
}

/**
 * Decodes an envelope of either version to its message.
 *
 * @param bytes The envelope.
 * @param topic The topic (from the channel name).
 * @returns The message.
 * @throws {TypeError} When the bytes are not a version 1 or 2 envelope.
 */
export function decodeEnvelope(bytes: Buffer, topic: string): PubSubMessage {
  return readEnvelope(bytes, topic).message;
}

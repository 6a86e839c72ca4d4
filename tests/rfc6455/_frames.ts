/**
 * Test helpers for frame-level tests: hex vectors, a recording sink, and the three ways
 * of feeding bytes (whole, one byte at a time, random split points).
 *
 * @module
 */

import { Buffer, isUtf8 } from "node:buffer";
import { readFileSync } from "node:fs";
import type { WsxError } from "../../src/errors.ts";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import type { FrameParserOptions, FrameSink } from "../../src/rfc6455/types.ts";

/** A part of a hex vector: hex digits, or one byte repeated. */
export type HexPart = string | { fill: string; count: number };

/** An event as the vectors spell it. */
export type VectorEvent = [string, ...unknown[]];

/** One vector of tests/testdata/rfc6455_frames.json. */
export interface Vector {
  name: string;
  hex: HexPart[];
  events: VectorEvent[];
  limits?: { maxMsgSize?: number; maxFragments?: number };
}

/** Bytes from hex digits, spaces ignored. */
export function hex(s: string): Uint8Array {
  const digits = s.replace(/\s+/g, "");
  if (digits.length % 2 !== 0) throw new Error(`odd hex: ${s}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Bytes from vector parts. */
export function partsToBytes(parts: HexPart | HexPart[]): Uint8Array {
  const list = Array.isArray(parts) ? parts : [parts];
  const chunks = list.map((p) =>
    typeof p === "string" ? hex(p) : new Uint8Array(p.count).fill(parseInt(p.fill, 16))
  );
  // A plain Uint8Array: Buffer#slice would return a view, not the copy tests rely on.
  return new Uint8Array(Buffer.concat(chunks));
}

/** Loads the shared vectors. */
export function loadVectors(): Vector[] {
  const url = new URL("../testdata/rfc6455_frames.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).vectors;
}

/** Normalises a vector's expected events to what {@linkcode Recorder} records. */
export function expectedEvents(events: VectorEvent[]): VectorEvent[] {
  return events.map(([kind, ...rest]) => {
    const bytes = (v: unknown) =>
      toHex(typeof v === "string" ? hex(v) : partsToBytes(v as HexPart));
    const text = (v: unknown) =>
      typeof v === "string" ? v : Buffer.from(partsToBytes(v as HexPart)).toString("utf8");
    if (kind === "binary" || kind === "ping" || kind === "pong") return [kind, bytes(rest[0])];
    if (kind === "text") return [kind, text(rest[0])];
    if (kind === "close") return [kind, rest[0], text(rest[1])];
    return [kind, ...rest] as VectorEvent;
  });
}

/** A sink that records every event in the vectors' spelling. */
export class Recorder implements FrameSink {
  readonly events: VectorEvent[] = [];
  readonly messages: (string | Uint8Array)[] = [];
  message(data: string | Uint8Array, isText: boolean): void {
    this.messages.push(data);
    this.events.push(isText ? ["text", data as string] : ["binary", toHex(data as Uint8Array)]);
  }
  ping(payload: Uint8Array): void {
    this.events.push(["ping", toHex(payload)]);
  }
  pong(payload: Uint8Array): void {
    this.events.push(["pong", toHex(payload)]);
  }
  close(code: number, reason: string): void {
    this.events.push(["close", code, reason]);
  }
  error(err: WsxError): void {
    this.events.push(["error", err.code]);
  }
}

const nodeDecode = (b: Uint8Array, s: number, e: number): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8", s, e);

/** Parser options as the Node engine sets them, or pure ones. */
export function parserOptions(
  limits: { maxMsgSize?: number; maxFragments?: number } = {},
  native = true,
): FrameParserOptions {
  return {
    limits: { maxMsgSize: limits.maxMsgSize ?? 1 << 20 },
    maxFragments: limits.maxFragments,
    isUtf8: native ? isUtf8 : undefined,
    decodeUtf8: native ? nodeDecode : undefined,
  };
}

/** A small seeded PRNG (mulberry32), so random splits are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How bytes reach the parser. */
export type Feeding = "whole" | "bytewise" | "random";

/** Splits bytes into fresh chunks (each its own copy, since the parser unmasks in place). */
export function split(bytes: Uint8Array, how: Feeding, seed = 1): Uint8Array[] {
  if (how === "whole") return [bytes.slice()];
  if (how === "bytewise") return Array.from(bytes, (b) => Uint8Array.of(b));
  const rand = prng(seed), out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(rand() * Math.min(bytes.length - i, rand() < 0.5 ? 8 : 4096));
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Parses `bytes` fed `how`, returning the recorded events. */
export function parse(
  bytes: Uint8Array,
  how: Feeding,
  options: FrameParserOptions = parserOptions(),
  seed = 1,
): Recorder {
  const rec = new Recorder();
  const parser = new FrameParser(rec, options);
  for (const chunk of split(bytes, how, seed)) parser.push(chunk);
  return rec;
}

/** Masks an unmasked (server) frame so a server parser accepts it. */
export function maskServerFrame(frame: Uint8Array, key: number): Uint8Array {
  const len7 = frame[1] & 0x7f, at = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  const out = new Uint8Array(frame.length + 4);
  out.set(frame.subarray(0, at));
  out[1] |= 0x80;
  const k = [key >>> 24, (key >>> 16) & 255, (key >>> 8) & 255, key & 255];
  out.set(k, at);
  for (let i = at; i < frame.length; i++) out[i + 4] = frame[i] ^ k[(i - at) & 3];
  return out;
}

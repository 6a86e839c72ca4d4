/**
 * Property-based fuzzing: random message sequences, fragmented and split at random,
 * round-trip through encoder, mask and parser; random or corrupted bytes never throw.
 * Set WSX_FUZZ_RUNS to run each property that many times instead of the defaults.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import fc from "fast-check";
import { OPCODE, writeHeader } from "../../src/rfc6455/encoder.ts";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import { maskServerFrame, parserOptions, Recorder, toHex, type VectorEvent } from "./_frames.ts";

const override = Number(process.env.WSX_FUZZ_RUNS ?? "");
const runs = (n: number): number => (Number.isFinite(override) && override > 0 ? override : n);

type Item =
  | { kind: "text"; text: string; cuts: number[]; controls: Uint8Array[] }
  | { kind: "binary"; bytes: Uint8Array; cuts: number[]; controls: Uint8Array[] }
  | { kind: "control"; pong: boolean; bytes: Uint8Array };

const cuts = fc.array(fc.nat(), { maxLength: 4 });
const controls = fc.array(fc.uint8Array({ maxLength: 125 }), { maxLength: 2 });
const bigBytes = fc.integer({ min: 126, max: 70000 }).map((n) =>
  new Uint8Array(n).map((_, i) => i * 13)
);
const item: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("text" as const),
      text: fc.string({ unit: "binary", maxLength: 120 }),
      cuts,
      controls,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("binary" as const),
      bytes: fc.uint8Array({ maxLength: 300 }),
      cuts,
      controls,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("binary" as const), bytes: bigBytes, cuts, controls }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("control" as const),
      pong: fc.boolean(),
      bytes: fc.uint8Array({ maxLength: 125 }),
    }),
  },
);

function frame(opcode: number, payload: Uint8Array, fin: boolean, key: number): Uint8Array {
  const out = new Uint8Array(10 + payload.length);
  const at = writeHeader(out, 0, opcode, payload.length, fin);
  out.set(payload, at);
  return maskServerFrame(out.subarray(0, at + payload.length), key);
}

// Encodes the items as client frames and lists the events a parser must report.
function encode(items: Item[], keys: number[]): { bytes: Uint8Array; events: VectorEvent[] } {
  const frames: Uint8Array[] = [], events: VectorEvent[] = [];
  let k = 0;
  const key = () => keys[k++ % keys.length] ?? 0;
  for (const it of items) {
    if (it.kind === "control") {
      frames.push(frame(it.pong ? OPCODE.pong : OPCODE.ping, it.bytes, true, key()));
      events.push([it.pong ? "pong" : "ping", toHex(it.bytes)]);
      continue;
    }
    const payload = it.kind === "text" ? new TextEncoder().encode(it.text) : it.bytes;
    // Cut points anywhere, so code points split across fragments too.
    const points = [...new Set(it.cuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
    const bounds = [0, ...points, payload.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      const opcode = i > 0 ? OPCODE.continuation : it.kind === "text" ? OPCODE.text : OPCODE.binary;
      frames.push(frame(opcode, payload.subarray(bounds[i], bounds[i + 1]), last, key()));
      const ctl = it.controls[i];
      if (!last && ctl !== undefined) {
        frames.push(frame(OPCODE.ping, ctl, true, key()));
        events.push(["ping", toHex(ctl)]);
      }
    }
    events.push(it.kind === "text" ? ["text", it.text] : ["binary", toHex(payload)]);
  }
  return { bytes: new Uint8Array(Buffer.concat(frames)), events };
}

function feed(parser: FrameParser, bytes: Uint8Array, splits: number[]): void {
  const points = [...new Set(splits.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) parser.push(bytes.slice(at, p));
    at = p;
  }
}

describe("fuzz", () => {
  test("random messages, fragments and chunk splits round-trip through encoder, mask and parser", () => {
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (items, keys, splits, native) => {
          const { bytes, events } = encode(items, keys);
          const rec = new Recorder();
          feed(new FrameParser(rec, parserOptions({}, native)), bytes, splits);
          assert.deepEqual(rec.events, events);
        },
      ),
      { numRuns: runs(40000) },
    );
  });

  test("random bytes never throw out of the parser, and nothing follows an error", () => {
    // Mostly plausible headers, so the bytes get past the first checks.
    const firsts = [0x81, 0x82, 0x01, 0x02, 0x00, 0x80, 0x88, 0x89, 0x8a];
    const bytes = fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.boolean()).map(
      ([b, pick, raw]) => {
        if (!raw && b.length > 1) {
          b[0] = firsts[pick % firsts.length];
          b[1] = 0x80 | (b[1] % 128 < 120 ? b[1] % 16 : b[1]);
        }
        return b;
      },
    );
    fc.assert(
      fc.property(
        bytes,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        (bytes, splits, native) => {
          const rec = new Recorder();
          feed(
            new FrameParser(rec, parserOptions({ maxMsgSize: 100, maxFragments: 4 }, native)),
            bytes,
            splits,
          );
          const stop = rec.events.findIndex(([k]) => k === "error" || k === "close");
          assert.ok(stop === -1 || stop === rec.events.length - 1);
        },
      ),
      { numRuns: runs(80000) },
    );
  });

  test("corrupted valid streams never throw out of the parser", () => {
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (items, flips, splits) => {
          const { bytes } = encode(items, [0x11223344]);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const rec = new Recorder();
          feed(new FrameParser(rec, parserOptions({ maxMsgSize: 1 << 20 })), bytes, splits);
          const stop = rec.events.findIndex(([k]) => k === "error" || k === "close");
          assert.ok(stop === -1 || stop === rec.events.length - 1);
        },
      ),
      { numRuns: runs(30000) },
    );
  });
});

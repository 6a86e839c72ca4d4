/**
 * The parser with a compressed message taken as a stream (`deflate/stream_inflate.ts`),
 * fed whole and one byte at a time: the inflated bytes in order, the wait while reading
 * is held (nothing after the message overtakes it), and the limits.
 *
 *   node --import tsx --test tests/rfc6455/deflate/stream_inflate_test.ts
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { constants, deflateRawSync } from "node:zlib";
import { clientFrame } from "../_client.ts";
import { openInflate, rawInflate } from "../../../src/rfc6455/deflate/codec.ts";
import { Inflater } from "../../../src/rfc6455/deflate/inflater.ts";
import { INFLATE_STEP_BYTES } from "../../../src/rfc6455/deflate/stream_inflate.ts";
import { FrameParser } from "../../../src/rfc6455/parser.ts";
import type { FrameSink } from "../../../src/rfc6455/types.ts";

const compress = (b: Uint8Array | string) =>
  deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);

// A parser whose sink streams every compressed message and records what it sees.
function setup(maxStreamSize = 1 << 30) {
  const events: string[] = [];
  const parts: Uint8Array[] = [];
  // Reading is held once this many parts were handed over (as a full window would).
  let budget = Infinity;
  const sink: FrameSink = {
    message: (data) => void events.push(`message ${typeof data === "string" ? data : "bytes"}`),
    ping: () => void events.push("ping"),
    pong: () => {},
    close: (code) => void events.push(`close ${code}`),
    error: (err) => void events.push(`error ${err.code}`),
    start(_isText, _length, _fin, compressed) {
      if (!compressed) return undefined;
      events.push("start");
      return {
        part(bytes, last) {
          parts.push(bytes.slice());
          if (last) events.push("end");
        },
      };
    },
    held: () => parts.length >= budget,
  };
  const parser = new FrameParser(
    sink,
    { limits: { maxMsgSize: 1 << 20, maxStreamSize } },
    new Inflater(rawInflate, openInflate),
  );
  const allow = (n: number) => void (budget = n);
  return { parser, events, parts, allow, joined: () => Buffer.concat(parts) };
}

// One compressed message in frames of `size`, then a text message and a ping.
function wire(message: Uint8Array, size: number): Uint8Array {
  const packed = compress(message), frames: Uint8Array[] = [];
  for (let at = 0; at < packed.length; at += size) {
    const end = Math.min(packed.length, at + size);
    frames.push(clientFrame(at === 0 ? 2 : 0, packed.subarray(at, end), {
      rsv: at === 0 ? 4 : 0,
      fin: end === packed.length,
    }));
  }
  return Buffer.concat([...frames, clientFrame(1, "next"), clientFrame(9, "")]);
}

const message = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251 & 0x3f);

describe("FrameParser with a compressed stream", () => {
  for (const [how, step] of [["whole", Infinity], ["one byte at a time", 1]] as const) {
    test(`inflates in order, fed ${how}`, () => {
      const { parser, events, joined } = setup();
      const bytes = wire(message, 1000);
      for (let at = 0; at < bytes.length; at += Math.min(step, bytes.length)) {
        parser.push(bytes.slice(at, at + Math.min(step, bytes.length)));
      }
      assert.deepEqual(events, ["start", "end", "message next", "ping"]);
      assert.deepEqual(joined(), Buffer.from(message));
    });
  }

  test("waits while reading is held: nothing after the message overtakes it", () => {
    const { parser, events, parts, allow, joined } = setup();
    const zeros = new Uint8Array(8 << 20);
    allow(0);
    parser.push(wire(zeros, 1 << 20).slice());
    // Held from the start: nothing inflated, the rest of the chunk kept.
    assert.equal(parser.waiting, true);
    assert.deepEqual(events, ["start"]);
    assert.equal(parts.length, 0);
    // Each resume inflates one step (at most INFLATE_STEP_BYTES), then is held again.
    let steps = 0;
    while (parser.waiting && steps++ < 1000) {
      allow(parts.length + 1);
      parser.resume();
      if (parser.waiting) assert.equal(parts.length, steps);
      assert.ok(parts.at(-1)!.byteLength <= INFLATE_STEP_BYTES);
    }
    assert.ok(steps > zeros.byteLength / INFLATE_STEP_BYTES, `${steps} steps`);
    assert.deepEqual(events, ["start", "end", "message next", "ping"]);
    assert.equal(joined().byteLength, zeros.byteLength);
  });

  test("bytes pushed while waiting are parsed after the message, in order", () => {
    const { parser, events, allow, joined } = setup();
    const bytes = wire(message, 1000);
    allow(0);
    const half = bytes.length >> 1;
    parser.push(bytes.slice(0, half));
    parser.push(bytes.slice(half, half + 10));
    parser.push(bytes.slice(half + 10));
    assert.equal(parser.waiting, true);
    assert.deepEqual(events, ["start"]);
    allow(Infinity);
    parser.resume();
    assert.deepEqual(events, ["start", "end", "message next", "ping"]);
    assert.deepEqual(joined(), Buffer.from(message));
  });

  test("past maxStreamSize: stream-too-big with at most one byte inflated past it", () => {
    const { parser, events, joined } = setup(1 << 20);
    parser.push(wire(new Uint8Array(16 << 20), 1 << 20));
    assert.deepEqual(events, ["start", "error stream-too-big"]);
    assert.ok(joined().byteLength <= 1 << 20);
  });

  test("a block of the reserved type: inflate-failed", () => {
    const { parser, events } = setup();
    const valid = deflateRawSync(message, { finishFlush: constants.Z_SYNC_FLUSH });
    parser.push(clientFrame(2, valid, { rsv: 4, fin: false }));
    parser.push(clientFrame(0, new Uint8Array([0x06, 0x00])));
    assert.deepEqual(events, ["start", "error inflate-failed"]);
  });

  test("stop() while waiting frees the inflater and drops the rest", () => {
    const { parser, events, allow } = setup();
    allow(0);
    parser.push(wire(message, 1000));
    parser.stop();
    allow(Infinity);
    parser.resume();
    assert.equal(parser.waiting, false);
    assert.deepEqual(events, ["start"]);
  });
});

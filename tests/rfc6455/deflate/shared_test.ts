/**
 * Whole messages on the process-wide zlib streams (`deflate/shared.ts` through
 * `codec.ts`): results equal to one-shot zlib's, output larger than the scratch buffer,
 * the exact inflation bound, a corrupt message followed by good ones, and parameter
 * sets interleaved, each message as if the stream were new.
 *
 *   node --import tsx --test tests/rfc6455/deflate/shared_test.ts
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { deflateMessage, rawInflate } from "../../../src/rfc6455/deflate/codec.ts";

const SYNC = { finishFlush: constants.Z_SYNC_FLUSH };
const TRAILER = [0x00, 0x00, 0xff, 0xff];

// Compressible bytes of a given size, different for each seed.
function sample(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = 0x30 + ((i * 7 + (i >> 6) + seed) % 40);
  return out;
}

const withTrailer = (b: Uint8Array) => Buffer.concat([b, Buffer.from(TRAILER)]);
const SIZES = [0, 1, 300, 2000, 16384, 16385, 70000, 1 << 20];

describe("shared zlib streams", () => {
  test("inflate equals one-shot zlib, at and past the scratch size", () => {
    for (const n of SIZES) {
      const input = withTrailer(deflateRawSync(sample(n, n), SYNC).subarray(0, -4));
      const out = rawInflate(input, n + 1);
      assert.ok(out instanceof Uint8Array, `size ${n}`);
      assert.deepEqual(Buffer.from(out), inflateRawSync(input, SYNC));
    }
  });

  test("inflation stops exactly at the limit", () => {
    for (const n of SIZES.filter((n) => n > 1)) {
      const input = withTrailer(deflateRawSync(sample(n, 1), SYNC).subarray(0, -4));
      assert.equal((rawInflate(input, n) as Uint8Array).length, n, `size ${n} at its limit`);
      assert.equal(rawInflate(input, n - 1), "too-big", `size ${n} one past its limit`);
    }
  });

  test("a corrupt message, a bomb cut short, then good ones inflate as if new", () => {
    const good = withTrailer(deflateRawSync(sample(5000, 3), SYNC).subarray(0, -4));
    const bomb = withTrailer(deflateRawSync(new Uint8Array(1 << 22), SYNC).subarray(0, -4));
    assert.equal(rawInflate(new Uint8Array([0xff, 0xff, 0xff, ...TRAILER]), 100), "corrupt");
    assert.deepEqual(rawInflate(good, 1 << 20), sample(5000, 3));
    assert.equal(rawInflate(bomb, 1 << 16), "too-big");
    assert.deepEqual(rawInflate(good, 1 << 20), sample(5000, 3));
  });

  test("deflate round-trips, interleaving parameter sets and sizes", () => {
    const sets = [
      { level: 1, memLevel: 8, windowBits: 15 },
      { level: 6, memLevel: 8, windowBits: 15 },
      { level: 9, memLevel: 9, windowBits: 10 },
    ];
    for (let round = 0; round < 3; round++) {
      for (const n of SIZES) {
        for (const settings of sets) {
          const data = sample(n, round);
          const packed = deflateMessage(data, settings);
          const back = inflateRawSync(withTrailer(packed), SYNC);
          assert.deepEqual(new Uint8Array(back), data, `size ${n} level ${settings.level}`);
        }
      }
    }
  });

  test("with a history, a message refers back into it (server context takeover)", () => {
    const settings = { level: 1, memLevel: 8, windowBits: 15 };
    const history = sample(20000, 4), data = history.slice(5000, 7000);
    for (const n of [0, 300, 20000]) {
      const packed = deflateMessage(data, settings, history.subarray(0, n));
      // As the peer inflates it: after the earlier messages, on the same window.
      const earlier = deflateRawSync(history.subarray(0, n), SYNC);
      const back = inflateRawSync(Buffer.concat([earlier, withTrailer(packed)]), SYNC)
        .subarray(n);
      assert.deepEqual(new Uint8Array(back), data, `history of ${n}`);
      const alone = deflateMessage(data, settings).length;
      if (n === 20000) assert.ok(packed.length < alone / 2, `${packed.length} against ${alone}`);
    }
    // The history does not stay: the same message alone compresses as before.
    assert.deepEqual(deflateMessage(data, settings), deflateMessage(data, settings, undefined));
  });

  test("a message compresses the same every time (no state kept between messages)", () => {
    const settings = { level: 1, memLevel: 8, windowBits: 15 };
    const data = sample(2000, 9);
    const first = deflateMessage(data, settings);
    deflateMessage(sample(2000, 8), settings);
    assert.deepEqual(deflateMessage(data, settings), first);
  });
});

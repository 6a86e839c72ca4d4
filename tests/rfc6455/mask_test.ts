import assert from "node:assert/strict";
import { test } from "node:test";
import {
  mask,
  maskFront,
  maskInto,
  maskMove,
  movesByWords,
  readMaskKey,
} from "../../src/rfc6455/mask.ts";
import { simdAvailable, simdMaskInto } from "../../src/rfc6455/simd.ts";

function naive(buf: Uint8Array, start: number, end: number, key: number, phase: number): void {
  const k = [key >>> 24, (key >>> 16) & 255, (key >>> 8) & 255, key & 255];
  for (let i = start; i < end; i++) buf[i] ^= k[(i - start + phase) & 3];
}

test("mask gives the RFC 6455 section 5.7 example", () => {
  const data = new TextEncoder().encode("Hello");
  mask(data, 0, 5, readMaskKey(Uint8Array.of(0x37, 0xfa, 0x21, 0x3d), 0), 0);
  assert.deepEqual([...data], [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
});

test("mask matches a byte loop for every size, alignment and phase", () => {
  const key = 0x9a3c5e71 | 0;
  for (const size of [0, 1, 2, 3, 4, 5, 7, 8, 127, 128, 129, 130, 131, 255, 256, 1000, 4099]) {
    for (let offset = 0; offset < 8; offset++) {
      for (let phase = 0; phase < 4; phase++) {
        const backing = new Uint8Array(size + 16);
        for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + 7) & 255;
        const a = backing.slice(), b = backing.slice();
        mask(a, offset, offset + size, key, phase);
        naive(b, offset, offset + size, key, phase);
        assert.deepEqual(a, b, `size ${size} offset ${offset} phase ${phase}`);
      }
    }
  }
});

test("mask works on a view that does not start its buffer", () => {
  const backing = new Uint8Array(600).fill(0x11);
  const view = backing.subarray(3, 503);
  mask(view, 0, 500, 0x01020304, 0);
  mask(view, 0, 500, 0x01020304, 0);
  assert.ok(backing.every((b) => b === 0x11));
});

test("mask continues the key across parts when given the phase", () => {
  const whole = new Uint8Array(300).map((_, i) => i & 255), parts = whole.slice();
  mask(whole, 0, 300, 0x37fa213d, 0);
  mask(parts, 0, 133, 0x37fa213d, 0);
  mask(parts, 133, 300, 0x37fa213d, 133);
  assert.deepEqual(parts, whole);
});

// Sizes around the word and SIMD thresholds, the kernel's 64-byte steps and 64 KiB blocks.
const SIZES = [0, 1, 3, 127, 128, 130, 1023, 1024, 1029, 4096, 65535, 65536, 65537, 140_001];

test("maskInto moves towards the front of the same buffer like a byte loop", () => {
  const key = 0x9a3c5e71 | 0;
  for (const size of SIZES) {
    for (const shift of [0, 1, 4, 6, 12]) {
      for (const phase of [0, 3]) {
        const backing = new Uint8Array(size + 32).map((_, i) => (i * 31 + 7) & 255);
        const want = backing.slice();
        naive(want, 20, 20 + size, key, phase);
        maskInto(backing, 20, 20 + size, backing, 20 - shift, key, phase);
        const got = backing.subarray(20 - shift, 20 - shift + size);
        assert.deepEqual(got, want.subarray(20, 20 + size), `size ${size} shift ${shift}`);
      }
    }
  }
});

test("maskInto writes into another buffer at any offset and phase", () => {
  const key = 0x01f2e3d4 | 0;
  for (const size of SIZES) {
    for (const [from, to] of [[0, 0], [1, 6], [3, 0], [8, 5]]) {
      const src = new Uint8Array(size + 8).map((_, i) => (i * 17) & 255), want = src.slice();
      naive(want, from, from + size, key, 2);
      const dst = new Uint8Array(size + 8).fill(0xee);
      maskInto(src, from, from + size, dst, to, key, 2);
      assert.deepEqual(dst.subarray(to, to + size), want.subarray(from, from + size));
      assert.ok(dst.subarray(0, to).every((b) => b === 0xee), "nothing written before");
      assert.ok(dst.subarray(to + size).every((b) => b === 0xee), "nothing written after");
    }
  }
});

test("The SIMD kernel loads where WebAssembly SIMD exists and matches a byte loop", () => {
  // Node.js 16.4 and later compile WebAssembly SIMD.
  assert.equal(simdAvailable(), true);
  const src = new Uint8Array(70_000).map((_, i) => (i * 5) & 255), want = src.slice();
  naive(want, 0, 70_000, 0x37fa213d, 0);
  const dst = new Uint8Array(70_000);
  assert.equal(simdMaskInto(src, 0, 70_000, dst, 0, 0x37fa213d), true);
  assert.deepEqual(dst, want);
});

test("maskMove moves by whole words like a byte loop, at every alignment, on a view", () => {
  const key = 0x9a3c5e71 | 0;
  for (const size of [0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 125, 126, 1023]) {
    for (const viewAt of [0, 1, 2, 3]) {
      for (const start of [20, 21, 22, 23]) {
        for (const shift of [0, 4, 8]) {
          const backing = new Uint8Array(size + 64).map((_, i) => (i * 31 + 7) & 255);
          const chunk = backing.subarray(viewAt, viewAt + size + 40);
          const want = chunk.slice(), after = chunk.slice(start + size);
          naive(want, start, start + size, key, 0);
          const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
          maskMove(chunk, words, start, start + size, start - shift, key);
          const label = `size ${size} view ${viewAt} start ${start} shift ${shift}`;
          const got = chunk.subarray(start - shift, start - shift + size);
          assert.deepEqual(got, want.subarray(start, start + size), label);
          assert.deepEqual(chunk.subarray(start + size), after, `${label}: nothing after`);
          const before = want.subarray(0, start - shift);
          assert.deepEqual(chunk.subarray(0, start - shift), before, `${label}: nothing before`);
          assert.ok(backing.subarray(0, viewAt).every((b, i) => b === ((i * 31 + 7) & 255)));
        }
      }
    }
  }
});

test("maskMove unmasks up to the end of a buffer whose length is not whole words", () => {
  const key = 0x9a3c5e71 | 0;
  for (const size of [16, 17, 18, 19, 33, 34, 35]) {
    for (const start of [8, 9, 10, 11]) {
      const chunk = new Uint8Array(start + size).map((_, i) => (i * 31 + 7) & 255);
      const want = chunk.slice();
      naive(want, start, start + size, key, 0);
      const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
      maskMove(chunk, words, start, start + size, start - 4, key);
      const label = `size ${size} start ${start}`;
      assert.deepEqual(chunk.subarray(start - 4, start - 4 + size), want.subarray(start), label);
      assert.deepEqual(chunk.subarray(0, start - 4), want.subarray(0, start - 4), label);
    }
  }
});

test("maskFront moves like a byte loop at every alignment, touching nothing before at or from end on", () => {
  const key = 0x9a3c5e71 | 0;
  for (const size of [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 124, 125]) {
    for (const viewAt of [0, 1, 2, 3]) {
      for (const start of [20, 21, 22, 23]) {
        for (const shift of [2, 4, 8, 12]) {
          // Buffers that end right at the payload too: the last bytes past whole words.
          for (const room of [0, 1, 2, 3, 40]) {
            const backing = new Uint8Array(viewAt + start + size + room)
              .map((_, i) => (i * 31 + 7) & 255);
            const chunk = backing.subarray(viewAt), end = start + size, at = start - shift;
            const want = chunk.slice(), after = chunk.slice(end);
            naive(want, start, end, key, 0);
            const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
            maskFront(chunk, words, chunk.byteOffset, start, end, at, key);
            const label = `size ${size} view ${viewAt} start ${start} shift ${shift} room ${room}`;
            assert.deepEqual(chunk.subarray(at, at + size), want.subarray(start, end), label);
            assert.deepEqual(chunk.subarray(end), after, `${label}: nothing from end on`);
            assert.deepEqual(
              chunk.subarray(0, at),
              want.subarray(0, at),
              `${label}: nothing before`,
            );
            assert.ok(backing.subarray(0, viewAt).every((b, i) => b === ((i * 31 + 7) & 255)));
          }
        }
      }
    }
  }
});

test("movesByWords only for distances of whole words, between the byte loop and SIMD", () => {
  assert.deepEqual(
    [movesByWords(32, 4), movesByWords(32, 0), movesByWords(32, 6), movesByWords(8, 4)],
    [true, true, false, false],
  );
  assert.equal(movesByWords(4096, 4), false);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { mask, readMaskKey } from "../../src/rfc6455/mask.ts";

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

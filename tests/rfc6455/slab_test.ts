import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputSlab } from "../../src/rfc6455/slab.ts";

test("OutputSlab bumps its tail and starts a new buffer only when full", () => {
  let allocations = 0;
  const slab = new OutputSlab(16, (n) => (allocations++, new Uint8Array(n)));
  assert.equal(slab.buffer.length, 0);
  assert.equal(slab.reserve(10), true);
  const first = slab.buffer;
  slab.commit(10);
  assert.equal(slab.reserve(6), false);
  slab.commit(16);
  assert.equal(slab.reserve(1), true);
  assert.notEqual(slab.buffer, first);
  assert.equal(slab.tail, 0);
  assert.equal(allocations, 2);
});

test("OutputSlab allocates a larger buffer for a request bigger than its size", () => {
  const slab = new OutputSlab(16);
  slab.reserve(100);
  assert.equal(slab.buffer.length, 100);
});

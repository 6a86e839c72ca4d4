import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageAssembler } from "../../src/rfc6455/message.ts";

test("MessageAssembler joins parts with one allocation and resets", () => {
  const m = new MessageAssembler();
  const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
  m.append(backing.subarray(0, 3));
  m.append(new Uint8Array(0));
  m.append(backing.subarray(3));
  assert.equal(m.active, true);
  const out = m.join();
  assert.deepEqual([...out], [1, 2, 3, 4, 5, 6]);
  assert.notEqual(out.buffer, backing.buffer);
  assert.equal(m.active, false);
  assert.equal(m.join().byteLength, 0);
});

test("MessageAssembler copies a tiny view of a large chunk instead of pinning the chunk", () => {
  const m = new MessageAssembler();
  const chunk = new Uint8Array(65536);
  m.append(chunk.subarray(10, 12));
  m.append(chunk.subarray(0, 60000));
  const parts = m.join();
  assert.equal(parts.byteLength, 60002);
});

test("MessageAssembler returns a single part as is", () => {
  const m = new MessageAssembler();
  const part = new Uint8Array(10);
  m.append(part);
  assert.equal(m.join(), part);
});

test("MessageAssembler checks text across parts and reports an unfinished code point", () => {
  const m = new MessageAssembler();
  const euro = new Uint8Array([0xe2, 0x82, 0xac]);
  assert.equal(m.check(euro, 0, 2), true);
  assert.equal(m.textComplete(), false);
  assert.equal(m.check(euro, 2, 3), true);
  assert.equal(m.textComplete(), true);
  assert.equal(m.check(new Uint8Array([0xff]), 0, 1), false);
  m.reset();
  assert.equal(m.textComplete(), true);
});

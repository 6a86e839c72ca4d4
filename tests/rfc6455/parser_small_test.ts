import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import { parse, parserOptions, prng, Recorder } from "./_frames.ts";

// A client frame: FIN, opcode, a masking key from `rand`, the payload masked with it.
function frame(fin: boolean, opcode: number, payload: Uint8Array, rand: () => number): number[] {
  const n = payload.length, key = [0, 1, 2, 3].map(() => Math.floor(rand() * 256));
  const head = [(fin ? 0x80 : 0) | opcode];
  if (n < 126) head.push(0x80 | n);
  else head.push(0x80 | 126, n >> 8, n & 0xff);
  return [...head, ...key, ...payload.map((b, i) => b ^ key[i & 3])];
}

// Random traffic around the 125-byte boundary of the 7-bit length: messages in one frame
// (text and binary, empty ones too), fragmented messages with pings between the fragments.
function traffic(seed: number): Uint8Array {
  const rand = prng(seed), bytes: number[] = [];
  const payload = (text: boolean) => {
    const n = Math.floor(rand() * 131);
    return new Uint8Array(n).map(() => text ? 0x61 + Math.floor(rand() * 26) : rand() * 256);
  };
  for (let m = 0; m < 200; m++) {
    const text = rand() < 0.3;
    if (rand() < 0.8) {
      bytes.push(...frame(true, text ? 1 : 2, payload(text), rand));
      continue;
    }
    bytes.push(...frame(false, text ? 1 : 2, payload(text), rand));
    bytes.push(...frame(true, 9, payload(false).subarray(0, 20), rand));
    bytes.push(...frame(true, 0, payload(text), rand));
  }
  return new Uint8Array(bytes);
}

test("FrameParser reads a chunk of whole small frames as it reads the same frames split", () => {
  for (const seed of [1, 2, 3]) {
    const bytes = traffic(seed), whole = parse(bytes, "whole");
    assert.equal(whole.events.filter(([kind]) => kind === "error").length, 0);
    assert.deepEqual(whole.events, parse(bytes, "bytewise").events);
    for (const split of [1, 2, 3]) {
      assert.deepEqual(whole.events, parse(bytes, "random", parserOptions(), split).events);
    }
  }
});

test("FrameParser packs whole small frames to the front of the chunk, each behind 2 bytes of room", () => {
  const rand = prng(7),
    payloads = [1, 3, 16, 17, 32, 100, 125].map((n) => new Uint8Array(n).map(() => rand() * 256));
  const chunk = new Uint8Array(payloads.flatMap((p) => frame(true, 2, p, rand)));
  const rec = new Recorder();
  new FrameParser(rec, parserOptions()).push(chunk);
  let at = 0;
  rec.messages.forEach((m, i) => {
    assert.ok(m instanceof Uint8Array && m.buffer === chunk.buffer);
    assert.equal(m.byteOffset, at + 2);
    assert.deepEqual([...m], [...payloads[i]]);
    at = m.byteOffset + m.length;
  });
  assert.equal(rec.messages.length, payloads.length);
});

test("FrameParser refuses a whole small frame over maxMsgSize, and a new message inside a fragmented one", () => {
  const rand = prng(9);
  const small = parse(new Uint8Array(frame(true, 2, new Uint8Array(9), rand)), "whole", {
    ...parserOptions({ maxMsgSize: 8 }),
  });
  assert.deepEqual(small.events, [["error", "message-too-big"]]);
  const open = new Uint8Array([
    ...frame(false, 1, new Uint8Array([0x61]), rand),
    ...frame(true, 2, new Uint8Array([1, 2]), rand),
  ]);
  assert.deepEqual(parse(open, "whole").events, [["error", "expected-continuation"]]);
  const bad = new Uint8Array(frame(true, 1, new Uint8Array([0x61, 0xff]), rand));
  assert.deepEqual(parse(bad, "whole").events, [["error", "invalid-utf8"]]);
});

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { encodeFrame, OPCODE } from "../../src/rfc6455/encoder.ts";
import { type ChunkWriter, Outbox } from "../../src/rfc6455/outbox.ts";
import { FrameParser } from "../../src/rfc6455/parser.ts";
import { offerReply, takeReply, withdrawReply } from "../../src/rfc6455/reply.ts";
import { OutputSlab } from "../../src/rfc6455/slab.ts";
import type { FrameSink } from "../../src/rfc6455/types.ts";
import { parserOptions, toHex } from "./_frames.ts";

// Keeps the very chunks written (not copies), to check where they lie.
class Writer implements ChunkWriter {
  destroyed = false;
  chunks: Uint8Array[] = [];
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  get hex(): string {
    return toHex(Buffer.concat(this.chunks));
  }
}

// A client frame with a real masking key, as a browser would send it.
function clientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const n = payload.length, key = [0x37, 0xfa, 0x21, 0x3d];
  const head = n < 126 ? [n | 0x80] : n < 65536 ? [0xfe, n >> 8, n & 255] : [
    0xff,
    ...[0, 0, 0, 0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255],
  ];
  const out = new Uint8Array(1 + head.length + 4 + n);
  out.set([(fin ? 0x80 : 0) | opcode, ...head, ...key]);
  for (let i = 0; i < n; i++) out[1 + head.length + 4 + i] = payload[i] ^ key[i & 3];
  return out;
}

function payload(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// An echo server in miniature: every message goes back on the same outbox.
function echo(onMessage?: (data: Uint8Array, outbox: Outbox) => void) {
  const writer = new Writer();
  const outbox = new Outbox(writer, { slab: new OutputSlab(1024) });
  const sink: FrameSink = {
    message: (data, isText) => {
      if (onMessage) return onMessage(data as Uint8Array, outbox);
      if (isText) outbox.text(data as string);
      else outbox.bytes(OPCODE.binary, data as Uint8Array);
    },
    ping() {},
    pong() {},
    close() {},
    error(err) {
      throw err;
    },
  };
  const parser = new FrameParser(sink, parserOptions());
  const push = (chunk: Uint8Array) => {
    outbox.hold();
    parser.push(chunk);
    outbox.release();
  };
  return { writer, outbox, push };
}

function serverFrames(sizes: number[], seed = 0): string {
  return sizes.map((n, i) => toHex(concat(encodeFrame(OPCODE.binary, payload(n, seed + i))))).join(
    "",
  );
}

test("Echoed messages of one chunk leave in one write, a view of that chunk", () => {
  for (const sizes of [[32, 32, 32], [0, 5, 125, 126, 3000, 65535], [70000, 1, 2048]]) {
    const { writer, push } = echo();
    const chunk = concat(sizes.map((n, i) => clientFrame(OPCODE.binary, payload(n, i))));
    push(chunk);
    // An empty payload is not a view of the chunk: it goes through the slab.
    const views = writer.chunks.filter((c) => c.buffer === chunk.buffer);
    assert.equal(views.length, 1, `sizes ${sizes}`);
    assert.equal(writer.hex, serverFrames(sizes));
  }
});

test("Echoing a message split across chunks sends header and payload as one buffer", () => {
  for (const n of [10, 300, 65536, 300_000]) {
    const { writer, push } = echo();
    for (const cut of [5, 12, n >> 1]) {
      // The parser rewrites what it reads: a fresh frame each time.
      const frame = clientFrame(OPCODE.binary, payload(n, 3));
      writer.chunks = [];
      push(frame.subarray(0, cut));
      push(frame.subarray(cut));
      // Cut in the header, a large payload has no room in front: header and payload go
      // corked, in two writes.
      const noRoom = cut < frame.length - n && n > 16384;
      assert.equal(writer.chunks.length, noRoom ? 2 : 1, `size ${n} cut ${cut}`);
      assert.equal(writer.hex, serverFrames([n], 3));
    }
  }
});

test("Echo keeps order when a split message, whole ones and slab frames mix", () => {
  const { writer, push } = echo((data, outbox) => {
    outbox.text("t");
    outbox.bytes(OPCODE.binary, data);
  });
  const frames = [clientFrame(2, payload(3000, 1)), clientFrame(2, payload(40, 2))];
  const stream = concat([...frames, frames[0], frames[1]]);
  push(stream.subarray(0, 2000));
  push(stream.subarray(2000));
  const t = "8101" + "74";
  const one = toHex(concat(encodeFrame(2, payload(3000, 1))));
  const two = toHex(concat(encodeFrame(2, payload(40, 2))));
  assert.equal(writer.hex, [t, one, t, two, t, one, t, two].join(""));
});

test("A message sent twice, to another connection or later is copied, not taken twice", async () => {
  const other = new Writer();
  const otherBox = new Outbox(other, { slab: new OutputSlab(1024) });
  let kept: Uint8Array | null = null;
  const { writer, outbox, push } = echo((data, own) => {
    otherBox.bytes(OPCODE.binary, data);
    own.bytes(OPCODE.binary, data);
    kept = data;
  });
  push(concat([clientFrame(2, payload(100, 5)), clientFrame(2, payload(7, 6))]));
  const want = serverFrames([100, 7], 5);
  assert.equal(writer.hex, want);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(other.hex, want);
  writer.chunks = [];
  outbox.bytes(OPCODE.binary, kept!);
  outbox.flush();
  assert.equal(writer.hex, serverFrames([7], 6));
});

test("takeReply matches only the view on offer, once, until withdrawn", () => {
  const chunk = new Uint8Array(8), data = chunk.subarray(4);
  offerReply(data, chunk, 2, 4);
  assert.equal(takeReply(chunk.subarray(4)), null);
  const offer = takeReply(data);
  assert.deepEqual(offer && [offer.base === chunk, offer.room, offer.start], [true, 2, 4]);
  assert.equal(takeReply(data), null);
  offerReply(data, chunk, 2, 4);
  withdrawReply();
  assert.equal(takeReply(data), null);
});

test("A text message is echoed through the slab, its bytes unchanged", () => {
  const { writer, push } = echo();
  push(concat([clientFrame(1, new TextEncoder().encode("héllo")), clientFrame(2, payload(9, 1))]));
  assert.equal(
    writer.hex,
    toHex(concat(encodeFrame(1, new TextEncoder().encode("héllo")))) + serverFrames([9], 1),
  );
});

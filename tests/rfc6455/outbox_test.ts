import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { encodeFrame, OPCODE } from "../../src/rfc6455/encoder.ts";
import { type ChunkWriter, Outbox } from "../../src/rfc6455/outbox.ts";
import { encodeShared } from "../../src/rfc6455/shared_frame.ts";
import { OutputSlab } from "../../src/rfc6455/slab.ts";
import { toHex } from "./_frames.ts";

class Writer implements ChunkWriter {
  destroyed = false;
  accept = true;
  chunks: Uint8Array[] = [];
  corks = 0;
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk.slice());
    return this.accept;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {}
  get hex(): string {
    return toHex(Buffer.concat(this.chunks));
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

test("Outbox writes everything added while held in one chunk", () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  o.hold();
  o.text("a");
  o.bytes(OPCODE.binary, Uint8Array.of(1, 2));
  o.control(OPCODE.pong, Uint8Array.of(9));
  o.close(1000, "");
  assert.equal(w.chunks.length, 0);
  assert.equal(o.pending, 3 + 4 + 3 + 4);
  o.release();
  assert.equal(w.chunks.length, 1);
  assert.equal(w.hex, "810161820201028a0109880203e8");
  assert.equal(o.pending, 0);
});

test("Outbox flushes unheld writes once, in a microtask", async () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  o.text("x");
  o.text("y");
  assert.equal(w.chunks.length, 0);
  await tick();
  assert.deepEqual(w.chunks.map(toHex), ["8101788101" + "79"]);
});

test("Outbox keeps each connection's order when connections interleave in the slab", async () => {
  const slab = new OutputSlab(1024);
  const a = new Writer(), b = new Writer();
  const oa = new Outbox(a, { slab }), ob = new Outbox(b, { slab });
  oa.text("1");
  ob.text("2");
  oa.text("3"); // a's region is no longer at the tail: "1" goes out first
  ob.text("4");
  await tick();
  assert.equal(a.hex, "8101318101" + "33");
  assert.equal(b.hex, "8101328101" + "34");
});

test("Outbox continues in a new slab when the current one is full", async () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(16) });
  for (let i = 0; i < 10; i++) o.text(String(i));
  await tick();
  assert.equal(
    w.hex,
    Array.from({ length: 10 }, (_, i) => "8101" + (0x30 + i).toString(16)).join(""),
  );
});

test("Outbox writes large payloads by reference after their header, corked", () => {
  const w = new Writer();
  const big = new Uint8Array(20000).fill(7);
  const seen: Uint8Array[] = [];
  w.write = (chunk) => (seen.push(chunk), true);
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  o.hold();
  o.text("a");
  o.bytes(OPCODE.binary, big);
  assert.equal(w.corks, 1);
  assert.equal(seen.length, 2);
  assert.equal(toHex(seen[0]), "810161" + "827e4e20"); // "a", then the 20000-byte header
  assert.equal(seen[1], big);
  o.frame(encodeFrame(OPCODE.binary, big));
  assert.equal(seen[3], big);
  o.release();
});

test("Outbox copies small pre-encoded frames into its coalesced write", () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  const frame = encodeFrame(OPCODE.text, Uint8Array.of(0x68, 0x69));
  o.hold();
  o.frame(frame);
  o.frame(frame);
  o.release();
  assert.deepEqual(w.chunks.map(toHex), ["81026869" + "81026869"]);
});

test("Outbox reports backpressure until drained, and writes nothing once destroyed", () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  w.accept = false;
  o.hold();
  o.text("a");
  o.release();
  assert.equal(o.blocked, true);
  o.drained();
  assert.equal(o.blocked, false);
  w.destroyed = true;
  o.hold();
  o.text("b");
  o.release();
  assert.equal(w.chunks.length, 1);
  o.hold();
  o.text("c");
  o.discard();
  assert.equal(o.pending, 0);
});

test("Outbox sends a burst of shared frames as one write per connection, uncopied", async () => {
  const options = { slab: new OutputSlab(4096) };
  const writers = [new Writer(), new Writer(), new Writer()];
  const outboxes = writers.map((w) => new Outbox(w, options));
  for (let i = 0; i < 5; i++) {
    const frame = encodeShared(options, OPCODE.text, `m${i}`);
    for (const o of outboxes) o.shared(frame);
  }
  await tick();
  const expected = "81026d30" + "81026d31" + "81026d32" + "81026d33" + "81026d34";
  for (const w of writers) {
    assert.equal(w.chunks.length, 1);
    assert.equal(w.hex, expected);
    assert.equal(w.corks, 0);
  }
});

test("Outbox keeps order when shared frames and a connection's own frames mix", async () => {
  const options = { slab: new OutputSlab(64) };
  const a = new Writer(), b = new Writer();
  const oa = new Outbox(a, options), ob = new Outbox(b, options);
  const first = encodeShared(options, OPCODE.binary, Uint8Array.of(1));
  oa.shared(first);
  ob.shared(first);
  oa.text("own");
  const second = encodeShared(options, OPCODE.binary, Uint8Array.of(2));
  ob.shared(second);
  oa.shared(second);
  ob.bytes(OPCODE.binary, new Uint8Array(60)); // forces a new slab
  const third = encodeShared(options, OPCODE.text, "z");
  oa.shared(third);
  ob.shared(third);
  await tick();
  assert.equal(a.hex, "820101" + "81036f776e" + "820102" + "81017a");
  assert.equal(b.hex, "820101" + "820102" + "823c" + "00".repeat(60) + "81017a");
});

test("Outbox defer() keeps holding past the chunk until release, queued once", async () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  o.hold();
  o.text("a");
  assert.equal(o.defer(), true, "the first defer asks to be queued");
  o.text("b"); // a later write in the same turn joins the held bytes
  assert.equal(o.defer(), false, "already waiting for the end of the turn");
  await tick();
  assert.equal(w.chunks.length, 0, "a deferred outbox does not flush in a microtask");
  o.release();
  assert.deepEqual(w.chunks.map(toHex), ["8101618101" + "62"]);
  assert.equal(o.defer(), true, "released: the next turn queues it again");
  o.release();
});

test("Outbox keeps only the latest pong while the writer refuses more, and sends it on drain", () => {
  const w = new Writer();
  const o = new Outbox(w, { slab: new OutputSlab(1024) });
  o.hold();
  o.pong(Uint8Array.of(1));
  w.accept = false;
  o.release(); // the write is refused: blocked
  assert.equal(o.blocked, true);
  o.hold();
  o.pong(Uint8Array.of(2));
  o.pong(Uint8Array.of(3));
  assert.equal(o.pending, 0, "nothing queued for pongs while blocked");
  o.release();
  assert.equal(w.chunks.length, 1);
  w.accept = true;
  o.hold();
  o.drained();
  o.release();
  assert.deepEqual(w.chunks.map(toHex), ["8a0101", "8a0103"], "the latest ping's answer only");
});

/**
 * permessage-deflate framing on the engine with raw frames (RFC 7692 sections 6 and 7.2):
 * the RFC's own examples as bytes, RSV1 rules, fragmented compressed messages, the
 * trailing 00 00 ff ff, data that does not inflate, and size limits.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { clientFrame, RawClient } from "../_client.ts";
import { startDeflateServer } from "./_server.ts";
import { configure, resetSettings } from "../../../src/core/settings.ts";

const TEXT = 1, BINARY = 2, CONT = 0, PING = 9, RSV1 = 4;
const OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
let ctx: Awaited<ReturnType<typeof startDeflateServer>>;
before(async () => (ctx = await startDeflateServer({ threshold: 0 })));
after(() => ctx.server.shutdown());

const connect = (extra = OFFER) => RawClient.connect(ctx.server.port, extra);
const hex = (s: string) => Uint8Array.from(s.split(" ").map((b) => parseInt(b, 16)));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
// A server frame's payload inflated as RFC 7692 section 7.2.2 says.
const inflate = (p: Uint8Array) =>
  inflateRawSync(Buffer.concat([p, hex("00 00 ff ff")]), { finishFlush: 2 });

describe("permessage-deflate frames (RFC 7692)", () => {
  test("section 7.2.3.1: 'Hello' compressed in one frame", async () => {
    const c = await connect();
    c.send(TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv: RSV1 });
    const f = await c.read();
    assert.equal(f.rsv, RSV1);
    assert.equal(text(inflate(f.payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.1: 'Hello' compressed and fragmented", async () => {
    const c = await connect();
    c.send(TEXT, hex("f2 48 cd"), { rsv: RSV1, fin: false });
    c.send(CONT, hex("c9 c9 07 00"));
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.2: two messages with no context taken over", async () => {
    const c = await connect();
    // The second message is the same bytes again: no reference to the first.
    c.send(TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv: RSV1 });
    c.send(TEXT, hex("f2 48 cd c9 c9 07 00"), { rsv: RSV1 });
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.3: a DEFLATE block with no compression", async () => {
    const c = await connect();
    c.send(TEXT, hex("00 05 00 fa ff 48 65 6c 6c 6f 00"), { rsv: RSV1 });
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.4: a DEFLATE block with BFINAL set", async () => {
    const c = await connect();
    c.send(TEXT, hex("f3 48 cd c9 c9 07 00 00"), { rsv: RSV1 });
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.5: two DEFLATE blocks in one message", async () => {
    const c = await connect();
    c.send(TEXT, hex("f2 48 05 00 00 00 ff ff ca c9 c9 07 00"), { rsv: RSV1 });
    assert.equal(text(inflate((await c.read()).payload)), "Hello");
    c.destroy();
  });

  test("section 7.2.3.6: an empty message compressed as 0x00", async () => {
    const c = await connect();
    c.send(TEXT, hex("00"), { rsv: RSV1 });
    c.send(BINARY, new Uint8Array(0), { rsv: RSV1 });
    for (let i = 0; i < 2; i++) {
      const f = await c.read();
      assert.equal(f.rsv, RSV1);
      assert.equal(inflate(f.payload).length, 0);
    }
    c.destroy();
  });

  test("uncompressed messages still pass; control frames answered plain", async () => {
    const c = await connect();
    c.send(BINARY, new Uint8Array([1, 2, 3]));
    const f = await c.read();
    assert.deepEqual([...inflate(f.payload)], [1, 2, 3]);
    c.send(PING, "p");
    const pong = await c.read();
    assert.equal(pong.rsv, 0);
    assert.equal(text(pong.payload), "p");
    c.destroy();
  });

  test("a fragmented compressed binary message of 200 kB", async () => {
    const c = await connect();
    const data = Buffer.alloc(200_000).map((_, i) => (i * 7) & 0x3f);
    const z = deflateRawSync(data, { finishFlush: 2 }).subarray(0, -4);
    const third = Math.floor(z.length / 3);
    c.send(BINARY, z.subarray(0, third), { rsv: RSV1, fin: false });
    c.send(CONT, z.subarray(third, 2 * third), { fin: false });
    c.send(CONT, z.subarray(2 * third));
    const f = await c.read();
    assert.ok(Buffer.from(inflate(f.payload)).equals(data));
    c.destroy();
  });

  test("compressed text split across chunks, one byte at a time (Autobahn 12/13 style)", async () => {
    const c = await connect();
    const message = "é€😀 ".repeat(300) + JSON.stringify({ a: [1, 2, 3] }).repeat(50);
    const z = deflateRawSync(message, { finishFlush: 2 }).subarray(0, -4);
    // The compressed bytes are not UTF-8: only the inflated text may be checked.
    assert.throws(() => new TextDecoder("utf-8", { fatal: true }).decode(z));
    const half = Math.floor(z.length / 2);
    const frames = Buffer.concat([
      clientFrame(TEXT, z.subarray(0, half), { rsv: RSV1, fin: false }),
      clientFrame(PING, "mid"),
      clientFrame(CONT, z.subarray(half)),
      clientFrame(TEXT, z, { rsv: RSV1 }),
    ]);
    await c.writeChunked(frames, 1);
    assert.equal(text((await c.read()).payload), "mid");
    assert.equal(text(inflate((await c.read()).payload)), message);
    assert.equal(text(inflate((await c.read()).payload)), message);
    c.destroy();
  });

  const closes: Array<[string, number, () => Uint8Array[], string?]> = [
    ["RSV1 on a continuation frame", 1002, () => [
      frame(TEXT, "a", 0, false),
      frame(CONT, "b", RSV1),
    ]],
    ["RSV1 on a ping", 1002, () => [frame(PING, "", RSV1)]],
    ["RSV2 on a data frame", 1002, () => [frame(TEXT, "", 2)]],
    [
      "RSV1 without the extension",
      1002,
      () => [frame(TEXT, hex("f2 48 cd c9 c9 07 00"), RSV1)],
      "",
    ],
    ["more fragments than the cap in a compressed message", 1008, () => [
      frame(TEXT, "", RSV1, false),
      ...Array.from({ length: 5000 }, () => frame(CONT, "", 0, false)),
    ]],
    ["data that does not inflate", 1007, () => [frame(TEXT, hex("01 02 03 04 05"), RSV1)]],
    ["invalid UTF-8 once inflated", 1007, () => [
      frame(TEXT, deflateRawSync(Buffer.from([0xc3, 0x28]), { finishFlush: 2 }), RSV1),
    ]],
    ["a message that inflates past maxMsgSize", 1009, () => [
      frame(BINARY, deflateRawSync(Buffer.alloc(300_000), { finishFlush: 2 }), RSV1),
    ]],
  ];
  for (const [name, code, frames, extra] of closes) {
    test(`${name}: closed with ${code}`, async () => {
      const c = await connect(extra ?? OFFER);
      for (const f of frames()) c.write(f);
      await c.expectClose(code);
      c.destroy();
    });
  }

  test("maxMsgSize is read live for the inflated size", async () => {
    configure({ maxMsgSize: 1000 });
    try {
      const c = await connect();
      c.send(TEXT, deflateRawSync("x".repeat(1000), { finishFlush: 2 }), { rsv: RSV1 });
      assert.equal(text(inflate((await c.read()).payload)), "x".repeat(1000));
      c.send(TEXT, deflateRawSync("x".repeat(1001), { finishFlush: 2 }), { rsv: RSV1 });
      await c.expectClose(1009);
      c.destroy();
    } finally {
      resetSettings();
    }
  });
});

function frame(op: number, payload: Uint8Array | string, rsv = 0, fin = true): Uint8Array {
  return clientFrame(op, payload, { rsv, fin });
}

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  closed,
  connect,
  type Fixture,
  newId,
  nextMessage,
  startFixture,
  target,
} from "./_harness.ts";

describe(`echo on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("plain HTTP requests get Hello World", async () => {
    const res = await fetch(fx.http("/"));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Hello World!");
  });

  for (const size of [0, 125, 126, 65535, 65536]) {
    test(`echoes a ${size}-byte text message and a ${size}-byte binary message`, async () => {
      const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
      const text = "é".repeat(Math.floor(size / 2)) + (size % 2 ? "x" : "");
      let reply = nextMessage(ws);
      ws.send(text);
      let got = await reply;
      assert.equal(got.isBinary, false);
      assert.equal(got.data.toString("utf8"), text);
      const bytes = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      reply = nextMessage(ws);
      ws.send(bytes);
      got = await reply;
      assert.equal(got.isBinary, true);
      assert.deepEqual(new Uint8Array(got.data), bytes);
      ws.close(1000);
      await closed(ws);
    });
  }

  test("echoes a 1 MiB message once maxMsgSize is raised", async () => {
    const set = await fx.post("/settings", { maxMsgSize: 2 * 1024 * 1024 });
    assert.equal(set.status, 200);
    try {
      const ws = await connect(fx.url(`/ws/echo?id=${newId()}`), { maxPayload: 4 * 1024 * 1024 });
      const bytes = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff);
      const reply = nextMessage(ws, 10_000);
      ws.send(bytes);
      const got = await reply;
      assert.equal(got.data.length, bytes.length);
      assert.deepEqual(new Uint8Array(got.data), bytes);
      ws.close();
    } finally {
      await fx.post("/settings", { maxMsgSize: 262144 });
    }
  });

  test("binary data reaches onMessage as an exact view and text as a string", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    ws.send(new Uint8Array([1, 2, 3]));
    await nextMessage(ws);
    ws.send("abc");
    await nextMessage(ws);
    const messages = await fx.waitFor(() => {
      const found = fx.eventsOf(id).filter((e) => e.type === "message");
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(messages.map((m) => [m.isText, m.size]), [[false, 3], [true, 3]]);
    ws.close();
  });
});

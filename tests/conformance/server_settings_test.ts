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

// Two servers in one process: the fixture's, which follows the global settings, and a
// second one with settings of its own (maxMsgSize 1500, timeout 7).
describe(`settings of one server on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  const ownUrl = (path: string) => `ws://127.0.0.1:${fx.ownPort}${path}`;
  before(async () => {
    fx = await startFixture({ WSX_FIXTURE_OWN: JSON.stringify({ maxMsgSize: 1500, timeout: 7 }) });
    await fx.post("/settings", { maxMsgSize: 5000, timeout: 30 });
  });
  after(() => fx.stop());

  async function echoes(ws: Awaited<ReturnType<typeof connect>>, size: number): Promise<void> {
    const reply = nextMessage(ws);
    ws.send(new Uint8Array(size));
    assert.equal((await reply).data.length, size);
  }

  async function refuses(ws: Awaited<ReturnType<typeof connect>>, size: number): Promise<void> {
    const done = closed(ws);
    ws.send(new Uint8Array(size));
    assert.equal((await done).code, 1009);
  }

  test("a server's own maxMsgSize holds while the other server follows the global one", async () => {
    assert.ok(fx.ownPort, "the fixture started the second server");
    await refuses(await connect(ownUrl(`/ws/echo?id=${newId()}`)), 2000);
    const own = await connect(ownUrl(`/ws/echo?id=${newId()}`));
    await echoes(own, 1500);
    const global = await connect(fx.url(`/ws/echo?id=${newId()}`));
    await echoes(global, 2000);
    // A change of the global setting reaches messages the global server receives after
    // it, on a connection already open; the server with its own setting keeps it.
    await fx.post("/settings", { maxMsgSize: 1000 });
    await echoes(own, 1400);
    await refuses(global, 1200);
    await refuses(own, 1501);
    const stats = (await fx.get("/stats")).body;
    assert.ok(stats.oversize >= 1, "the global server counted its oversize close");
  });

  test("a server's own timeout is captured at open; the other takes the global one", async () => {
    const ownId = newId();
    const globalId = newId();
    const own = await connect(ownUrl(`/ws/echo?id=${ownId}`));
    const global = await connect(fx.url(`/ws/echo?id=${globalId}`));
    assert.equal((await fx.waitEvent(ownId, "open")).timeout, 7);
    assert.equal((await fx.waitEvent(globalId, "open")).timeout, 30);
    own.close();
    global.close();
  });
});

describe(`serve() settings options on ${target}`, () => {
  test("a bad per-server setting is refused naming the option", async () => {
    const { serve } = await import("../../src/adapters/node.ts");
    await assert.rejects(
      serve({ port: 0, onRequest: () => new Response(""), maxMsgSize: 0 }),
      { name: "RangeError", message: /"maxMsgSize"/ },
    );
    await assert.rejects(
      // deno-lint-ignore no-explicit-any -- a wrong value on purpose
      serve({ port: 0, onRequest: () => new Response(""), backpressure: "wait" as any }),
      { name: "TypeError", message: /"backpressure"/ },
    );
  });
});

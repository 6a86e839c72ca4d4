import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import { connect, type Fixture, newId, nextMessage, startFixture, target } from "./_harness.ts";

function pinged(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    ws.once("ping", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe(`timeout pings on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("a silent connection gets a ping after the timeout; older connections keep their own timeout", async () => {
    const oldId = newId();
    const old = await connect(fx.url(`/ws/echo?id=${oldId}`));
    assert.equal((await fx.waitEvent(oldId, "open")).timeout, 40);
    await fx.post("/settings", { timeout: 1 });
    try {
      const id = newId();
      const fresh = await connect(fx.url(`/ws/echo?id=${id}`));
      assert.equal((await fx.waitEvent(id, "open")).timeout, 1);
      const [freshPinged, oldPinged] = await Promise.all([pinged(fresh, 4000), pinged(old, 4000)]);
      assert.equal(freshPinged, true, "the new connection was pinged");
      assert.equal(oldPinged, false, "the connection opened before the change was not");
      // The client answers pings, so the connection stays open.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(fresh.readyState, fresh.OPEN);
      fresh.close();
      old.close();
    } finally {
      await fx.post("/settings", { timeout: 40 });
    }
  });

  test("the first ping comes after timeout seconds of silence, not before", async () => {
    // The timeout is silence from the peer: Bun and Node see it on the shared tick of
    // about a second (so up to a tick or two late), Deno through its own keepalive.
    await fx.post("/settings", { timeout: 2 });
    try {
      const ws = await connect(fx.url("/ws/echo"));
      const reply = nextMessage(ws);
      ws.send("last words");
      const silentFrom = Date.now();
      await reply;
      const ping = await pinged(ws, 6000);
      const silence = Date.now() - silentFrom;
      ws.close();
      assert.equal(ping, true, "pinged within 6 s");
      assert.ok(silence >= 1800, `first ping after ${silence} ms of silence, timeout 2 s`);
      assert.ok(silence <= 4500, `first ping after ${silence} ms of silence, timeout 2 s`);
    } finally {
      await fx.post("/settings", { timeout: 40 });
    }
  });

  test("timeout 0 never pings", async () => {
    await fx.post("/settings", { timeout: 0 });
    try {
      const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
      assert.equal(await pinged(ws, 2500), false);
      ws.close();
    } finally {
      await fx.post("/settings", { timeout: 40 });
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import {
  connect,
  type Fixture,
  newId,
  rawUpgrade,
  shutdownLineFollows,
  startFixture,
  target,
} from "./_harness.ts";

describe(`graceful shutdown on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("1,000 connections get everything written before shutdown, then 1001; onShutdown precedes onClose", async () => {
    const total = 1000;
    const burst = 20;
    const clients: Array<
      { id: string; ws: WebSocket; got: string[]; close?: { code: number; reason: string } }
    > = [];
    for (let i = 0; i < total; i += 100) {
      clients.push(
        ...await Promise.all(Array.from({ length: 100 }, async () => {
          const id = newId("sd");
          const ws = await connect(fx.url(`/ws/cmd?id=${id}`));
          const client: (typeof clients)[number] = { id, ws, got: [] };
          ws.on("message", (data) => client.got.push(data.toString()));
          ws.on("close", (code, reason) => client.close = { code, reason: reason.toString() });
          return client;
        })),
      );
    }
    // Every server write happens before shutdown begins.
    for (const c of clients) c.ws.send(`burst ${burst}`);
    await fx.waitFor(
      () => fx.events.filter((e) => e.type === "burst-written").length === total ? true : undefined,
      20_000,
    );

    // A peer that never answers the close frame holds the shutdown open...
    const stuck = await rawUpgrade(fx.port, `/ws/echo?id=${newId("stuck")}`);
    assert.equal(stuck.status, 101);
    assert.equal((await fx.post("/shutdown?timeoutMs=3000")).status, 202);
    // ...meanwhile new upgrades are refused with 503 (or, once the server has stopped
    // listening, the connection itself is refused).
    const late = await rawUpgrade(fx.port, "/ws/echo").catch((error) => error as Error);
    if (late instanceof Error) {
      // The listener stops as the last step of shutdown(); the fixture prints SHUTDOWN
      // right after, so that line may trail the refusal by a few milliseconds.
      assert.ok(
        await shutdownLineFollows(fx),
        `refused before shutdown ended: ${late.message}`,
      );
    } else {
      assert.equal(late.status, 503);
      late.socket.destroy();
    }

    const done = await fx.waitFor(
      () => fx.lines.find((l) => l.startsWith("SHUTDOWN ")),
      30_000,
      "shutdown",
    );
    assert.equal(JSON.parse(done.slice(9)).count, 0, "resolves when count() is 0");
    await fx.waitFor(
      () => clients.every((c) => c.close) ? true : undefined,
      10_000,
      "client closes",
    )
      .catch((error) => {
        const open = clients.filter((c) => !c.close);
        throw new Error(
          `${error.message}: ${open.length} without a close, e.g. ${open[0]?.id} got ${
            open[0]?.got.length
          }`,
        );
      });

    const expected = [...Array.from({ length: burst }, (_, i) => `m${i}`), "bye-before-shutdown"];
    for (const c of clients) {
      assert.deepEqual(c.got, expected, `client ${c.id} got every message in order`);
      assert.equal(c.close!.code, 1001);
      const types = fx.eventsOf(c.id).map((e) => e.type).filter((t) =>
        t === "shutdown" || t === "close"
      );
      assert.deepEqual(types, ["shutdown", "close"], `server callbacks of ${c.id}`);
    }
    // Every connection hears onShutdown before any connection's onClose runs.
    const order = fx.events.map((e) => e.type).filter((t) => t === "shutdown" || t === "close");
    assert.equal(order.filter((t) => t === "shutdown").length, total + 1);
    assert.ok(
      order.lastIndexOf("shutdown") < order.indexOf("close"),
      `onShutdown and onClose interleave: the first close is event ${order.indexOf("close")}`,
    );
    stuck.socket.destroy();
  });
});

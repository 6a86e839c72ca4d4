import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import { closed, connect, type Fixture, newId, startFixture, target } from "./_harness.ts";

describe(`each and count on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("each with no connections still calls onFinish exactly once", async () => {
    const res = await fx.post("/each?arg=none");
    assert.deepEqual(res.body, { ran: 0, visited: 0, finishCalls: 1 });
    assert.equal((await fx.get("/count")).body.count, 0);
  });

  test("each reaches 1,000 connections except the originator; count sees them all", async () => {
    const total = 1000;
    const clients: WebSocket[] = [];
    const received = new Map<WebSocket, string[]>();
    for (let i = 0; i < total; i += 100) {
      clients.push(
        ...await Promise.all(Array.from({ length: 100 }, () => connect(fx.url("/ws/echo")))),
      );
    }
    const originatorId = newId("orig");
    const originator = await connect(fx.url(`/ws/echo?id=${originatorId}`));
    await fx.waitEvent(originatorId, "open");
    for (const ws of [...clients, originator]) {
      received.set(ws, []);
      ws.on("message", (data) => received.get(ws)!.push(data.toString()));
    }
    assert.equal((await fx.get("/count")).body.count, total + 1);

    const res = await fx.post(`/each?originator=${originatorId}&arg=hello`);
    assert.deepEqual(res.body, { ran: total, visited: total, finishCalls: 1 });
    const deadline = Date.now() + 5000;
    while (clients.some((ws) => received.get(ws)!.length === 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const ws of clients) assert.deepEqual(received.get(ws), ["each:hello"]);
    assert.deepEqual(received.get(originator), [], "the originator is left out");

    const all = await fx.post("/each?arg=all");
    assert.equal(all.body.ran, total + 1, "a null originator reaches every connection");

    const throwing = await fx.post("/each?arg=x&throwEvery=10");
    assert.equal(throwing.body.finishCalls, 1, "a throwing task does not stop onFinish");
    assert.equal(throwing.body.ran, total + 1);

    await Promise.all([...clients, originator].map((ws) => {
      const done = closed(ws);
      ws.close();
      return done;
    }));
    const deadline2 = Date.now() + 5000;
    let count = -1;
    while (Date.now() < deadline2) {
      count = (await fx.get("/count")).body.count;
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(count, 0, "count drops to 0 when every connection closed");
  });
});

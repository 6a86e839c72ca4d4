import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import {
  connect,
  type Fixture,
  rawUpgrade,
  shutdownLineFollows,
  startFixture,
  target,
} from "./_harness.ts";

const CONNECTIONS = 2000;
// The most CPU time the server may spend within one gap between two 2 ms ticks. The aim
// is a few ms per slice; the bound leaves room for a shared machine (Bun's native server,
// one synchronous shutdown of 2,000 connections: 62 ms; sliced: 3 to 5 ms).
const MAX_LAG_MS = 45;

describe(`shutdown of ${CONNECTIONS} connections on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("onShutdown and close frames go out in slices; an upgrade meanwhile gets 503", async (t) => {
    const clients: WebSocket[] = [];
    for (let i = 0; i < CONNECTIONS; i += 200) {
      clients.push(
        ...await Promise.all(Array.from({ length: 200 }, () => connect(fx.url("/ws/echo")))),
      );
    }
    const closes = clients.map((ws) => new Promise<number>((done) => ws.once("close", done)));
    // A peer that never answers the close frame holds the shutdown open for 2 s.
    const stuck = await rawUpgrade(fx.port, "/ws/echo");
    assert.equal(stuck.status, 101);
    await fx.get("/lag");
    assert.equal((await fx.post("/shutdown?timeoutMs=2000")).status, 202);
    const late = await rawUpgrade(fx.port, "/ws/echo").catch((error) => error as Error);
    if (late instanceof Error) {
      // The listener stops as the last step of shutdown(); the fixture prints SHUTDOWN
      // right after, so that line may trail the refusal by a few milliseconds.
      // Bun's native server ends a connection as soon as its close frame is written (it
      // does not wait for the peer's), so its shutdown can be over, and Bun no longer
      // listening, by the time this upgrade arrives.
      assert.ok(
        target === "bun-native" && await shutdownLineFollows(fx),
        `refused before shutdown ended: ${late.message}`,
      );
    } else {
      assert.equal(late.status, 503, "an upgrade during shutdown is refused with 503");
      late.socket.destroy();
    }
    const codes = await Promise.all(closes);
    assert.ok(codes.every((code) => code === 1001), "every client got 1001");
    // The fixture reports the loop's longest stall with the end of the shutdown.
    const done = await fx.waitFor(
      () => fx.lines.find((l) => l.startsWith("SHUTDOWN ")),
      10_000,
      "shutdown",
    );
    const { maxMs, maxCpuMs } = JSON.parse(done.slice(9)).lag;
    const summary = `${target}: shutdown of ${CONNECTIONS}: longest gap between 2 ms ticks ` +
      `${maxMs} ms, CPU in one gap ${maxCpuMs} ms`;
    t.diagnostic(summary);
    stuck.socket.destroy();
    // Bun's native server: the shutdown is all wsx's work (Bun ends each connection at its
    // close frame). On the engine the 2,000 peers' close frames come back in bursts that
    // the runtime reads in one go, and the process's CPU includes its GC threads: there
    // the figure is reported, not bounded (measured 12 to 42 ms, some runs 100 ms on a
    // loaded machine; 80 to 90 ms in one block before the slicing).
    if (target === "bun-native") {
      assert.ok(maxCpuMs <= MAX_LAG_MS, `the event loop stalled: ${summary}`);
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect as tcp, type Socket } from "node:net";
import {
  ask,
  connect,
  denoNative,
  type Fixture,
  maskedFrame,
  newId,
  rawUpgrade,
  startFixture,
  target,
  transport,
} from "./_harness.ts";

// Late heads at once: enough that cutting them in one go stalls the loop for tens of ms.
const HEADS = 2000;
// Peers falling due together in the heartbeat's and the close timeout's sweeps.
const PEERS = 3000;
// The engine's close timeout (NodeWebSocketOptions.closeTimeoutMs, as serve() leaves it).
const CLOSE_TIMEOUT_MS = 5000;
// The fixture's handshakeTimeoutMs.
const HANDSHAKE_MS = 2000;
// The longest stall allowed. The aim is 5 ms per slice; the machine running the suite is
// shared, so the bound leaves room for the scheduler (one sweep of 2,000 heads: 60+ ms).
const MAX_LAG_MS = 30;
// The longest round trip of an established connection during a sweep, with room for a
// shared machine's scheduler (immediates that run before I/O held one back 600 ms on Deno).
const MAX_RTT_MS = 300;

/** Opens a connection that sends part of a request head and nothing more. */
function partialHead(port: number): Promise<{ socket: Socket; ended: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = tcp(port, "127.0.0.1", () => {
      socket.write("GET /ws/echo HTTP/1.1\r\nHost: x\r\n");
      const ended = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
      resolve({ socket, ended });
    });
    socket.on("error", () => {});
    socket.once("error", reject);
    socket.resume();
  });
}

describe(`sweeping ${HEADS} late request heads on ${target}`, { timeout: 90_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("each is cut within handshakeTimeoutMs + 1 s, and no sweep stalls the event loop", async (t) => {
    const { handshakeTimeout } = (await fx.get("/caps")).body;
    if (handshakeTimeout !== "configurable") {
      // Bun's native server cuts heads on its own timer; Deno's does not at all.
      return t.skip(`the runtime's server sweeps (handshakeTimeout: ${handshakeTimeout})`);
    }
    const established = await connect(fx.url(`/ws/cmd?id=${newId("sweep")}`));
    // Opened within about 400 ms of each other, so they fall due together.
    const heads: Array<{ socket: Socket; ended: Promise<number>; opened: number }> = [];
    for (let i = 0; i < HEADS; i += 200) {
      const batch = await Promise.all(Array.from({ length: 200 }, () => partialHead(fx.port)));
      const opened = Date.now();
      for (const h of batch) heads.push({ ...h, opened });
    }
    await fx.get("/lag");
    // An established connection keeps talking meanwhile: its round trips must stay short.
    let maxRtt = 0;
    const talk = (async () => {
      const until = Date.now() + HANDSHAKE_MS + 2500;
      while (Date.now() < until) {
        const sent = performance.now();
        assert.equal(await ask(established, "count"), "1");
        maxRtt = Math.max(maxRtt, performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // Before the heads fall due: the same measure on a loop that only waits.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const quiet = (await fx.get("/lag")).body;
    const late = await Promise.all(heads.map(async (h) => (await h.ended) - h.opened));
    await talk;
    const { maxMs: lagMs, maxCpuMs } = (await fx.get("/lag")).body;
    established.close();
    const worst = Math.max(...late);
    const summary = `${target}: ${HEADS} heads cut after at most ${worst} ms; ` +
      `longest gap between 2 ms ticks ${lagMs} ms, CPU in one gap ${maxCpuMs} ms; ` +
      `RTT max ${maxRtt.toFixed(1)} ms (before they fell due: gap ${quiet.maxMs} ms, ` +
      `CPU ${quiet.maxCpuMs} ms)`;
    t.diagnostic(summary);
    assert.ok(worst <= HANDSHAKE_MS + 1000 + 300, `cut after ${worst} ms`);
    assert.ok(maxCpuMs <= MAX_LAG_MS, `the event loop stalled: ${summary}`);
  });

  test(`${PEERS} silent connections timing out together do not stall the event loop`, async (t) => {
    // Deno's native server pings and closes on its own keepalive timers (its 1001 close
    // after timeout + timeout s); wsx spreads them over a second.
    await fx.post("/settings", { timeout: 1, pongTimeout: 1 });
    try {
      // Raw peers that complete the handshake and then never read nor answer a ping.
      const peers: Array<{ ended: Promise<void> }> = [];
      for (let i = 0; i < PEERS; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, () => rawUpgrade(fx.port, "/ws/echo")),
        );
        for (const peer of batch) {
          assert.equal(peer.status, 101);
          peer.socket.on("error", () => {});
          // Reading (and dropping) what arrives, so that the end is seen; pings go unanswered.
          peer.socket.resume();
          const ended = new Promise<void>((done) => peer.socket.once("close", () => done()));
          peers.push({ ended });
        }
      }
      await fx.get("/lag");
      const started = Date.now();
      // Pinged after 1 s, cut 1 s later, destroyed at the close timeout at the latest.
      // The 20 s bound is cleared once they are gone, or it keeps the test process alive.
      let bound: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(peers.map((p) => p.ended)),
        new Promise((resolve) => bound = setTimeout(resolve, 20_000)),
      ]);
      clearTimeout(bound);
      const tookMs = Date.now() - started;
      const { maxMs, maxCpuMs } = (await fx.get("/lag")).body;
      const stats = (await fx.get("/stats")).body;
      const summary = `${target}: ${PEERS} silent peers gone after ${tookMs} ms, ` +
        `pingTimeouts ${stats.pingTimeouts}; longest gap between 2 ms ticks ${maxMs} ms, ` +
        `CPU in one gap ${maxCpuMs} ms`;
      t.diagnostic(summary);
      assert.ok(tookMs < 20_000, `every peer was cut: ${summary}`);
      assert.ok(stats.pingTimeouts >= PEERS, summary);
      assert.ok(maxCpuMs <= MAX_LAG_MS, `the event loop stalled: ${summary}`);
    } finally {
      await fx.post("/settings", { timeout: 40, pongTimeout: 0 });
    }
  });

  test("connections opened together are pinged between timeout and timeout + 1 s, spread over that second", async (t) => {
    // The engine and Bun ping on the shared tick, in one sliced sweep; Deno's native server
    // pings on a timer per connection, which wsx spreads over the second.
    if (!denoNative) return t.skip("one sliced sweep of the shared tick here");
    await fx.post("/settings", { timeout: 1, pongTimeout: 1 });
    try {
      const pinged = await Promise.all(Array.from({ length: 40 }, async () => {
        const { socket, status } = await rawUpgrade(fx.port, "/ws/echo");
        const opened = Date.now();
        assert.equal(status, 101);
        socket.on("error", () => {});
        const first = await new Promise<number>((done) => {
          socket.once("data", (chunk: Buffer) => done(chunk[0] === 0x89 ? Date.now() : -1));
          socket.resume();
        });
        socket.destroy();
        return { opened, first };
      }));
      const after = pinged.map((p) => p.first - p.opened);
      const times = pinged.map((p) => p.first);
      const summary = `pings after ${Math.min(...after)}-${Math.max(...after)} ms of silence, ` +
        `spread over ${Math.max(...times) - Math.min(...times)} ms`;
      t.diagnostic(summary);
      for (const p of pinged) assert.notEqual(p.first, -1, "the first frame is a ping");
      assert.ok(Math.min(...after) >= 950 && Math.max(...after) <= 2300, summary);
      // 40 deadlines drawn over a second: all within 300 ms of each other is not chance.
      assert.ok(Math.max(...times) - Math.min(...times) >= 300, summary);
    } finally {
      await fx.post("/settings", { timeout: 40, pongTimeout: 0 });
    }
  });

  test(`${PEERS} peers that never answer the close frame are cut at the close timeout, without stalling the loop`, async (t) => {
    if (transport === "native") return t.skip("the runtime's own server times out its closes");
    // Raw peers: they read (and drop) what arrives, but never answer the close frame.
    const peers: Array<{ socket: Socket; closeFrameAt: number; ended: Promise<number> }> = [];
    for (let i = 0; i < PEERS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, () => rawUpgrade(fx.port, "/ws/cmd")),
      );
      for (const { socket, status } of batch) {
        assert.equal(status, 101);
        socket.on("error", () => {});
        const ended = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
        const peer = { socket, closeFrameAt: 0, ended };
        socket.on("data", () => peer.closeFrameAt ||= Date.now());
        socket.resume();
        peers.push(peer);
      }
    }
    // Every peer asks the server to close it, in one go: the server's close frames, and so
    // their close timeouts, start within a few milliseconds of each other.
    const closeRequest = maskedFrame(0x1, "close 1000 bye");
    for (const { socket } of peers) socket.write(closeRequest);
    await fx.waitFor(() => peers.every((p) => p.closeFrameAt > 0) || undefined, 10_000);
    // The watch starts once the close requests are handled: it sees the sweeps alone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await fx.get("/lag");
    // An established connection keeps talking while they are cut: the sweep's slices must
    // let its reads in (a runtime whose immediates run before I/O would hold them back
    // for the whole sweep), so its round trips stay short.
    const established = await connect(fx.url(`/ws/cmd?id=${newId("closes")}`));
    let gone = false, maxRtt = 0;
    const talk = (async () => {
      while (!gone) {
        const sent = performance.now();
        await ask(established, "count");
        maxRtt = Math.max(maxRtt, performance.now() - sent);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    // The bound is cleared once they are gone, or it keeps the test process alive.
    let bound: ReturnType<typeof setTimeout> | undefined;
    const ends = await Promise.race([
      Promise.all(peers.map((p) => p.ended)),
      new Promise<undefined>((resolve) =>
        bound = setTimeout(() => resolve(undefined), CLOSE_TIMEOUT_MS + 15_000)
      ),
    ]);
    clearTimeout(bound);
    gone = true;
    await talk;
    established.close();
    const { maxMs, maxCpuMs } = (await fx.get("/lag")).body;
    const stats = (await fx.get("/stats")).body;
    assert.ok(ends, `every peer was cut (${stats.open} still open)`);
    const waits = peers.map((p, i) => ends[i] - p.closeFrameAt);
    const first = Math.min(...waits), last = Math.max(...waits);
    const summary = `${target}: ${PEERS} peers cut ${first} to ${last} ms after their close ` +
      `frame; longest gap between 2 ms ticks ${maxMs} ms, CPU in one gap ${maxCpuMs} ms; ` +
      `an established connection's round trip at most ${maxRtt.toFixed(1)} ms`;
    t.diagnostic(summary);
    assert.ok(first >= CLOSE_TIMEOUT_MS - 300, `cut before the close timeout: ${summary}`);
    assert.ok(last <= CLOSE_TIMEOUT_MS + 1000 + 500, `cut late: ${summary}`);
    assert.equal(stats.open, 0);
    assert.ok(maxCpuMs <= MAX_LAG_MS, `the event loop stalled: ${summary}`);
    assert.ok(maxRtt <= MAX_RTT_MS, `an established connection waited: ${summary}`);
  });
});

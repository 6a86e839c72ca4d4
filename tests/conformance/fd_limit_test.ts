import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect as tcp, type Socket } from "node:net";
import type WebSocket from "ws";
import { ask, closed, connect, type Fixture, newId, startFixture, target } from "./_harness.ts";

// The server runs with this many file descriptors; the test holds more connections than
// that, so accept() fails with EMFILE while they are held.
const LIMIT = 256;
const HELD = 320;

/** Opens a TCP connection to the port; resolves once connected (the kernel's backlog counts). */
function hold(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = tcp(port, "127.0.0.1", () => resolve(socket));
    // Reset by a server that accepted and shed it: fine, it is held no more.
    socket.on("error", () => resolve(socket));
    socket.setTimeout(15_000, () => socket.destroy());
  });
}

describe(`running out of file descriptors on ${target}`, { timeout: 90_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture({}, { openFileLimit: LIMIT }));
  after(() => fx.stop());

  test(`${HELD} connections at a limit of ${LIMIT}: the process stays up, then serves again`, async () => {
    // WebSocket connections until the server stops completing handshakes, then raw TCP
    // connections that sit in the backlog or get shed: together more than the limit.
    const sockets: WebSocket[] = [];
    for (let i = 0; i < HELD; i += 20) {
      const batch = await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            Promise.race([
              connect(fx.url(`/ws/echo?id=${newId("fd")}`)).catch(() => undefined),
              new Promise<undefined>((resolve) => setTimeout(resolve, 2000)),
            ]),
        ),
      );
      for (const ws of batch) if (ws) sockets.push(ws);
      if (batch.some((ws) => ws === undefined)) break;
    }
    const raws = await Promise.all(
      Array.from({ length: Math.max(0, HELD - sockets.length) }, () => hold(fx.port)),
    );
    assert.ok(sockets.length < HELD, `the limit was reached (${sockets.length} opened)`);
    // While out of descriptors the server is hammered with more attempts, each failing.
    const extra = await Promise.all(Array.from({ length: 40 }, () => hold(fx.port)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(fx.alive, `the server process is alive (stderr: ${fx.stderr.slice(0, 3000)})`);

    for (const ws of sockets) ws.terminate();
    for (const s of [...raws, ...extra]) s.destroy();

    // Within a few seconds of descriptors coming free, HTTP and upgrades work again.
    const started = Date.now();
    let lastError = "";
    for (;;) {
      try {
        const res = await fetch(fx.http("/"), { signal: AbortSignal.timeout(1000) });
        assert.equal(await res.text(), "Hello World!");
        const ws = await connect(fx.url(`/ws/cmd?id=${newId("fdback")}`));
        assert.equal(await ask(ws, "uuid") !== "", true);
        const done = closed(ws);
        ws.close(1000);
        await done;
        break;
      } catch (error) {
        lastError = (error as Error).message;
        assert.ok(
          Date.now() - started < 8000,
          `serves again within 8 s: ${lastError} (stderr: ${fx.stderr.slice(0, 3000)})`,
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const recoveredMs = Date.now() - started;
    assert.ok(fx.alive, "still alive");
    const stats = (await fx.get("/stats")).body;
    const caps = (await fx.get("/caps")).body;
    console.log(
      `# ${target}: opened ${sockets.length} of ${HELD}, serving again after ${recoveredMs} ms, ` +
        `acceptErrors ${stats.acceptErrors} (reported: ${caps.reportsAcceptErrors})`,
    );
    assert.equal(typeof caps.reportsAcceptErrors, "boolean");
    if (caps.reportsAcceptErrors) {
      assert.ok(stats.acceptErrors >= 1, `stats.acceptErrors ${stats.acceptErrors}`);
    }
  });
});

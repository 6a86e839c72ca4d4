import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  ask,
  connect,
  denoNative,
  type Fixture,
  maskedFrame,
  newId,
  nextMessage,
  rawUpgrade,
  startFixture,
  target,
} from "./_harness.ts";

/**
 * Reads a raw client's socket to the end, answering nothing: the server's first close
 * frame, or null when the socket ended without one.
 */
function closeFrameOf(
  socket: Socket,
  rest: Buffer,
): Promise<{ code: number; reason: string } | null> {
  return new Promise((resolve) => {
    let buffered = rest;
    const scan = () => {
      while (buffered.length >= 2) {
        let length = buffered[1] & 0x7f, at = 2;
        if (length === 126) {
          [length, at] = [buffered.length < 4 ? Infinity : buffered.readUInt16BE(2), 4];
        } else if (length === 127) {
          [length, at] = [
            buffered.length < 10 ? Infinity : Number(buffered.readBigUInt64BE(2)),
            10,
          ];
        }
        if (buffered.length < at + length) return;
        const payload = buffered.subarray(at, at + length);
        if ((buffered[0] & 0x0f) === 8) {
          return resolve(
            payload.length < 2
              ? { code: 1005, reason: "" }
              : { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() },
          );
        }
        buffered = buffered.subarray(at + length);
      }
    };
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      scan();
    });
    socket.once("close", () => resolve(null));
    socket.on("error", () => {});
    socket.resume();
    scan();
  });
}

describe(`dead peers and backpressure on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("a peer that never answers pings is closed after timeout + pongTimeout, even while the server writes, and onClose reports the close the peer saw", async () => {
    await fx.post("/settings", { timeout: 1, pongTimeout: 1 });
    try {
      const id = newId();
      const { socket, status, rest } = await rawUpgrade(fx.port, `/ws/cmd?id=${id}`);
      assert.equal(status, 101);
      socket.write(maskedFrame(1, "stream"));
      const silentFrom = Date.now();
      const seen = closeFrameOf(socket, rest); // reads everything, answers nothing
      const event = await fx.waitEvent(id, "close", 8000);
      const silence = Date.now() - silentFrom;
      assert.ok(
        silence >= 1800,
        `closed after ${silence} ms of silence, timeout 1 s + pongTimeout 1 s`,
      );
      // The bound is cleared once the socket ends, or it keeps the test process alive.
      let bound: ReturnType<typeof setTimeout> | undefined;
      const frame = await Promise.race([
        seen,
        new Promise((resolve) => bound = setTimeout(resolve, 3000, "socket still open")),
      ]);
      clearTimeout(bound);
      // The engine and Bun cut the socket (1006); Deno's native keepalive sends its own
      // close frame.
      const expected = denoNative ? { code: 1001, reason: "No response from ping frame." } : null;
      assert.deepEqual(frame, expected);
      if (frame === null) {
        assert.equal(event.code, 1006);
        assert.match(String(event.reason), /^Ping timeout/);
      } else {
        assert.deepEqual({ code: event.code, reason: event.reason }, frame);
      }
      const stats = (await fx.get("/stats")).body;
      assert.ok(stats.pingTimeouts >= 1, "counted in stats.pingTimeouts");
      socket.destroy();
    } finally {
      await fx.post("/settings", { timeout: 40, pongTimeout: 0 });
    }
  });

  test("a client that stops reading cannot grow the server's buffer past maxBufferedBytes (policy close: 1008)", async () => {
    await fx.post("/settings", { maxBufferedBytes: 1 << 20, backpressure: "close" });
    try {
      const id = newId();
      const { socket } = await rawUpgrade(fx.port, `/ws/cmd?id=${id}`);
      socket.write(maskedFrame(1, `flood ${256 << 20}`)); // then never read
      const done = await fx.waitEvent(id, "flood-done", 20_000);
      const results = done.results as Record<string, number>;
      assert.ok((results.closed ?? 0) >= 1, `writes end with "closed": ${JSON.stringify(results)}`);
      assert.ok(Number(done.maxBuffered) <= (1 << 20) + 65536, `buffered ${done.maxBuffered}`);
      socket.destroy();
      const close = await fx.waitEvent(id, "close", 10_000);
      assert.equal(close.code, 1008);
    } finally {
      await fx.post("/settings", { maxBufferedBytes: 4 << 20, backpressure: "close" });
    }
  });

  test("with the drop policy writes over the cap are dropped, the connection lives, and onDrain follows", async () => {
    await fx.post("/settings", { maxBufferedBytes: 1 << 20, backpressure: "drop" });
    try {
      const id = newId();
      const { socket } = await rawUpgrade(fx.port, `/ws/cmd?id=${id}`);
      socket.write(maskedFrame(1, `flood ${32 << 20}`));
      const done = await fx.waitEvent(id, "flood-done", 20_000);
      const results = done.results as Record<string, number>;
      assert.ok((results.dropped ?? 0) >= 1, JSON.stringify(results));
      assert.equal(results.closed ?? 0, 0);
      assert.ok(Number(done.maxBuffered) <= (1 << 20) + 65536, `buffered ${done.maxBuffered}`);
      assert.ok((await fx.get("/stats")).body.droppedWrites >= 1);
      socket.resume(); // the client reads again: the backlog drains
      await fx.waitEvent(id, "drain", 10_000);
      socket.destroy();
    } finally {
      await fx.post("/settings", { maxBufferedBytes: 4 << 20, backpressure: "close" });
    }
  });

  test("the round trip of the last ping is measured where the runtime reports pongs", async (t) => {
    await fx.post("/settings", { timeout: 1 });
    try {
      const ws = await connect(fx.url("/ws/cmd"));
      await new Promise((resolve) => ws.once("ping", resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { rtt, pongs } = JSON.parse(await ask(ws, "rtt"));
      ws.close();
      if (!pongs) return t.skip("this runtime does not report pongs (capabilities.pongs is false)");
      assert.equal(typeof rtt, "number");
      assert.ok(rtt >= 0 && rtt < 2000, `round trip ${rtt} ms`);
    } finally {
      await fx.post("/settings", { timeout: 40 });
    }
  });

  test("lastHeardAt follows inbound traffic", async () => {
    const ws = await connect(fx.url("/ws/cmd"));
    const reply = nextMessage(ws);
    ws.send("lastheard");
    const heard = Number((await reply).data.toString());
    assert.ok(Math.abs(Date.now() - heard) < 3000, `lastHeardAt ${heard} is recent`);
    ws.close();
  });
});

/**
 * Large payloads read straight into their own buffer (`src/rfc6455/direct_read.ts`): what
 * a client observes must not change when a connection's reads move to the direct path,
 * whatever comes after the large frame in the stream.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, test } from "node:test";
import { clientFrame, closePayload, RawClient } from "./_client.ts";
import { type EchoOptions, type EchoServer, type ServerSide, startEchoServer } from "./_harness.ts";

const TEXT = 1, BINARY = 2, CONTINUATION = 0, CLOSE = 8, PING = 9, PONG = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withServer(opts: EchoOptions, fn: (s: EchoServer) => Promise<void>): Promise<void> {
  const server = await startEchoServer(opts);
  try {
    await fn(server);
  } finally {
    await server.close();
    for (const side of server.sides) {
      await side.closed;
      assert.equal(side.closeCount, 1, "closed is reported exactly once");
    }
  }
}

async function connected(server: EchoServer): Promise<[RawClient, ServerSide]> {
  const c = await RawClient.connect(server.port);
  for (let i = 0; i < 200 && server.sides.length === 0; i++) await sleep(1);
  return [c, server.sides.at(-1)!];
}

// Byte for byte, whatever the view's class (Buffer or Uint8Array).
function sameBytes(actual: Uint8Array, expected: Uint8Array, what = ""): void {
  assert.equal(actual.byteLength, expected.byteLength, what);
  assert.equal(Buffer.compare(actual, expected), 0, what);
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

// Writes `bytes` in pieces, waiting between them so that each piece is its own read.
async function trickle(c: RawClient, bytes: Uint8Array, sizes: number[]): Promise<void> {
  let at = 0;
  for (const size of sizes) {
    c.write(bytes.subarray(at, at + size));
    at += size;
    await sleep(5);
  }
  if (at < bytes.length) c.write(bytes.subarray(at));
}

describe("NodeWebSocket with large payloads split across reads", () => {
  test("echoes large binary messages byte for byte, with small frames between them", async () => {
    await withServer({ maxMsgSize: 1 << 21 }, async (server) => {
      const [c] = await connected(server);
      const sizes = [200_000, 17, 65_536, 70_000, 3, 300_000, 1 << 20];
      for (const [i, size] of sizes.entries()) {
        const payload = pattern(size, i);
        await trickle(c, clientFrame(BINARY, payload), [1500, 20_000]);
        const frame = await c.read();
        assert.equal(frame.opcode, BINARY);
        sameBytes(frame.payload, payload, `message ${i} (${size} bytes)`);
      }
      c.send(CLOSE, closePayload(1000));
      await c.expectClose(1000);
    });
  });

  test("answers a ping and a close that follow a large frame in the same write", async () => {
    await withServer({ maxMsgSize: 1 << 20 }, async (server) => {
      const [c, side] = await connected(server);
      const big = pattern(150_000, 7), frame = clientFrame(BINARY, big);
      await trickle(c, frame, [2000, 30_000]);
      sameBytes((await c.read()).payload, big);
      const next = pattern(90_000, 9);
      const tail = [
        clientFrame(BINARY, next),
        clientFrame(PING, "p"),
        clientFrame(CLOSE, closePayload(1000, "bye")),
      ];
      const all = new Uint8Array(tail.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of tail) all.set(f, (at += f.length) - f.length);
      await trickle(c, all, [1000]);
      sameBytes((await c.read()).payload, next);
      const pong = await c.read();
      assert.equal(pong.opcode, PONG);
      assert.equal(new TextDecoder().decode(pong.payload), "p");
      await c.expectClose(1000);
      assert.deepEqual(await side.closed, [1000, "bye"]);
    });
  });

  test("joins a large fragmented text message and checks its UTF-8", async () => {
    await withServer({ maxMsgSize: 1 << 20 }, async (server) => {
      const [c] = await connected(server);
      const text = "é€😀".repeat(20_000);
      const bytes = new TextEncoder().encode(text), half = 100_001; // splits a code point
      await trickle(c, clientFrame(TEXT, bytes.subarray(0, half), { fin: false }), [900]);
      await trickle(c, clientFrame(CONTINUATION, bytes.subarray(half)), [900]);
      const frame = await c.read();
      assert.equal(frame.opcode, TEXT);
      assert.equal(new TextDecoder().decode(frame.payload), text);
    });
  });

  test("fails a large text message whose invalid UTF-8 comes in a later read with 1007", async () => {
    await withServer({ maxMsgSize: 1 << 20 }, async (server) => {
      const [c, side] = await connected(server);
      const bytes = new TextEncoder().encode("a".repeat(120_000));
      bytes[100_000] = 0xff;
      await trickle(c, clientFrame(TEXT, bytes), [1000, 20_000]);
      await c.expectClose(1007);
      assert.equal((await side.closed)[0], 1007);
    });
  });

  test("keeps each delivered message intact when the handler holds on to it", async () => {
    const kept: Uint8Array[] = [];
    const opts: EchoOptions = {
      maxMsgSize: 1 << 20,
      onMessage: (ws, data) => {
        kept.push(data as Uint8Array);
        ws.send(data, false);
      },
    };
    await withServer(opts, async (server) => {
      const [c] = await connected(server);
      const sent = [0, 1, 2, 3].map((i) => pattern(80_000 + i * 1000, i));
      for (const payload of sent) {
        await trickle(c, clientFrame(BINARY, payload), [1200]);
        sameBytes((await c.read()).payload, payload);
      }
      assert.equal(kept.length, sent.length);
      for (const [i, payload] of sent.entries()) sameBytes(kept[i], payload, `kept ${i}`);
    });
  });

  test("reports 1006 once when the peer goes away in the middle of a large payload", async () => {
    await withServer({ maxMsgSize: 1 << 20 }, async (server) => {
      const [c, side] = await connected(server);
      const frame = clientFrame(BINARY, pattern(200_000, 3));
      await trickle(c, frame.subarray(0, 50_000), [1000]);
      await sleep(20);
      c.destroy();
      assert.equal((await side.closed)[0], 1006);
    });
  });
});

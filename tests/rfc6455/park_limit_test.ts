// Replies parked for the end of the turn count in
// `bufferedAmount`, which `maxBufferedBytes` judges: parking too much would take a fast
// peer on loopback that sends a burst of binary messages for a slow reader (1008).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { serve, type WsxServer } from "../../src/adapters/node.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import type { UpgradeSettings } from "../../src/types.ts";

const CLIENTS = 4;
const MESSAGES = 128;
const SIZE = 8 * 1024;
// Well above what one read's replies (64 KiB) and a second read's hold.
const MAX_BUFFERED = 384 * 1024;

let maxSeen = 0;
const closes: number[] = [];
const echo: UpgradeSettings<undefined> = {
  onMessage(ws, data, isText) {
    ws.write(data, isText);
    maxSeen = Math.max(maxSeen, ws.bufferedAmount);
  },
  onClose(_ws, code) {
    closes.push(code);
  },
};

// One client: sends MESSAGES binary messages at once; how many echoes came back and the
// close code it saw (0: still open when all came back).
function burst(port: number): Promise<{ echoed: number; code: number }> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    let echoed = 0;
    const timer = setTimeout(() => {
      client.terminate();
      resolve({ echoed, code: -1 });
    }, 10_000);
    client.on("error", reject);
    client.on("open", () => {
      const payload = new Uint8Array(SIZE).fill(7);
      for (let i = 0; i < MESSAGES; i++) client.send(payload, { binary: true });
    });
    client.on("message", () => {
      if (++echoed < MESSAGES) return;
      clearTimeout(timer);
      client.close();
      resolve({ echoed, code: 0 });
    });
    client.on("close", (code) => {
      clearTimeout(timer);
      resolve({ echoed, code });
    });
  });
}

describe("Outbox PARK_LIMIT and maxBufferedBytes", () => {
  let server: WsxServer;
  before(async () => {
    server = await serve({
      port: 0,
      hostname: "127.0.0.1",
      maxBufferedBytes: MAX_BUFFERED,
      onRequest: (req: Request) => upgrade(req, echo),
    });
  });
  after(() => server.shutdown({ timeoutMs: 500 }));

  test("a loopback peer that reads everything is never closed as a slow reader", async () => {
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, () => burst(server.port)),
    );
    const summary = JSON.stringify({ results, closes, maxSeen });
    for (const r of results) assert.deepEqual(r, { echoed: MESSAGES, code: 0 }, summary);
    assert.ok(!closes.includes(1008), summary);
  });
});

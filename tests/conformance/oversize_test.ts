/**
 * Clients that announce a huge message: the server must refuse it from the frame header
 * (1009) without buffering the payload, so memory stays flat however many do it at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { denoNative, type Fixture, rawUpgrade, startFixture, target } from "./_harness.ts";

const ANNOUNCED = 60 * 1024 * 1024;
// 40 MiB in all, more than the bound: a server that buffered it would fail.
const STREAMED = 5 * 1024 * 1024;
const CLIENTS = 8;
const RSS_BOUND = 32 * 1024 * 1024;

/** A masked binary frame header announcing `length` bytes (64-bit length). */
function hugeHeader(length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  header.set([0x12, 0x34, 0x56, 0x78], 10);
  return header;
}

/** Resolves with the code of the first close frame the server sends, or null when the socket ends without one. */
function closeCode(socket: Socket, rest: Buffer, ms = 10_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    let received = rest;
    const timer = setTimeout(() => reject(new Error("no close frame in time")), ms);
    const look = () => {
      if (received.length < 4) return false;
      assert.equal(received[0], 0x88, "the first frame is a close frame");
      clearTimeout(timer);
      resolve(received.readUInt16BE(2));
      return true;
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      look();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      if (!look()) resolve(null);
    });
    socket.resume();
    look();
  });
}

/** Writes `total` bytes of payload in 64 KiB chunks while the socket takes them. */
async function stream(socket: Socket, total: number): Promise<number> {
  const chunk = Buffer.alloc(65536, 0x61);
  let sent = 0;
  while (sent < total && !socket.destroyed && socket.writable) {
    sent += chunk.length;
    if (!socket.write(chunk)) {
      await new Promise((resolve) => {
        socket.once("drain", resolve);
        socket.once("close", resolve);
        setTimeout(resolve, 2000);
      });
    }
  }
  return sent;
}

describe(`messages announced far over maxMsgSize on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture({ WSX_FIXTURE_SETTINGS: '{"maxMsgSize":262144}' }));
  after(() => fx.stop());

  test("a frame header announcing 60 MiB is answered with 1009 before any payload", async (t) => {
    if (denoNative) return t.skip("Deno's native server buffers a message before wsx sees it");
    const { socket, status, rest } = await rawUpgrade(fx.port, "/ws/echo");
    assert.equal(status, 101);
    const code = closeCode(socket, rest);
    socket.write(hugeHeader(ANNOUNCED));
    assert.equal(await code, 1009);
    socket.destroy();
  });

  test(`${CLIENTS} clients streaming 60 MiB messages at once: all closed with 1009, RSS bounded`, async (t) => {
    if (denoNative) return t.skip("Deno's native server buffers a message before wsx sees it");
    // Warm up the paths an oversize close takes, so that their first use is not counted.
    for (let i = 0; i < 2; i++) {
      const warm = await rawUpgrade(fx.port, "/ws/echo");
      const warmed = closeCode(warm.socket, warm.rest);
      warm.socket.write(hugeHeader(ANNOUNCED));
      await stream(warm.socket, STREAMED);
      assert.equal(await warmed, 1009);
      warm.socket.destroy();
    }
    const before = (await fx.get("/memory")).body.rss as number;
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, () => rawUpgrade(fx.port, "/ws/echo")),
    );
    const codes = clients.map(({ socket, rest }) => closeCode(socket, rest));
    const sent = await Promise.all(clients.map(({ socket }) => {
      socket.write(hugeHeader(ANNOUNCED));
      return stream(socket, STREAMED);
    }));
    assert.deepEqual(await Promise.all(codes), Array(CLIENTS).fill(1009));
    const after = (await fx.get("/memory")).body.rss as number;
    for (const { socket } of clients) socket.destroy();
    const grown = after - before;
    t.diagnostic(
      `RSS +${(grown / 1048576).toFixed(1)} MiB; streamed ${
        sent.map((n) => n >> 20).join("/")
      } MiB`,
    );
    assert.ok(grown < RSS_BOUND, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    const stats = (await fx.get("/stats")).body;
    assert.ok(stats.oversize >= CLIENTS, `stats.oversize ${stats.oversize}`);
  });
});

// Large payloads read straight into their own buffers (src/rfc6455/socket_reads.ts):
// what the application sees must not change, whatever the reads look like. Each case
// sends payloads of more than 16 KiB split across the client's writes, so that the
// server's parser waits for their rest and the socket switches to reads of its own.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Socket } from "node:net";
import { clientFrame, RawClient } from "./_client.ts";
import { startEchoServer } from "./_harness.ts";

const OP_TEXT = 1, OP_BINARY = 2;

// A payload whose every byte depends on its seed and position.
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 255;
  return out;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// Byte for byte, whatever the view's class (a Buffer or a Uint8Array).
function same(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.deepEqual(Uint8Array.from(actual), expected, message);
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), "condition never met");
}

describe("Reads straight into a large payload's buffer", () => {
  test("messages kept after onMessage returned keep their bytes while later ones arrive", async () => {
    const kept: Uint8Array[] = [];
    const server = await startEchoServer({
      onMessage(ws, data, isText) {
        if (!isText) kept.push(data as Uint8Array);
        ws.send(data, isText);
      },
    });
    try {
      const c = await RawClient.connect(server.port);
      const sizes = [70_000, 65_536, 32, 200_000, 16_385, 5, 65_536, 300_000, 100];
      const frames = sizes.map((n, i) => clientFrame(OP_BINARY, pattern(n, i)));
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);
      // Uneven pieces with pauses: payloads end up split across reads at every offset.
      await c.writeChunked(all, 9_973, 2);
      for (let i = 0; i < sizes.length; i++) {
        const echoed = (await c.read(5000)).payload;
        same(echoed, pattern(sizes[i], i), `echo ${i} (${sizes[i]} B)`);
      }
      assert.equal(kept.length, sizes.length);
      for (let i = 0; i < sizes.length; i++) {
        same(kept[i], pattern(sizes[i], i), `kept message ${i} (${sizes[i]} B)`);
      }
      c.destroy();
    } finally {
      await server.close();
    }
  });

  test("pipelined 64 KiB messages echo intact, in order, and keep their bytes", async () => {
    const kept: Uint8Array[] = [];
    const server = await startEchoServer({
      onMessage(ws, data, isText) {
        kept.push(data as Uint8Array);
        ws.send(data, isText);
      },
    });
    try {
      const c = await RawClient.connect(server.port);
      const count = 48;
      for (let i = 0; i < count; i++) c.send(OP_BINARY, pattern(65_536, i));
      for (let i = 0; i < count; i++) {
        same((await c.read(5000)).payload, pattern(65_536, i), `message ${i}`);
      }
      for (let i = 0; i < count; i++) same(kept[i], pattern(65_536, i), `kept message ${i}`);
      c.destroy();
    } finally {
      await server.close();
    }
  });

  test("a message sent in large fragments joins intact, each read into its own buffer", async () => {
    const server = await startEchoServer();
    try {
      const c = await RawClient.connect(server.port);
      const parts = 4, size = 65_536;
      for (let m = 0; m < 3; m++) {
        for (let i = 0; i < parts; i++) {
          c.send(i === 0 ? OP_BINARY : 0, pattern(size, m * parts + i), { fin: i === parts - 1 });
        }
      }
      for (let m = 0; m < 3; m++) {
        const whole = new Uint8Array(parts * size);
        for (let i = 0; i < parts; i++) whole.set(pattern(size, m * parts + i), i * size);
        same((await c.read(5000)).payload, whole, `message ${m}`);
      }
      c.destroy();
    } finally {
      await server.close();
    }
  });

  test("the application's socket stays the same, counts what it read, and still ends", async () => {
    const server = await startEchoServer();
    try {
      const c = await RawClient.connect(server.port);
      await until(() => server.sides.length === 1);
      const side = server.sides[0];
      const socket = side.ws.raw as Socket;
      const frame = clientFrame(OP_BINARY, pattern(100_000, 1));
      await c.writeChunked(frame, 30_000, 5);
      same((await c.read(5000)).payload, pattern(100_000, 1));
      c.send(OP_TEXT, "after");
      assert.equal(text((await c.read(5000)).payload), "after");
      assert.equal(side.ws.raw, socket);
      assert.ok(socket.bytesRead >= frame.length, `bytesRead ${socket.bytesRead}`);
      socket.end();
      await c.ended;
      assert.deepEqual(await side.closed, [1006, ""]);
    } finally {
      await server.close();
    }
  });

  test("invalid UTF-8 in a large text payload read straight into its buffer closes with 1007", async () => {
    const server = await startEchoServer();
    try {
      const c = await RawClient.connect(server.port);
      const first = clientFrame(OP_BINARY, pattern(40_000, 2));
      await c.writeChunked(first, 10_000, 5);
      same((await c.read(5000)).payload, pattern(40_000, 2));
      const bad = new TextEncoder().encode("a".repeat(60_000));
      bad[50_000] = 0xff;
      await c.writeChunked(clientFrame(OP_TEXT, bad), 10_000, 5);
      const close = await c.read(5000);
      assert.equal((close.payload[0] << 8) | close.payload[1], 1007);
      assert.equal((await server.sides[0].closed)[0], 1007);
    } finally {
      await server.close();
    }
  });

  test("maxMsgSize still closes with 1009 once the socket reads into the engine's buffers", async () => {
    const server = await startEchoServer({ maxMsgSize: 100_000 });
    try {
      const c = await RawClient.connect(server.port);
      await c.writeChunked(clientFrame(OP_BINARY, pattern(90_000, 3)), 20_000, 5);
      same((await c.read(5000)).payload, pattern(90_000, 3));
      c.send(OP_BINARY, pattern(100_001, 4));
      const close = await c.read(5000);
      assert.equal((close.payload[0] << 8) | close.payload[1], 1009);
      assert.equal((await server.sides[0].closed)[0], 1009);
    } finally {
      await server.close();
    }
  });
});

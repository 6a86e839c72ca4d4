/**
 * NodeWebSocket behaviour over real sockets: coalesced writes, backpressure, every
 * closing path reporting `closed` exactly once.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import { encodeText } from "../../src/rfc6455/encoder.ts";
import type { NodeWebSocket } from "../../src/rfc6455/socket.ts";
import { clientFrame, closePayload, RawClient } from "./_client.ts";
import { type EchoOptions, type EchoServer, type ServerSide, startEchoServer } from "./_harness.ts";

const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;
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

// Calls `seen` on every socket.write on the server side of a connection.
function onWrite(side: ServerSide, seen: () => void): void {
  const socket = side.ws.raw as Duplex;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  (socket as { write: unknown }).write = (...args: unknown[]) => {
    seen();
    return write(...args);
  };
}

// Counts socket.write calls on the server side of a connection.
function countWrites(side: ServerSide): { count: number } {
  const counter = { count: 0 };
  onWrite(side, () => void counter.count++);
  return counter;
}

// Logs "write a", "write b", ... for the server sides of the connections, in accept order.
function logWrites(server: EchoServer, log: string[]): void {
  server.sides.forEach((side, i) => onWrite(side, () => void log.push(`write ${"ab"[i]}`)));
}

describe("NodeWebSocket", () => {
  test("NodeWebSocket reports its capabilities", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      assert.deepEqual(side.ws.capabilities, {
        ping: true,
        inboundControlFrames: true,
        pongs: true,
        enforcesMaxMsgSize: true,
        runtimeKeepalive: false,
        headersOn101: true,
        perMessageDeflate: "per-upgrade",
        streaming: true,
        abort: true,
      });
      c.destroy();
    });
  });

  test("NodeWebSocket answers 64 pipelined messages in one chunk with one socket write", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      const writes = countWrites(side);
      const heardBefore = side.heard;
      c.write(
        Buffer.concat(Array.from({ length: 64 }, (_, i) => clientFrame(TEXT, `message ${i}`))),
      );
      for (let i = 0; i < 64; i++) {
        assert.equal(Buffer.from((await c.read()).payload).toString(), `message ${i}`);
      }
      const chunks = side.heard - heardBefore;
      assert.ok(chunks >= 1);
      assert.equal(writes.count, chunks, "one write per incoming chunk");
      c.destroy();
    });
  });

  test("NodeWebSocket answers the chunks read in one turn after all of that turn's reads", async () => {
    const log: string[] = [];
    const onMessage = (ws: NodeWebSocket, data: string | Uint8Array, isText: boolean) => {
      log.push(`message ${data}`);
      ws.send(data, isText);
    };
    await withServer({ onMessage }, async (server) => {
      const [a] = await connected(server);
      const [b] = await connected(server);
      logWrites(server, log);
      // Both writes reach the server's sockets before this turn ends (loopback delivers
      // within the write), so its next poll reads both in one turn. A turn that takes
      // over 1 ms (this process descheduled on a busy machine) flushes early by design:
      // a few tries.
      for (let attempt = 0; attempt < 5; attempt++) {
        log.length = 0;
        a.write(clientFrame(TEXT, "a"));
        b.write(clientFrame(TEXT, "b"));
        assert.equal(Buffer.from((await a.read()).payload).toString(), "a");
        assert.equal(Buffer.from((await b.read()).payload).toString(), "b");
        if (log[1] === "message b") break;
      }
      assert.deepEqual(log, ["message a", "message b", "write a", "write b"]);
      a.destroy();
      b.destroy();
    });
  });

  test("NodeWebSocket answers a lone connection's message in the callback that read it", async () => {
    const log: string[] = [];
    const onMessage = (ws: NodeWebSocket, data: string | Uint8Array, isText: boolean) => {
      log.push(`message ${data}`);
      setImmediate(() => log.push("turn end"));
      ws.send(data, isText);
    };
    await withServer({ onMessage }, async (server) => {
      const [a] = await connected(server);
      logWrites(server, log);
      // The first reply may wait for its turn's end: the turn before it (another test's)
      // read several connections. From then on the turns read this connection alone.
      a.write(clientFrame(TEXT, "0"));
      await a.read();
      for (const text of ["1", "2", "3"]) {
        log.length = 0;
        a.write(clientFrame(TEXT, text));
        assert.equal(Buffer.from((await a.read()).payload).toString(), text);
        await sleep(1);
        // Nothing else was read in that turn: no wait for the end of the turn.
        assert.deepEqual(log, [`message ${text}`, "write a", "turn end"]);
      }
      a.destroy();
    });
  });

  test("NodeWebSocket does not hold a reply past about 1 ms for slow handlers of the same turn", async () => {
    const log: string[] = [];
    const onMessage = (ws: NodeWebSocket, data: string | Uint8Array, isText: boolean) => {
      log.push(`message ${data}`);
      const until = performance.now() + 5;
      while (performance.now() < until) { /* a slow handler */ }
      ws.send(data, isText);
    };
    await withServer({ onMessage }, async (server) => {
      const [a] = await connected(server);
      const [b] = await connected(server);
      logWrites(server, log);
      a.write(clientFrame(TEXT, "a"));
      b.write(clientFrame(TEXT, "b"));
      assert.equal(Buffer.from((await a.read()).payload).toString(), "a");
      assert.equal(Buffer.from((await b.read()).payload).toString(), "b");
      assert.deepEqual(log, ["message a", "write a", "message b", "write b"]);
      a.destroy();
      b.destroy();
    });
  });

  test("NodeWebSocket coalesces sends made within one tick outside a chunk", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      const writes = countWrites(side);
      for (let i = 0; i < 10; i++) assert.equal(side.ws.send(`tick ${i}`, true), "sent");
      side.ws.send(new Uint8Array([1, 2, 3]), false);
      side.ws.ping();
      assert.equal(side.ws.bufferedAmount > 0, true, "held until the tick ends");
      await sleep(0);
      assert.equal(writes.count, 1);
      for (let i = 0; i < 10; i++) {
        assert.equal(Buffer.from((await c.read()).payload).toString(), `tick ${i}`);
      }
      assert.deepEqual([...(await c.read()).payload], [1, 2, 3]);
      assert.equal((await c.read()).opcode, PING);
      c.destroy();
    });
  });

  test("NodeWebSocket sends strings as binary and bytes as text when asked", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      side.ws.send("é", false);
      side.ws.send(new TextEncoder().encode("ok"), true);
      const a = await c.read(), b = await c.read();
      assert.deepEqual([a.opcode, ...a.payload], [BINARY, 0xc3, 0xa9]);
      assert.deepEqual([b.opcode, Buffer.from(b.payload).toString()], [TEXT, "ok"]);
      c.destroy();
    });
  });

  test("NodeWebSocket sends large payloads without loss", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      const bytes = new Uint8Array(300000).map((_, i) => i * 7);
      const text = "ü".repeat(100000);
      side.ws.send(bytes, false);
      side.ws.send(text, true);
      side.ws.send("small", true);
      assert.deepEqual((await c.read()).payload, bytes);
      assert.equal(Buffer.from((await c.read()).payload).toString(), text);
      assert.equal(Buffer.from((await c.read()).payload).toString(), "small");
      c.destroy();
    });
  });

  test("NodeWebSocket sends a frame encoded once to many connections", async () => {
    await withServer({}, async (server) => {
      const pairs = [await connected(server), await connected(server), await connected(server)];
      for (const frame of [encodeText("to all"), encodeText("x".repeat(20000))]) {
        // A large frame fills the socket's buffer at once: "queued" is backpressure, not loss.
        for (const [, side] of pairs) assert.match(side.ws.sendFrame(frame), /^(sent|queued)$/);
        for (const [c] of pairs) {
          const f = await c.read();
          assert.equal(f.opcode, TEXT);
          assert.equal(
            Buffer.from(f.payload).toString(),
            Buffer.concat(frame).subarray(frame[0][1] === 126 ? 4 : 2).toString(),
          );
        }
      }
      for (const [c] of pairs) c.destroy();
    });
  });

  test("NodeWebSocket encodes a broadcast into the shared slab unless it is large", async () => {
    await withServer({}, async (server) => {
      const pairs = [await connected(server), await connected(server)];
      const ws = pairs[0][1].ws;
      // 6,000 characters: more than the slab takes as a string, but few enough bytes.
      const texts = ["hi", "x".repeat(6000), "é".repeat(9000)];
      const encoded = texts.map((t) => ws.encode(t, true));
      assert.deepEqual(encoded.map(Array.isArray), [false, false, true]);
      for (const frame of encoded) {
        for (const [, side] of pairs) assert.match(side.ws.sendEncoded(frame), /^(sent|queued)$/);
      }
      for (const [c] of pairs) {
        for (const text of texts) {
          const f = await c.read();
          assert.equal(f.opcode, TEXT);
          assert.equal(Buffer.from(f.payload).toString(), text);
        }
        c.destroy();
      }
    });
  });

  test("NodeWebSocket parses frames that arrived with the upgrade request (head)", async () => {
    await withServer({}, async (server) => {
      const socket = connect(server.port, "127.0.0.1");
      await once(socket, "connect");
      const request = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      socket.write(Buffer.concat([Buffer.from(request), clientFrame(TEXT, "early")]));
      let got = Buffer.alloc(0);
      while (!got.includes("early")) got = Buffer.concat([got, (await once(socket, "data"))[0]]);
      assert.ok(got.toString("latin1").startsWith("HTTP/1.1 101"));
      socket.destroy();
    });
  });

  test("NodeWebSocket close() sends the code, waits for the peer's close, then reports it", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      side.ws.close(4000, "bye");
      assert.equal(side.ws.send("late", true), "closed");
      const f = await c.expectClose(4000);
      assert.equal(Buffer.from(f.payload.subarray(2)).toString(), "bye");
      c.send(CLOSE, closePayload(4000));
      assert.deepEqual(await side.closed, [4000, ""]);
      assert.equal(await c.closedWithin(3000), true);
    });
  });

  test("NodeWebSocket still delivers messages while its close is unanswered", async () => {
    const seen: string[] = [];
    await withServer({ onMessage: (_ws, d) => void seen.push(d as string) }, async (server) => {
      const [c, side] = await connected(server);
      side.ws.close(1000, "");
      await c.expectClose(1000);
      c.send(TEXT, "in flight");
      c.send(CLOSE, closePayload(1000));
      await side.closed;
      assert.deepEqual(seen, ["in flight"]);
    });
  });

  test("NodeWebSocket gives up after closeTimeoutMs with 1006 when the peer never answers", async () => {
    await withServer({ closeTimeoutMs: 100 }, async (server) => {
      const [c, side] = await connected(server);
      side.ws.close(1000, "");
      await c.expectClose(1000);
      const [code, reason] = await side.closed;
      assert.equal(code, 1006);
      assert.match(reason, /^Close timeout/);
      assert.equal(await c.closedWithin(3000), true);
    });
  });

  test("NodeWebSocket terminate() destroys at once and reports 1006", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      side.ws.terminate();
      side.ws.terminate();
      assert.deepEqual(await side.closed, [1006, ""]);
      assert.equal(side.ws.send("x", true), "closed");
      assert.equal(await c.closedWithin(3000), true);
    });
  });

  test("NodeWebSocket reports 1006 when the peer vanishes, or half-closes without a close frame", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      c.destroy();
      assert.deepEqual(await side.closed, [1006, ""]);
      const [c2, side2] = await connected(server);
      c2.socket.end();
      assert.deepEqual(await side2.closed, [1006, ""]);
    });
  });

  test("NodeWebSocket reports a protocol error with its close code and message", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      c.send(TEXT, "x", { masked: false });
      await c.expectClose(1002);
      assert.deepEqual(await side.closed, [1002, "Invalid frame: client frames must be masked"]);
    });
  });

  test("NodeWebSocket ends, then destroys, a peer that never closes after a protocol error", async () => {
    await withServer({}, async (server) => {
      const socket: Socket = connect({ port: server.port, host: "127.0.0.1", allowHalfOpen: true });
      await once(socket, "connect");
      socket.write(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
      await once(socket, "data");
      socket.on("error", () => {});
      socket.write(clientFrame(TEXT, "x", { rsv: 1 }));
      await once(socket, "end"); // the server half-closed after its close frame
      const t = Date.now();
      const side = server.sides.at(-1)!;
      assert.equal(side.closeCount, 1);
      const raw = side.ws.raw as Duplex;
      for (let i = 0; i < 300 && !raw.destroyed; i++) await sleep(10);
      assert.equal(raw.destroyed, true, "destroyed after a grace period");
      assert.ok(Date.now() - t >= 500, "waited for the peer first");
      socket.destroy();
    });
  });

  test("NodeWebSocket closes with 1011 when a message handler throws", async () => {
    await withServer({
      onMessage: () => {
        throw new Error("boom");
      },
    }, async (server) => {
      const [c, side] = await connected(server);
      c.send(TEXT, "x");
      await c.expectClose(1011);
      assert.equal((await side.closed)[0], 1011);
    });
  });

  test("NodeWebSocket answers pings and reports pongs", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      c.send(PING, "abc");
      const pong = await c.read();
      assert.deepEqual([pong.opcode, Buffer.from(pong.payload).toString()], [PONG, "abc"]);
      side.ws.ping();
      assert.equal((await c.read()).opcode, PING);
      c.send(PONG);
      for (let i = 0; i < 100 && side.pongs === 0; i++) await sleep(5);
      assert.equal(side.pongs, 1);
      c.destroy();
    });
  });

  test("NodeWebSocket holds one pong, not one per ping, for a peer that pings but never reads", async () => {
    const seen: string[] = [];
    const onMessage = (_ws: NodeWebSocket, data: string | Uint8Array) => void seen.push(`${data}`);
    await withServer({ onMessage }, async (server) => {
      const [c, side] = await connected(server);
      c.socket.pause();
      // 160,000 pings of 125 bytes: answered one by one they would make 20 MB of pongs,
      // far more than the kernel's socket buffers take.
      const batch = Buffer.concat(
        Array.from({ length: 1000 }, (_, i) => clientFrame(PING, new Uint8Array(125).fill(i))),
      );
      for (let i = 0; i < 160; i++) {
        if (!c.socket.write(batch)) await once(c.socket, "drain");
      }
      c.send(TEXT, "done");
      for (let i = 0; i < 2000 && seen.length === 0; i++) await sleep(5);
      assert.deepEqual(seen, ["done"], "every ping was parsed");
      assert.ok(side.ws.bufferedAmount < 1 << 20, `${side.ws.bufferedAmount} bytes held`);
      c.destroy();
    });
  });

  test("NodeWebSocket queues under backpressure and reports drain", async () => {
    await withServer({}, async (server) => {
      const [c, side] = await connected(server);
      c.socket.pause();
      const chunk = new Uint8Array(64 * 1024);
      // Fill the kernel buffers until writes stay pending in the socket.
      let result = "sent";
      for (let i = 0; i < 2000 && side.ws.bufferedAmount < 1 << 20; i++) {
        result = side.ws.send(chunk, false);
        await sleep(0);
      }
      assert.equal(result, "queued");
      assert.ok(side.ws.bufferedAmount >= 1 << 20);
      const drainsBefore = side.drains;
      c.socket.resume();
      for (let i = 0; i < 400 && side.ws.bufferedAmount > 0; i++) await sleep(5);
      assert.equal(side.ws.bufferedAmount, 0);
      for (let i = 0; i < 100 && side.drains === drainsBefore; i++) await sleep(5);
      assert.equal(side.drains, drainsBefore + 1);
      assert.equal(side.ws.send("small", true), "sent");
      c.destroy();
    });
  });
});

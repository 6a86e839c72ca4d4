/**
 * Interop: the `ws` npm client, and Node's global WebSocket where this Node has one,
 * against the echo server.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { type EchoServer, startEchoServer } from "./_harness.ts";

let server: EchoServer;
before(async () => {
  server = await startEchoServer({
    maxMsgSize: 4 << 20,
    headers: [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2; Path=/"]],
  });
});
after(async () => {
  await server.close();
  for (const side of server.sides) {
    await side.closed;
    assert.equal(side.closeCount, 1);
  }
});

async function open(protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(server.url, protocols);
  await once(ws, "open");
  return ws;
}

function nextMessage(ws: WebSocket): Promise<[Buffer, boolean]> {
  return new Promise((resolve) =>
    ws.once("message", (data, isBinary) => resolve([data as Buffer, isBinary]))
  );
}

const sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20];

describe("interop with the ws client", () => {
  test("ws echoes text and binary of several sizes", async () => {
    const ws = await open();
    for (const n of sizes) {
      const text = "é".repeat(n >> 1) + "a".repeat(n & 1);
      ws.send(text);
      const [t, tBinary] = await nextMessage(ws);
      assert.equal(tBinary, false);
      assert.equal(t.toString("utf8"), text);
      const bin = Buffer.alloc(n).map((_, i) => i & 255);
      ws.send(bin);
      const [b, bBinary] = await nextMessage(ws);
      assert.equal(bBinary, true);
      assert.ok(b.equals(bin), `binary ${n}`);
    }
    ws.close(1000);
    await once(ws, "close");
  });

  test("many pipelined messages come back in order", async () => {
    const ws = await open();
    const got: string[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on("message", (d) => {
        got.push(d.toString());
        if (got.length === 500) resolve();
      })
    );
    for (let i = 0; i < 500; i++) ws.send(`m${i}`);
    await done;
    assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => `m${i}`));
    ws.terminate();
  });

  test("a ping from ws gets a pong; a server ping gets ws's pong", async () => {
    const ws = await open();
    ws.ping(Buffer.from("abc"));
    const [payload] = await once(ws, "pong");
    assert.equal(payload.toString(), "abc");
    const side = server.sides.at(-1)!;
    const pinged = once(ws, "ping");
    side.ws.ping();
    await pinged;
    for (let i = 0; i < 100 && side.pongs === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(side.pongs, 1);
    ws.close();
    await once(ws, "close");
  });

  test("a client close code and reason reach the server, and the code is echoed", async () => {
    const ws = await open();
    const side = server.sides.at(-1)!;
    ws.close(4000, "bye");
    const [code] = await once(ws, "close");
    assert.equal(code, 4000);
    assert.deepEqual(await side.closed, [4000, "bye"]);
  });

  test("a server close reaches the client with its code and reason", async () => {
    const ws = await open();
    const side = server.sides.at(-1)!;
    side.ws.close(1001, "going away");
    const [code, reason] = await once(ws, "close");
    assert.equal(code, 1001);
    assert.equal(reason.toString(), "going away");
    assert.deepEqual(await side.closed, [1001, "going away"]); // ws echoes the reason too
  });

  test("the 101 carries the chosen subprotocol and every Set-Cookie", async () => {
    const ws = new WebSocket(server.url, ["chat", "superchat"]);
    const [[res]] = (await Promise.all([once(ws, "upgrade"), once(ws, "open")])) as [
      [IncomingMessage],
      unknown,
    ];
    assert.deepEqual(res.headers["set-cookie"], ["a=1", "b=2; Path=/"]);
    assert.equal(ws.protocol, "chat");
    ws.close();
    await once(ws, "close");
  });

  test("a version 8 client is refused with 426", async () => {
    const ws = new WebSocket(server.url, { protocolVersion: 8 });
    ws.on("error", () => {}); // terminate() before open reports an error
    const [, res] = (await once(ws, "unexpected-response")) as [unknown, IncomingMessage];
    assert.equal(res.statusCode, 426);
    assert.equal(res.headers["sec-websocket-version"], "13");
    res.resume();
    ws.terminate();
  });
});

type NodeWs = {
  new (url: string): {
    binaryType: string;
    onopen: (() => void) | null;
    onmessage: ((e: { data: unknown }) => void) | null;
    onclose: ((e: { code: number; reason: string }) => void) | null;
    send(d: string | Uint8Array): void;
    close(code?: number, reason?: string): void;
  };
};
const GlobalWebSocket = (globalThis as { WebSocket?: NodeWs }).WebSocket;

describe("interop with Node's global WebSocket", {
  skip: GlobalWebSocket === undefined && "no global WebSocket in this Node",
}, () => {
  test("global WebSocket echoes text and binary and closes with a code", async () => {
    const ws = new GlobalWebSocket!(server.url);
    ws.binaryType = "arraybuffer";
    await new Promise<void>((r) => (ws.onopen = () => r()));
    const next = () => new Promise<unknown>((r) => (ws.onmessage = (e) => r(e.data)));
    for (const n of [0, 125, 65536]) {
      ws.send("x".repeat(n));
      assert.equal(await next(), "x".repeat(n));
      ws.send(new Uint8Array(n).fill(7));
      assert.deepEqual(new Uint8Array((await next()) as ArrayBuffer), new Uint8Array(n).fill(7));
    }
    const closed = new Promise<{ code: number }>((r) => (ws.onclose = r));
    ws.close(4001, "done");
    assert.equal((await closed).code, 4001);
  });
});

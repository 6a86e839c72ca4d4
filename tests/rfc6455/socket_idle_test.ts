/**
 * NodeWebSocket keeps an idle connection small: one listener per socket event (node's
 * listener lists stay single functions), no output state between chunks, and still
 * every closing path reports once.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { describe, test } from "node:test";
import type { TransportEvents } from "../../src/core/transport.ts";
import { NodeWebSocket } from "../../src/rfc6455/socket.ts";
import { RawClient } from "./_client.ts";
import { startEchoServer } from "./_harness.ts";

const TEXT = 1;
const ACCEPT = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

interface Accepted {
  readonly socket: Duplex;
  readonly ws: NodeWebSocket;
  readonly closes: Array<[number, string]>;
  readonly listenersBefore: Record<string, number>;
}

// An upgrade server whose socket already has an 'error' listener, as the node adapter's
// has, before the engine starts. RawClient sends the RFC 6455 sample key.
async function serverWithErrorListener() {
  const accepted: Accepted[] = [];
  const server = createServer();
  server.on("upgrade", (_req: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    socket.on("error", () => socket.destroy());
    socket.write(ACCEPT);
    const closes: Array<[number, string]> = [];
    const events: TransportEvents = {
      open() {},
      message: (data, isText) => void ws.send(data, isText),
      heard() {},
      pong() {},
      drain() {},
      closed: (code, reason) => void closes.push([code, reason]),
    };
    const listenersBefore: Record<string, number> = {};
    for (const name of ["error", "end", "close", "data", "drain"]) {
      listenersBefore[name] = socket.listenerCount(name);
    }
    const ws = new NodeWebSocket(socket, head, events, { limits: { maxMsgSize: 1024 } });
    accepted.push({ socket, ws, closes, listenersBefore });
    ws.start();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const close = () => {
    for (const a of accepted) a.socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port, accepted, close };
}

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), "condition reached in time");
}

describe("NodeWebSocket when idle", () => {
  test("NodeWebSocket adds no 'error' or 'end' listener, so node keeps no listener arrays", async () => {
    const server = await serverWithErrorListener();
    try {
      const c = await RawClient.connect(server.port);
      await until(() => server.accepted.length === 1);
      const { socket, listenersBefore } = server.accepted[0];
      assert.equal(socket.listenerCount("error"), listenersBefore.error);
      assert.equal(socket.listenerCount("end"), listenersBefore.end);
      assert.equal(socket.listenerCount("close"), listenersBefore.close + 1);
      c.send(TEXT, "still echoes");
      assert.equal(new TextDecoder().decode((await c.read()).payload), "still echoes");
      c.destroy();
    } finally {
      await server.close();
    }
  });

  test("NodeWebSocket reports 1006 once when the socket fails and the adapter owns 'error'", async () => {
    const server = await serverWithErrorListener();
    try {
      await RawClient.connect(server.port);
      await until(() => server.accepted.length === 1);
      const { socket, closes } = server.accepted[0];
      socket.destroy(new Error("boom"));
      await until(() => closes.length > 0);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(closes, [[1006, ""]]);
    } finally {
      await server.close();
    }
  });

  test("NodeWebSocket ends its side when the peer half-closes, and reports 1006", async () => {
    const server = await startEchoServer();
    try {
      const c = await RawClient.connect(server.port);
      await until(() => server.sides.length === 1);
      c.socket.end();
      assert.deepEqual(await server.sides[0].closed, [1006, ""]);
      assert.equal(await c.closedWithin(3000), true, "the server closed its side too");
      assert.equal(server.sides[0].closeCount, 1);
    } finally {
      await server.close();
    }
  });

  test("NodeWebSocket coalesces writes again after a chunk left it with no output state", async () => {
    const server = await startEchoServer();
    try {
      const c = await RawClient.connect(server.port);
      await until(() => server.sides.length === 1);
      c.send(TEXT, "ping");
      assert.equal(new TextDecoder().decode((await c.read()).payload), "ping");
      const side = server.sides[0];
      const socket = side.ws.raw as Duplex;
      let writes = 0;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      (socket as { write: unknown }).write = (...args: unknown[]) => (writes++, write(...args));
      for (const text of ["a", "b", "c"]) assert.equal(side.ws.send(text, true), "sent");
      assert.equal(side.ws.bufferedAmount > 0, true, "held until the flush");
      const got = [];
      for (let i = 0; i < 3; i++) got.push(new TextDecoder().decode((await c.read()).payload));
      assert.deepEqual(got, ["a", "b", "c"]);
      assert.equal(writes, 1);
      assert.equal(side.ws.bufferedAmount, 0);
      c.destroy();
    } finally {
      await server.close();
    }
  });
});

/**
 * `bufferedAmount` on Bun's native server is Bun's queue, whether bytes were queued by a
 * write of the connection itself or by a publish it is subscribed to (`bun test`).
 */
import { expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { publish, Websocket, type WebSocketConnection } from "../../mod.ts";
import { serve } from "../../src/adapters/bun.ts";

const CHUNK = "x".repeat(64 * 1024);

// A peer that completes the handshake and then never reads: Bun's queue must grow.
async function stalledPeer(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.pause();
  return socket;
}

async function withStalledPeer(
  subscribe: boolean,
  fill: (ws: WebSocketConnection) => void,
): Promise<number> {
  let opened: (ws: WebSocketConnection) => void;
  const open = new Promise<WebSocketConnection>((resolve) => opened = resolve);
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    transport: "native",
    onRequest: (req) =>
      Websocket.upgrade(req, {
        onOpen: (ws) => {
          if (subscribe) ws.subscribe("t");
          opened(ws);
        },
      }),
  });
  const peer = await stalledPeer(server.port);
  const ws = await open;
  expect(ws.bufferedAmount).toBe(0);
  // Up to 64 MiB, until Bun queues: the kernel's buffers take the first megabytes.
  for (let i = 0; i < 1024 && ws.bufferedAmount === 0; i++) fill(ws);
  const buffered = ws.bufferedAmount;
  peer.destroy();
  await server.shutdown({ timeoutMs: 500 });
  return buffered;
}

test("bufferedAmount counts what the connection's own writes left queued", async () => {
  expect(await withStalledPeer(false, (ws) => ws.write(CHUNK))).toBeGreaterThan(0);
}, 20_000);

test("bufferedAmount counts what publishes to a subscribed connection left queued", async () => {
  expect(await withStalledPeer(true, () => publish("t", CHUNK))).toBeGreaterThan(0);
}, 20_000);

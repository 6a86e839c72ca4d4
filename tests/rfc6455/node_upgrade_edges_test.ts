// Two edges of the Node.js upgrade path: a request upgraded twice (the second refusal,
// returned by the handler, must not be written into the live WebSocket), and a socket
// that is a pull-based stream handed to node:http (its reads must go on after the first).
import assert from "node:assert/strict";
import { createServer as createHttp, type Server } from "node:http";
import {
  connect,
  createServer as createNet,
  type Server as NetServer,
  type Socket,
} from "node:net";
import { Duplex } from "node:stream";
import { after, describe, test } from "node:test";
import WebSocket from "ws";
import { attach, serve } from "../../src/adapters/node.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import type { WebSocketConnection } from "../../src/core/connection.ts";

const HEAD = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const echo = (ws: WebSocketConnection, data: unknown, isText: boolean) =>
  void ws.write(data as string, isText);

// A masked text frame, as a client sends it.
function frame(text: string): Uint8Array {
  const body = new TextEncoder().encode(text), mask = [1, 2, 3, 4];
  return new Uint8Array([
    0x81,
    0x80 | body.length,
    ...mask,
    ...body.map((b, i) => b ^ mask[i & 3]),
  ]);
}

describe("Node.js upgrade edges", { timeout: 30_000 }, () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  test("a second upgrade of one request returns a refusal that is never written", async () => {
    const statuses: number[] = [];
    const server = await serve({
      port: 0,
      hostname: "127.0.0.1",
      onRequest: (req) => {
        const first = upgrade(req, { onMessage: echo });
        const second = upgrade(req, {});
        statuses.push(first.status, second.status);
        return second;
      },
    });
    closers.push(() => server.shutdown({ timeoutMs: 500 }));
    const client: Socket = connect(server.port, "127.0.0.1");
    client.on("error", () => {});
    let text = "";
    client.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    await new Promise((resolve) => client.once("connect", resolve));
    client.write(HEAD);
    await sleep(300);
    assert.equal(statuses[1], 400, "the second upgrade is refused");
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.equal(
      text.split("HTTP/1.1").length,
      2,
      `one response only, got ${JSON.stringify(text)}`,
    );
    client.write(frame("still open"));
    await sleep(300);
    assert.ok(text.endsWith("still open"), "the first upgrade's WebSocket still echoes");
    client.destroy();
  });

  test("a pull-based stream handed to node:http keeps reading after its first message", async () => {
    // Data only when _read asks for it, as a proxy or a tunnel gives node:http.
    class Pull extends Duplex {
      constructor(readonly raw: Socket) {
        super();
        raw.on("end", () => this.push(null));
        raw.on("close", () => this.destroy());
      }
      override _read(): void {
        const chunk = this.raw.read();
        if (chunk) this.push(chunk);
        else this.raw.once("readable", () => this._read());
      }
      override _write(chunk: Buffer, _: string, done: (error?: Error | null) => void): void {
        this.raw.write(chunk, done);
      }
      override _final(done: () => void): void {
        this.raw.end();
        done();
      }
    }
    const http: Server = createHttp((_req, res) => res.end("plain"));
    const attachment = attach(http, (req: Request) => upgrade(req, { onMessage: echo }));
    const front: NetServer = createNet((raw) => {
      raw.pause();
      http.emit("connection", new Pull(raw));
    });
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => front.close(resolve)));
    closers.push(() => attachment.shutdown({ timeoutMs: 500 }));
    const port = (front.address() as { port: number }).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    const echoes: string[] = [];
    ws.on("message", (data: Buffer) => echoes.push(data.toString()));
    // One at a time: each message a read of its own after the first.
    for (let i = 1; i <= 5; i++) {
      ws.send(`m${i}`);
      const until = Date.now() + 2000;
      while (echoes.length < i && Date.now() < until) await sleep(10);
    }
    assert.deepEqual(echoes, ["m1", "m2", "m3", "m4", "m5"]);
    ws.terminate();
  });
});

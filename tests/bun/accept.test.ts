/**
 * wsx's own accept on Bun (`src/adapters/bun_accept.ts`, `bun test`): plain upgrade heads
 * are answered before Bun's node:http sees them (also when split over a few chunks);
 * everything else reaches node:http with the bytes the client sent (requests,
 * pipelining, trickled and oversized heads).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { connect, type Server as NetServer } from "node:net";
import { bunAcceptor } from "../../src/adapters/bun_accept.ts";
import { HeadTimeouts } from "../../src/adapters/node_head_timeout.ts";

const UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const TEAPOT = "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

const seen = { fast: 0, http: 0 };
let http: Server, listener: NetServer, port: number;

beforeAll(async () => {
  http = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => body += chunk);
    request.on("end", () => response.end(`${request.method} ${request.url} ${body}`));
  });
  http.on("upgrade", (_request, socket) => {
    seen.http++;
    socket.end(TEAPOT);
  });
  listener = bunAcceptor(http, undefined, new HeadTimeouts(5000), (socket, head) => {
    seen.fast++;
    socket.end(`HTTP/1.1 418 I'm a teapot\r\nX-Target: ${head.target}\r\n\r\n`);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

// Sends `parts` (a pause between them) and gives back all the server sent until it closed.
function exchange(parts: string[], waitMs = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const socket = connect(port, "127.0.0.1", async () => {
      for (const part of parts) {
        socket.write(part);
        await Bun.sleep(50);
      }
      setTimeout(() => socket.end(), waitMs);
    });
    socket.on("data", (chunk) => got += chunk);
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
  });
}

test("a whole upgrade head in the first chunk takes the fast path", async () => {
  const before = { ...seen };
  const reply = await exchange([UPGRADE]);
  expect(reply).toStartWith("HTTP/1.1 418 I'm a teapot\r\nX-Target: /ws\r\n");
  expect(seen).toEqual({ fast: before.fast + 1, http: before.http });
});

test("an upgrade head split across a few chunks takes the fast path too", async () => {
  const before = { ...seen };
  const reply = await exchange([UPGRADE.slice(0, 20), UPGRADE.slice(20)]);
  expect(reply).toStartWith("HTTP/1.1 418 I'm a teapot\r\nX-Target: /ws\r\n");
  expect(seen).toEqual({ fast: before.fast + 1, http: before.http });
});

test("an upgrade head trickled over many chunks reaches node:http's upgrade event", async () => {
  const before = { ...seen };
  const parts = Array.from({ length: 7 }, (_, i) => UPGRADE.slice(i * 20, i * 20 + 20));
  const reply = await exchange([...parts, UPGRADE.slice(140)]);
  expect(reply).toStartWith("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0");
  expect(seen).toEqual({ fast: before.fast, http: before.http + 1 });
});

test("requests with bodies, pipelined, reach node:http with their bytes", async () => {
  const post = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  const reply = await exchange([post + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"]);
  const bodies = reply.split("\r\n\r\n").slice(1).map((part) => part.split("HTTP/1.1")[0]);
  expect(bodies).toEqual(["POST /a hello", "GET /b "]);
});

test("kept alive: a request, then an upgrade on the same connection", async () => {
  const before = { ...seen };
  const reply = await exchange(["GET /c HTTP/1.1\r\nHost: x\r\n\r\n", UPGRADE]);
  expect(reply).toStartWith("HTTP/1.1 200 OK");
  expect(reply).toContain("GET /c ");
  expect(reply).toContain("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0");
  expect(seen).toEqual({ fast: before.fast, http: before.http + 1 });
});

test("an oversized head gets node:http's 431", async () => {
  const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
  expect(await exchange([big])).toStartWith("HTTP/1.1 431");
});

/**
 * Plain HTTP/1.1 on wsx's engine over `Bun.listen` (`bun test`): requests that are not a
 * whole upgrade head in a connection's first chunk go to wsx's HTTP/1.1 server
 * (`src/adapters/http1_*.ts`), whose own cases run in tests/http1 on every runtime. Here:
 * real clients against the real binding.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { Websocket } from "../../mod.ts";
import type { WsxServer } from "../../src/core/server.ts";
import { serveListen } from "../../src/adapters/bun_listen.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import { sendUntilStalled } from "../http1/_harness.ts";

let server: WsxServer, base: string;
const reported: unknown[] = [];
// Holds the handler of `/hold` until resolved.
let hold = Promise.withResolvers<void>();

beforeAll(async () => {
  setErrorReporter((error) => void reported.push(error));
  server = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/ws") {
        return Websocket.upgrade(request, {
          onMessage: (ws, data, isText) => ws.write(data, isText),
        });
      }
      if (pathname === "/boom") throw new Error("boom");
      if (pathname === "/hold") {
        await hold.promise;
        return new Response("held");
      }
      if (pathname === "/slow") await Bun.sleep(30);
      if (request.method === "POST") {
        return new Response(`${request.method} ${pathname} ${await request.text()}`);
      }
      return new Response(`hello ${pathname}`, { headers: { "x-wsx": "1" } });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.shutdown({ timeoutMs: 1000 });
  setErrorReporter(undefined);
});

// Writes `parts` on a raw TCP connection, `gapMs` apart, and gives back all it reads
// until the server closes or `lingerMs` passes.
function rawExchange(parts: string[], lingerMs = 1000, gapMs = 30): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(server.port, "127.0.0.1", async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await Bun.sleep(gapMs);
        socket.write(Buffer.from(part, "latin1"));
      }
    });
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.on("error", reject);
  });
}

test("a plain GET is answered by the application's handler", async () => {
  const response = await fetch(`${base}/page`);
  expect(response.status).toBe(200);
  expect(response.headers.get("x-wsx")).toBe("1");
  expect(await response.text()).toBe("hello /page");
});

test("a POST body reaches the handler", async () => {
  const response = await fetch(`${base}/form`, { method: "POST", body: "a=1&b=2" });
  expect(await response.text()).toBe("POST /form a=1&b=2");
});

test("pipelined requests on one connection are answered in order, kept alive", async () => {
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const reply = await rawExchange([get("/one") + get("/two"), get("/three")], 500);
  const bodies = [...reply.matchAll(/hello \/(one|two|three)/g)].map((m) => m[0]);
  expect(bodies).toEqual(["hello /one", "hello /two", "hello /three"]);
  expect(reply.match(/HTTP\/1\.1 200/g)?.length).toBe(3);
});

test("requests sent with a FIN (half-close) are all answered before the server closes", async () => {
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const reply = await new Promise<string>((resolve, reject) => {
    let text = "";
    const socket = connect(server.port, "127.0.0.1", () => socket.end(get("/slow") + get("/b")));
    socket.on("data", (chunk) => text += chunk.toString("latin1"));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
  const bodies = [...reply.matchAll(/hello \/(slow|b)/g)].map((m) => m[0]);
  expect(bodies).toEqual(["hello /slow", "hello /b"]);
});

test("a chunked body is decoded", async () => {
  const reply = await rawExchange([
    "POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    "3\r\nabc\r\n",
    "4;ext=1\r\ndefg\r\n0\r\n\r\n",
  ]);
  expect(reply).toStartWith("HTTP/1.1 200");
  expect(reply).toEndWith("POST /chunks abcdefg");
});

test("Content-Length with Transfer-Encoding is refused with 400 and the connection closed", async () => {
  const reply = await rawExchange([
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
  ]);
  expect(reply).toStartWith("HTTP/1.1 400");
  expect(reply).not.toContain("smuggled");
  expect(reply).not.toContain("hello");
});

test("a handler that throws gets a 500, reported, and the server goes on", async () => {
  const before = reported.length;
  const response = await fetch(`${base}/boom`);
  expect(response.status).toBe(500);
  await response.arrayBuffer();
  expect(reported.length).toBe(before + 1);
  expect(await (await fetch(`${base}/after`)).text()).toBe("hello /after");
});

test("an upgrade head split across reads is upgraded through the HTTP/1.1 server", async () => {
  const head = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  // A masked text frame "hi" (key 1 2 3 4), then a close frame with code 1000.
  const frame = String.fromCharCode(0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2);
  const close = String.fromCharCode(0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2);
  const reply = await rawExchange([head.slice(0, 40), head.slice(40), frame + close]);
  expect(reply).toStartWith("HTTP/1.1 101 Switching Protocols\r\n");
  expect(reply).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
  const frames = reply.slice(reply.indexOf("\r\n\r\n") + 4);
  expect(frames).toBe("\x81\x02hi\x88\x02\x03\xe8");
});

const SPLIT_HEAD = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

test("an upgrade through the HTTP/1.1 server is refused as on node:http: HTTP/1.0, or a body", async () => {
  const old = await rawExchange([
    SPLIT_HEAD.replace("HTTP/1.1", "HTTP/1.0").slice(0, 30),
    SPLIT_HEAD.replace("HTTP/1.1", "HTTP/1.0").slice(30) + "\r\n",
  ]);
  expect(old).toStartWith("HTTP/1.1 400");
  expect(old).toContain("HTTP/1.0");
  const body = await rawExchange([
    SPLIT_HEAD.slice(0, 30),
    SPLIT_HEAD.slice(30) +
    "Content-Length: 8\r\n\r\n" + String.fromCharCode(0x81, 0x82, 1, 2, 3, 4, 0x69, 0x6b),
  ]);
  expect(body).toStartWith("HTTP/1.1 400");
  expect(body).toContain("Content-Length");
});

test("bytes sent before the 101 of an upgrade through the HTTP/1.1 server reach the engine", async () => {
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: async (request) => {
      await Bun.sleep(50); // the frame below arrives meanwhile
      return Websocket.upgrade(request, {
        onMessage: (ws, data, isText) => ws.write(data, isText),
      });
    },
  });
  try {
    const frame = String.fromCharCode(0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2);
    const reply = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(own.port, "127.0.0.1", async () => {
        socket.write(Buffer.from(SPLIT_HEAD.slice(0, 30), "latin1"));
        await Bun.sleep(20);
        socket.write(Buffer.from(SPLIT_HEAD.slice(30) + "\r\n", "latin1"));
        await Bun.sleep(20);
        socket.write(Buffer.from(frame, "latin1"));
      });
      setTimeout(() => socket.destroy(), 600);
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
      socket.on("error", reject);
    });
    expect(reply).toStartWith("HTTP/1.1 101");
    expect(reply.slice(reply.indexOf("\r\n\r\n") + 4)).toBe("\x81\x02hi");
  } finally {
    await own.shutdown({ timeoutMs: 500 });
  }
});

// Sends `text` on a raw connection in pieces of `size` bytes, one per turn of the event
// loop, until the server answers or closes; gives back what it read.
function trickle(text: string, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(server.port, "127.0.0.1", async () => {
      socket.setNoDelay(true);
      for (let at = 0; at < text.length && chunks.length === 0 && !socket.destroyed; at += size) {
        socket.write(Buffer.from(text.slice(at, at + size), "latin1"));
        await new Promise((r) => setImmediate(r));
      }
    });
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      socket.end();
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.on("error", reject);
  });
}

test("a head trickled in 16-byte pieces is answered; past 16 KiB it is refused with 431", async () => {
  const fields = (bytes: number) => `X-Pad: ${"p".repeat(bytes)}\r\n`;
  const fits = await trickle(`GET /slow HTTP/1.1\r\nHost: x\r\n${fields(15_000)}\r\n`, 16);
  expect(fits).toStartWith("HTTP/1.1 200");
  expect(fits).toContain("hello /slow");
  const over = await trickle(`GET /slow HTTP/1.1\r\nHost: x\r\n${fields(20_000)}\r\n`, 16);
  expect(over).toStartWith("HTTP/1.1 431");
});

test("a huge upload the handler does not read holds the client back, then is dropped", async () => {
  hold = Promise.withResolvers<void>();
  const size = 64 * 1024 * 1024;
  const socket = connect(server.port, "127.0.0.1");
  let text = "";
  socket.on("data", (chunk) => text += chunk.toString("latin1"));
  await new Promise((r) => socket.once("connect", r));
  socket.write(`POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`);
  let sent = await sendUntilStalled(socket, 0, size, 500);
  // The server stopped reading: what was sent waits in the kernel's buffers.
  expect(sent).toBeLessThan(size / 2);
  hold.resolve();
  sent = await sendUntilStalled(socket, sent, size, 5000);
  expect(sent).toBe(size);
  socket.write("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  const until = Date.now() + 10_000;
  while (!text.includes("hello /next") && Date.now() < until) await Bun.sleep(20);
  socket.destroy();
  expect(text).toStartWith("HTTP/1.1 200");
  expect(text).toContain("held");
  expect(text).toContain("hello /next");
}, 20_000);

test(
  "a kept-alive connection left idle is closed after 5 s, as node:http's keepAliveTimeout",
  async () => {
    const started = Date.now();
    const reply = await rawExchange(["GET /idle HTTP/1.1\r\nHost: x\r\n\r\n"], 8000);
    const took = Date.now() - started;
    expect(reply).toContain("hello /idle");
    expect(took).toBeGreaterThanOrEqual(4900);
    expect(took).toBeLessThan(7000);
  },
  10_000,
);

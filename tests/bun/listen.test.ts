/**
 * wsx's engine on `Bun.listen` (`src/adapters/bun_listen.ts`, what `serve({ transport:
 * "engine" })` runs on Bun; `bun test`):
 * real clients against a real server; the engine reads and writes through
 * `ListenSocket` instead of a `node:net` socket.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "node:net";
import { Websocket, type WebSocketConnection } from "../../mod.ts";
import type { WsxServer } from "../../src/core/server.ts";
import { serveListen } from "../../src/adapters/bun_listen.ts";
import { serve } from "../../src/serve.ts";
import { makeCerts } from "../conformance/_certs.ts";

// Far more than a socket's kernel buffer takes at once: Bun's write takes part of it.
const BIG = new Uint8Array(16 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 4096) BIG[i] = i / 4096 & 0xff;

const closes: { code: number; reason: string }[] = [];
let server: WsxServer, url: string;

beforeAll(async () => {
  server = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: (request) =>
      Websocket.upgrade(request, {
        onOpen: (ws: WebSocketConnection) => ws.write(new URL(request.url).pathname),
        onMessage: (ws, data, isText) =>
          ws.write(data === "big" ? BIG : data, isText && data !== "big"),
        onClose: (_ws, code, reason) => void closes.push({ code, reason }),
      }),
  });
  url = `ws://127.0.0.1:${server.port}`;
});

afterAll(() => server.shutdown({ timeoutMs: 1000 }));

// Messages each client received and not yet taken, and who waits for the next one: two
// messages can arrive in one task, before a test asks for the second.
const inboxes = new WeakMap<WebSocket, { got: unknown[]; wake?: () => void }>();

// Opens a client on `path`; resolves with it and the first message (the path, from onOpen).
async function open(path: string): Promise<[WebSocket, string]> {
  const ws = new WebSocket(url + path);
  ws.binaryType = "arraybuffer";
  const inbox: { got: unknown[]; wake?: () => void } = { got: [] };
  inboxes.set(ws, inbox);
  ws.onmessage = (event) => {
    inbox.got.push(event.data);
    inbox.wake?.();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("client error"));
  });
  return [ws, await next(ws) as string];
}

async function next(ws: WebSocket): Promise<string | ArrayBuffer> {
  const inbox = inboxes.get(ws)!;
  while (inbox.got.length === 0) await new Promise<void>((resolve) => inbox.wake = resolve);
  return inbox.got.shift() as string | ArrayBuffer;
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.onclose = ({ code, reason }) => resolve({ code, reason }));
}

// Writes `bytes` on a raw TCP connection and gives back all it reads until the server closes.
function rawExchange(bytes: Uint8Array, lingerMs = 1500): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(server.port, "127.0.0.1", () => socket.write(bytes));
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on("error", reject);
  });
}

const HEAD = "GET /raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A masked client frame (RFC 6455 section 5.2), payload under 126 bytes.
function clientFrame(opcode: number, payload: Uint8Array, masked = true): Uint8Array {
  const mask = [1, 2, 3, 4];
  const frame = new Uint8Array(2 + (masked ? 4 : 0) + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = (masked ? 0x80 : 0) | payload.length;
  if (masked) frame.set(mask, 2);
  const at = masked ? 6 : 2;
  for (let i = 0; i < payload.length; i++) frame[at + i] = payload[i] ^ (masked ? mask[i % 4] : 0);
  return frame;
}

test("text and binary messages are echoed over Bun.listen", async () => {
  const [ws, path] = await open("/chat");
  expect(path).toBe("/chat");
  ws.send("héllo");
  expect(await next(ws)).toBe("héllo");
  ws.send(new Uint8Array([1, 2, 3]));
  expect(new Uint8Array(await next(ws) as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
  ws.close(1000, "done");
  expect(await closed(ws)).toEqual({ code: 1000, reason: "" });
});

test("a 16 MiB message goes out whole through partial writes and drain", async () => {
  const [ws] = await open("/big");
  const done = closed(ws);
  ws.send("big");
  // Sent while most of the big one still waits for Bun's drain: the queued bytes count
  // (ListenSocket#writableLength) and go over maxBufferedBytes (4 MiB), so the close
  // frame follows the big message.
  ws.send("after");
  const back = new Uint8Array(await next(ws) as ArrayBuffer);
  expect(back.length).toBe(BIG.length);
  expect(Buffer.compare(back, BIG)).toBe(0);
  expect((await done).code).toBe(1008);
});

test("a write behind bytes Bun did not take is queued, counted, and onDrain follows", async () => {
  const results: string[] = [], buffered: number[] = [], drained: number[] = [];
  const fill = BIG.subarray(0, 12 * 1024 * 1024);
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    maxBufferedBytes: 64 * 1024 * 1024,
    onRequest: (request) =>
      Websocket.upgrade(request, {
        onMessage: (ws) => {
          ws.write(fill, false);
          // In a later turn, while the client reads nothing.
          setTimeout(() => {
            results.push(ws.write("tail"));
            buffered.push(ws.bufferedAmount);
          }, 20);
        },
        onDrain: (ws) => void drained.push(ws.bufferedAmount),
      }),
  });
  const head = new TextEncoder().encode(HEAD);
  const go = clientFrame(0x1, new TextEncoder().encode("go"));
  const total = 129 + 10 + fill.length + 6; // the 101, the 12 MiB frame, "tail"'s frame
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = connect(own.port, "127.0.0.1", () => socket.write(Buffer.concat([head, go])));
    socket.pause();
    setTimeout(() => socket.resume(), 200);
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      if ((size += chunk.length) >= total) socket.end();
    });
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
  await own.shutdown({ timeoutMs: 500 });
  expect(results).toEqual(["queued"]);
  expect(buffered[0]).toBeGreaterThan(0);
  expect(drained).toEqual([0]);
  expect(reply.length).toBe(total);
  expect(reply.subarray(total - 6).toString("latin1")).toBe("\x81\x04tail");
});

test("frames sent with the upgrade head, in the same chunk, reach the engine", async () => {
  const head = new TextEncoder().encode(HEAD);
  const frame = clientFrame(0x1, new TextEncoder().encode("early"));
  const close = clientFrame(0x8, new Uint8Array([0x03, 0xe8]));
  const reply = await rawExchange(Buffer.concat([head, frame, close]));
  const text = reply.toString("latin1");
  expect(text).toStartWith("HTTP/1.1 101 Switching Protocols\r\n");
  expect(text).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
  const frames = reply.subarray(text.indexOf("\r\n\r\n") + 4);
  // onOpen's "/raw", the echoed "early", then the close echoed with its code.
  expect([...frames]).toEqual([
    0x81,
    4,
    ...new TextEncoder().encode("/raw"),
    0x81,
    5,
    ...new TextEncoder().encode("early"),
    0x88,
    2,
    0x03,
    0xe8,
  ]);
});

test("an unmasked client frame closes with 1002 and the error table's reason", async () => {
  const head = new TextEncoder().encode(HEAD);
  const before = closes.length;
  const reply = await rawExchange(
    Buffer.concat([head, clientFrame(0x1, new Uint8Array([65]), false)]),
  );
  const reason = "Invalid frame: client frames must be masked";
  const frames = reply.subarray(reply.indexOf("\r\n\r\n") + 4 + 6);
  expect(frames[0]).toBe(0x88);
  expect(frames.readUInt16BE(2)).toBe(1002);
  expect(frames.subarray(4).toString()).toBe(reason);
  expect(closes.slice(before)).toEqual([{ code: 1002, reason }]);
});

test("a client that goes away without a close frame is reported once, as 1006", async () => {
  const before = closes.length;
  const head = new TextEncoder().encode(HEAD);
  await rawExchange(head, 200);
  await Bun.sleep(100);
  expect(closes.slice(before)).toEqual([{ code: 1006, reason: "" }]);
});

test("a plain HTTP request goes to the handler: here upgrade() refuses it with 400, as on Node.js", async () => {
  const response = await fetch(`http://127.0.0.1:${server.port}/`);
  expect(response.status).toBe(400);
  expect(await response.text()).toContain("Upgrade");
});

test("shutdown closes the open connections with 1001", async () => {
  const other = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: (request) => Websocket.upgrade(request, {}),
  });
  const ws = new WebSocket(`ws://127.0.0.1:${other.port}/`);
  await new Promise((resolve) => ws.onopen = resolve);
  const done = closed(ws);
  await other.shutdown({ timeoutMs: 1000 });
  expect((await done).code).toBe(1001);
});

test("a connection that sends no head within handshakeTimeoutMs gets a 408 and is closed", async () => {
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    handshakeTimeoutMs: 1000,
    onRequest: (request) => Websocket.upgrade(request, {}),
  });
  const started = performance.now();
  const reply = await new Promise<string>((resolve, reject) => {
    let got = "";
    const socket = connect(own.port, "127.0.0.1");
    socket.on("data", (chunk) => got += chunk);
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
  });
  const waited = performance.now() - started;
  await own.shutdown({ timeoutMs: 500 });
  expect(reply).toStartWith("HTTP/1.1 408 ");
  expect(waited).toBeGreaterThanOrEqual(950);
  expect(waited).toBeLessThan(3000);
});

test("with tls, Bun.listen serves wss: and the request is https:", async () => {
  const certs = makeCerts();
  const urls: string[] = [];
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: certs.cert, key: certs.key },
    onRequest: (request) => {
      urls.push(request.url);
      return Websocket.upgrade(request, {
        onMessage: (ws, data, isText) => ws.write(data, isText),
      });
    },
  });
  try {
    const ws = new WebSocket(`wss://localhost:${own.port}/secure`, {
      tls: { ca: certs.ca },
    } as unknown as string[]);
    const echoed = await new Promise<unknown>((resolve, reject) => {
      ws.onopen = () => ws.send("over tls");
      ws.onmessage = (event) => resolve(event.data);
      ws.onerror = () => reject(new Error("client error"));
    });
    expect(echoed).toBe("over tls");
    expect(urls).toEqual([`https://localhost:${own.port}/secure`]);
    ws.close();
  } finally {
    await own.shutdown({ timeoutMs: 500 });
    certs.remove();
  }
});

test("a streamed message read slowly holds reading (pause) and gets through whole (resume)", async () => {
  const own = await serveListen({
    port: 0,
    hostname: "127.0.0.1",
    maxStreamSize: 64 * 1024 * 1024,
    onRequest: (request) =>
      Websocket.upgrade(request, {
        async onStream(ws, stream) {
          let size = 0, sum = 0, reads = 0;
          for await (const chunk of stream) {
            // Every 4096th byte of the message, by its offset in the message.
            for (let i = (4096 - size % 4096) % 4096; i < chunk.length; i += 4096) {
              sum = (sum + chunk[i]) % 65521;
            }
            size += chunk.length;
            // A slow reader: the engine pauses the socket while its queue is full.
            if (++reads % 16 === 0) await Bun.sleep(5);
          }
          ws.write(`${size} ${sum}`);
        },
      }),
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${own.port}/`);
    await new Promise((resolve) => ws.onopen = resolve);
    const answer = new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
    ws.send(BIG);
    let sum = 0;
    for (let i = 0; i < BIG.length; i += 4096) sum = (sum + BIG[i]) % 65521;
    expect(await answer).toBe(`${BIG.length} ${sum}`);
    ws.close();
  } finally {
    await own.shutdown({ timeoutMs: 500 });
  }
});

for (const transport of ["engine", undefined] as const) {
  test(`serve({ transport: ${transport} }) on Bun runs on Bun.listen, and upgrades there`, async () => {
    await listenUpgrades(transport);
  });
}

// The engine is Bun's default transport too.
async function listenUpgrades(transport: "engine" | undefined): Promise<void> {
  const own = await serve({
    port: 0,
    hostname: "127.0.0.1",
    transport,
    onRequest: (request) => Websocket.upgrade(request, { onMessage: (ws, d) => ws.write(d) }),
  });
  try {
    // Bun.listen's listener (reload, no EventEmitter), not a node:http server.
    const raw = own.raw as { reload?: unknown; on?: unknown };
    expect(typeof raw.reload).toBe("function");
    expect(raw.on).toBeUndefined();
    expect(own.transport).toBe("engine");
    const ws = new WebSocket(`ws://127.0.0.1:${own.port}/`);
    const echoed = await new Promise((resolve, reject) => {
      ws.onopen = () => ws.send("via listen");
      ws.onmessage = (event) => resolve(event.data);
      ws.onerror = () => reject(new Error("client error"));
    });
    expect(echoed).toBe("via listen");
    ws.close();
  } finally {
    await own.shutdown({ timeoutMs: 500 });
  }
}

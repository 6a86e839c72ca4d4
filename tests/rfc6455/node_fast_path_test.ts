// The Node.js adapter's upgrade path (src/adapters/node_fast_upgrade.ts, node_request.ts,
// node_upgrade.ts) over a real server: heads taken before node:http, heads handed to it,
// and the lazy Request the request handler gets.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { serve, type WsxServer } from "../../src/adapters/node.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import type { UpgradeSettings } from "../../src/types.ts";
import { lazyRequest, requestUrl, takeUpgrade } from "../../src/adapters/node_request.ts";
import { clientFrame } from "./_client.ts";

const UPGRADE_HEAD = (path = "/echo", extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

const echo: UpgradeSettings<undefined> = {
  onMessage: (ws, data, isText) => ws.write(data, isText),
};

// What the request handler saw of the last request.
let seen: Record<string, unknown> = {};

async function onRequest(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/inspect") {
    const copy = req.clone();
    const rebuilt = new Request(req);
    seen = {
      isRequest: req instanceof Request,
      method: req.method,
      url: req.url,
      sameHeaders: req.headers === req.headers,
      custom: req.headers.get("x-custom"),
      cloneUrl: copy.url,
      cloneCustom: copy.headers.get("x-custom"),
      rebuiltUrl: rebuilt.url,
      rebuiltCustom: rebuilt.headers.get("x-custom"),
      aborted: req.signal.aborted,
      bodyUsed: req.bodyUsed,
    };
    return upgrade(req, echo);
  }
  if (path === "/later") await new Promise((resolve) => setTimeout(resolve, 50));
  if (path === "/refuse") return new Response("not here", { status: 403 });
  if (req.headers.get("upgrade") === "websocket") return upgrade(req, echo);
  return new Response(`${req.method} ${path} ${await req.text()}`);
}

// Opens a connection, writes `parts` one write each (a pause between them), and
// collects what comes back until `done(text)` or the connection closes.
async function exchange(
  port: number,
  parts: Array<string | Uint8Array>,
  done: (text: string) => boolean = () => false,
): Promise<{ text: string; socket: Socket }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  let text = "";
  const finished = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) resolve();
    });
    socket.on("close", () => resolve());
  });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write(typeof part === "string" ? Buffer.from(part, "latin1") : part);
  }
  await finished;
  return { text, socket };
}

const concat = (...parts: Array<string | Uint8Array>): Buffer =>
  Buffer.concat(parts.map((p) => typeof p === "string" ? Buffer.from(p, "latin1") : p));

// An unmasked server text frame of a short message.
const textFrame = (s: string) => `\x81${String.fromCharCode(s.length)}${s}`;

describe("Node.js upgrade path", () => {
  let server: WsxServer;
  before(async () => {
    server = await serve({ port: 0, hostname: "127.0.0.1", onRequest, handshakeTimeoutMs: 60_000 });
  });
  after(() => server.shutdown({ timeoutMs: 500 }));

  test("an upgrade head and the first frame in one chunk: 101, then the frame is echoed", async () => {
    const { text, socket } = await exchange(
      server.port,
      [concat(UPGRADE_HEAD(), clientFrame(1, "hi"), clientFrame(1, "there"))],
      (t) => t.endsWith(textFrame("there")),
    );
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.ok(text.endsWith("\r\n\r\n" + textFrame("hi") + textFrame("there")), text);
  });

  test("frames sent with the head wait while an async handler decides", async () => {
    const { text, socket } = await exchange(
      server.port,
      [concat(UPGRADE_HEAD("/later"), clientFrame(1, "early")), clientFrame(1, "waited")],
      (t) => t.endsWith(textFrame("waited")),
    );
    socket.destroy();
    assert.ok(text.startsWith("HTTP/1.1 101"), text);
    assert.ok(text.endsWith(textFrame("early") + textFrame("waited")), text);
  });

  test("an upgrade head split over two writes is upgraded", async () => {
    const head = UPGRADE_HEAD();
    const { text, socket } = await exchange(
      server.port,
      [head.slice(0, 20), concat(head.slice(20), clientFrame(1, "split"))],
      (t) => t.endsWith(textFrame("split")),
    );
    socket.destroy();
    assert.ok(text.startsWith("HTTP/1.1 101") && text.endsWith(textFrame("split")), text);
  });

  test("ordinary requests go to node:http, and a later upgrade on the connection works", async () => {
    const post = "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    const get = "GET /page HTTP/1.1\r\nHost: x\r\n\r\n";
    const { text, socket } = await exchange(
      server.port,
      [post + get, concat(UPGRADE_HEAD(), clientFrame(1, "after"))],
      (t) => t.endsWith(textFrame("after")),
    );
    socket.destroy();
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 3, text);
    assert.ok(
      answers[0].startsWith("HTTP/1.1 200") && answers[0].includes("\r\nPOST /form hello\r\n"),
    );
    assert.ok(answers[1].startsWith("HTTP/1.1 200") && answers[1].includes("\r\nGET /page \r\n"));
    assert.ok(answers[2].startsWith("HTTP/1.1 101") && text.endsWith(textFrame("after")));
  });

  test("a handler that answers instead of upgrading: its response, then the connection closes", async () => {
    const { text } = await exchange(server.port, [UPGRADE_HEAD("/refuse")]);
    assert.match(text, /^HTTP\/1\.1 403 /);
    assert.ok(text.endsWith("\r\n\r\nnot here"), text);
  });

  test("heads the fast path does not take get node:http's answers, 400, or 431 (a first chunk already past the limit)", async () => {
    const bad = await exchange(server.port, [UPGRADE_HEAD().replace("Host:", "Ho st:")]);
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
    const huge = UPGRADE_HEAD("/echo", `X-Big: ${"a".repeat(20_000)}\r\n`);
    const big = await exchange(server.port, [huge]);
    assert.match(big.text, /^HTTP\/1\.1 431 /);
  });

  test("a head larger than the fast path takes but within node:http's 16 KiB is served, in one write or three", async () => {
    const head = `GET /cookie HTTP/1.1\r\nHost: x\r\nCookie: a=${"x".repeat(10_000)}\r\n\r\n`;
    const served = (t: string) => t.includes("GET /cookie ");
    const one = await exchange(server.port, [head], served);
    one.socket.destroy();
    assert.match(one.text, /^HTTP\/1\.1 200 /);
    const parts = [head.slice(0, 4000), head.slice(4000, 8000), head.slice(8000)];
    const three = await exchange(server.port, parts, served);
    three.socket.destroy();
    assert.match(three.text, /^HTTP\/1\.1 200 /);
  });

  test("an ordinary request split over reads waits in full for node:http, which answers it", async () => {
    const get = "GET /page HTTP/1.1\r\nHost: x\r\n\r\n";
    const { text, socket } = await exchange(
      server.port,
      [get.slice(0, 7), get.slice(7, 22), get.slice(22)],
      (t) => t.includes("\r\nGET /page \r\n"),
    );
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 200 /);
  });

  test("a partial head with a malformed field is answered 400 before it is complete", async () => {
    const { text, socket } = await exchange(
      server.port,
      ["GET /ws HTTP/1.1\r\n", "Ho st: x\r\n"],
      (t) => t.includes("\r\n\r\n"),
    );
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 400 /);
  });

  test("a client that half-closes in the middle of its head gets 400", async () => {
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    let text = "";
    socket.on("data", (chunk: Buffer) => text += chunk.toString("latin1"));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.end("GET /ws HTTP/1.1\r\nHost: x\r\n");
    await closed;
    assert.match(text, /^HTTP\/1\.1 400 /);
  });

  test("a client that half-closes before sending anything is closed", async () => {
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.end();
    socket.resume();
    await closed;
  });

  test("the handler gets a Request: instanceof, url, method, headers, clone, new Request", async () => {
    const { socket } = await exchange(
      server.port,
      [UPGRADE_HEAD("/inspect?x=1", "X-Custom: yes\r\n")],
      (t) => t.includes("\r\n\r\n"),
    );
    socket.destroy();
    assert.deepEqual(seen, {
      isRequest: true,
      method: "GET",
      url: "http://127.0.0.1/inspect?x=1",
      sameHeaders: true,
      custom: "yes",
      cloneUrl: "http://127.0.0.1/inspect?x=1",
      cloneCustom: "yes",
      rebuiltUrl: "http://127.0.0.1/inspect?x=1",
      rebuiltCustom: "yes",
      aborted: false,
      bodyUsed: false,
    });
  });
});

describe("Node.js server shutdown", () => {
  test("shutdown closes connections that have sent nothing or part of a head", {
    timeout: 10_000,
  }, async () => {
    const server = await serve({
      port: 0,
      hostname: "127.0.0.1",
      onRequest,
      handshakeTimeoutMs: 60_000,
    });
    const sockets = [connect(server.port, "127.0.0.1"), connect(server.port, "127.0.0.1")];
    const closed = sockets.map(async (socket) => {
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.resume();
      return await new Promise((resolve) => socket.once("close", resolve));
    });
    sockets[1].write("GET /ws HTTP/1.1\r\nHost: x\r\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    // Closed at once, well before the shutdown's own deadline would force them.
    await server.shutdown({ timeoutMs: 5000 });
    await Promise.all(closed);
    assert.ok(Date.now() - started < 2500, `closed after ${Date.now() - started} ms`);
  });
});

describe("lazy Request", () => {
  test("requestUrl gives the URL undici's Request would, and refuses what it refuses", () => {
    assert.equal(requestUrl("/a?b=1", ["Host", "Example.COM:80"]), "http://example.com/a?b=1");
    assert.equal(
      requestUrl("/", ["X-A", "1", "host", "h:8080", "Host", "other"]),
      "http://h:8080/",
    );
    assert.equal(requestUrl("/x y", []), "http://localhost/x%20y");
    assert.throws(() => requestUrl("/", ["Host", "a b"]), TypeError);
    assert.throws(() => requestUrl("/", ["Host", "user:pw@h"]), TypeError);
  });

  test("a lazy Request gives its socket once, and its full request matches it", async () => {
    const pending = { socket: null as never, head: new Uint8Array(0) };
    const raw = ["Host", "h", "X-A", "1", "X-A", "2", "Bad Name", "dropped"];
    const req = lazyRequest("GET", requestUrl("/p", raw), raw, pending);
    assert.ok(req instanceof Request);
    assert.equal(req.headers.get("x-a"), "1, 2");
    assert.deepEqual([...req.headers.keys()], ["host", "x-a"]);
    assert.equal(takeUpgrade(new Request("http://h/")), undefined);
    assert.equal(takeUpgrade(req), pending);
    assert.equal(takeUpgrade(req), undefined);
    assert.equal(req.body, null);
    assert.equal(await req.text(), "");
    assert.equal(req.bodyUsed, false);
    const copy = new Request(req.url, req);
    assert.equal(copy.headers.get("x-a"), "1, 2");
    assert.equal(String(req), "[object Request]");
    assert.throws(() => lazyRequest("TRACE", "http://h/", [], pending), TypeError);
  });
});

// Upgrade requests the Node.js adapter refuses (src/adapters/node_upgrade.ts,
// node_http.ts), over a real server and raw TCP clients: what the refusal says, and that
// the connection is really closed afterwards, even when the client keeps its side open.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import type { Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { serve, type WsxServer } from "../../src/adapters/node.ts";
import { upgrade } from "../../src/core/upgrade.ts";

const upgradeHead = (path = "/echo", extra = "", version = "1.1") =>
  `GET ${path} HTTP/${version}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
  `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
  `Sec-WebSocket-Version: 13\r\n${extra}\r\n`;

function onRequest(req: Request): Response {
  switch (new URL(req.url).pathname) {
    case "/ok":
      return new Response("fine");
    case "/forbidden":
      return new Response("no", { status: 403 });
    case "/custom":
      return new Response("teapot", { status: 418, statusText: "Short And Stout" });
    case "/unknown":
      return new Response("?", { status: 599 });
  }
  return upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A raw client: writes `parts` with a pause between them and reads until `done(text)`,
// the end of the server's side, or the connection's close.
async function exchange(
  port: number,
  parts: string[],
  done: (text: string) => boolean = () => false,
  allowHalfOpen = false,
): Promise<{ text: string; socket: Socket; ended: boolean }> {
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  let text = "", ended = false;
  const finished = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (done(text)) resolve();
    });
    socket.on("end", () => {
      ended = true;
      resolve();
    });
    socket.on("close", () => resolve());
  });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(30);
    socket.write(Buffer.from(part, "latin1"));
  }
  await finished;
  return { text, socket, ended };
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.getConnections((error, count) => error ? reject(error) : resolve(count))
  );
}

// Waits until the server holds no connection, or fails after `ms`.
async function serverLetGo(server: Server, ms: number): Promise<number> {
  const started = Date.now();
  while (await connections(server) > 0) {
    if (Date.now() - started > ms) {
      assert.fail(`the server still holds a connection after ${ms} ms`);
    }
    await sleep(50);
  }
  return Date.now() - started;
}

// Whether a client that kept its side open learns that the server is gone: once the
// server has closed the socket, what the client writes is answered with a reset.
async function clientSeesClose(socket: Socket, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const probe = setInterval(() => socket.writable && socket.write("x"), 100);
  const timeout = sleep(ms).then(() => "timeout");
  try {
    assert.notEqual(await Promise.race([closed, timeout]), "timeout", "client never saw a close");
  } finally {
    clearInterval(probe);
    socket.destroy();
  }
}

describe("Node.js refused upgrades close their connection", () => {
  let server: WsxServer;
  before(async () => {
    server = await serve({ port: 0, hostname: "127.0.0.1", onRequest, handshakeTimeoutMs: 60_000 });
  });
  after(() => server.shutdown({ timeoutMs: 500 }));

  const cases: Array<[string, string[], RegExp]> = [
    ["a 426 to a whole head (fast path)", [
      upgradeHead().replace("Version: 13", "Version: 8"),
    ], /^HTTP\/1\.1 426 /],
    ["a 426 to a split head (node:http)", [
      upgradeHead().slice(0, 20),
      upgradeHead().slice(20).replace("Version: 13", "Version: 8"),
    ], /^HTTP\/1\.1 426 /],
    ["a handler's 403", [upgradeHead("/forbidden")], /^HTTP\/1\.1 403 /],
    [
      "node:http's 400 to a malformed head",
      [upgradeHead().replace("Host:", "Ho st:")],
      /^HTTP\/1\.1 400 /,
    ],
  ];
  for (const [name, parts, status] of cases) {
    test(`${name}: a client that keeps its side half-open is closed within seconds`, async () => {
      const { text, socket, ended } = await exchange(server.port, parts, () => false, true);
      assert.match(text, status);
      assert.ok(ended, "the server ends its side after the response");
      const waited = await serverLetGo(server.raw as Server, 3000);
      assert.ok(waited >= 200, `closed after ${waited} ms: the client had no time to read`);
      await clientSeesClose(socket, 2000);
    });
  }

  test("a refused client that closes its side is let go at once", async () => {
    const { socket } = await exchange(server.port, [upgradeHead("/forbidden")]);
    socket.destroy();
    assert.ok(await serverLetGo(server.raw as Server, 3000) < 500);
  });
});

describe("Node.js upgrade requests that cannot become WebSockets", () => {
  let server: WsxServer;
  before(async () => {
    server = await serve({ port: 0, hostname: "127.0.0.1", onRequest, handshakeTimeoutMs: 60_000 });
  });
  after(() => server.shutdown({ timeoutMs: 500 }));

  const refused = async (parts: string[], reason: RegExp) => {
    // Stops at a 101 head: an upgraded connection would stay open.
    const upgraded = (t: string) => /^HTTP\/1\.1 101 [^]*\r\n\r\n/.test(t);
    const { text, socket } = await exchange(server.port, parts, upgraded);
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.doesNotMatch(text, /101 Switching Protocols/);
    assert.match(text.slice(text.indexOf("\r\n\r\n") + 4), reason);
  };

  test("an HTTP/1.0 upgrade gets 400, whole (fast path declines it) or split (node:http)", async () => {
    const head = upgradeHead("/echo", "", "1.0");
    const reason = /^Unsupported HTTP version: .*HTTP\/1\.1 or later, got "HTTP\/1\.0"$/;
    await refused([head], reason);
    await refused([head.slice(0, 20), head.slice(20)], reason);
  });

  test("an upgrade with a Content-Length body gets 400, and its body is not read as frames", async () => {
    await refused(
      [upgradeHead("/echo", "Content-Length: 5\r\n") + "hello"],
      /^Invalid upgrade request: a GET upgrade has no body, got "Content-Length: 5"$/,
    );
  });

  test("an upgrade with a chunked body gets 400", async () => {
    await refused(
      [upgradeHead("/echo", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n"],
      /^Invalid upgrade request: a GET upgrade has no body, got "Transfer-Encoding: chunked"$/,
    );
  });

  test("an upgrade with Content-Length: 0 has no body and is upgraded", async () => {
    const { text, socket } = await exchange(
      server.port,
      [upgradeHead("/echo", "Content-Length: 0\r\n")],
      (t) => t.includes("\r\n\r\n"),
    );
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  });

  test("these refusals are counted as refused upgrades", () => {
    assert.ok(server.stats.refusedUpgrades >= 4, `${server.stats.refusedUpgrades}`);
  });
});

describe("Node.js raw responses to upgrade requests", () => {
  let server: WsxServer;
  before(async () => {
    server = await serve({ port: 0, hostname: "127.0.0.1", onRequest, handshakeTimeoutMs: 60_000 });
  });
  after(() => server.shutdown({ timeoutMs: 500 }));

  const statusLine = async (head: string) => {
    const { text, socket } = await exchange(server.port, [head]);
    socket.destroy();
    return text.slice(0, text.indexOf("\r\n"));
  };

  test("carry the standard reason phrase of their status, or the response's own", async () => {
    const v8 = upgradeHead().replace("Version: 13", "Version: 8");
    assert.equal(await statusLine(v8), "HTTP/1.1 426 Upgrade Required");
    assert.equal(await statusLine(upgradeHead("/ok")), "HTTP/1.1 200 OK");
    assert.equal(await statusLine(upgradeHead("/forbidden")), "HTTP/1.1 403 Forbidden");
    assert.equal(await statusLine(upgradeHead("/custom")), "HTTP/1.1 418 Short And Stout");
    assert.equal(await statusLine(upgradeHead("/unknown")), "HTTP/1.1 599 Unknown");
  });
});

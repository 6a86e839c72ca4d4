// serve({ tls }) and attach() to an https.Server on Node.js, in process: the option's
// checks, the certificate chain (`ca`) and encrypted keys (`passphrase`), which path an
// upgrade head takes under TLS, the head timeout over a dribbled handshake, shutdown
// with handshakes pending, and a plain server's connections reporting `secure: false`.
// (tests/conformance/tls_test.ts runs the engine on Deno and Bun too.)
import assert from "node:assert/strict";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { attach, serve, type WsxServer } from "../../src/adapters/node.ts";
import { checkServeOptions, type TlsOptions } from "../../src/core/server.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import { makeCerts, type TestCerts } from "../conformance/_certs.ts";

let certs: TestCerts;
before(() => {
  certs = makeCerts();
});
after(() => certs.remove());

const UPGRADE_HEAD = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

// Echoes, after a first message telling what the handle saw.
function onRequest(request: Request): Response {
  if (request.headers.get("upgrade") !== "websocket") return new Response(request.url);
  const url = request.url;
  return upgrade(request, {
    onOpen: (ws) => void ws.write(JSON.stringify({ secure: ws.secure, url })),
    onMessage: (ws, data, isText) => void ws.write(data, isText),
  });
}

function serveTls(tls: TlsOptions, handshakeTimeoutMs = 10_000): Promise<WsxServer> {
  return serve({ port: 0, hostname: "127.0.0.1", tls, handshakeTimeoutMs, onRequest });
}

// The server's first message (what the handle saw) and the echo of one message.
async function echoOnce(url: string, ca?: string): Promise<{ opened: unknown; echo: string }> {
  const ws = new WebSocket(url, ca === undefined ? {} : { ca });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      got.push(String(data));
      if (got.length === 1) ws.send("hi");
      else resolve();
    });
  });
  ws.close();
  return { opened: JSON.parse(got[0]), echo: got[1] };
}

// Writes `parts` over TLS, a pause between them; resolves with the first answer.
async function tlsExchange(port: number, parts: string[]): Promise<string> {
  const socket = tlsConnect({ host: "127.0.0.1", port, ca: certs.ca });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("secureConnect", resolve));
  const answer = new Promise<string>((resolve) => socket.once("data", (c) => resolve(String(c))));
  for (const [i, part] of parts.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    socket.write(part);
  }
  const text = await answer;
  socket.destroy();
  return text;
}

describe("serve({ tls }) options", () => {
  const check = (tls: unknown) => () =>
    checkServeOptions({ onRequest: () => new Response(""), tls: tls as TlsOptions });

  test("a missing or non-PEM field is a TypeError naming it", () => {
    assert.throws(check("cert.pem"), { name: "TypeError", message: /"tls": expected an object/ });
    assert.throws(check({ key: certs.key }), { name: "TypeError", message: /"tls\.cert"/ });
    assert.throws(check({ cert: certs.cert, key: "key.pem" }), {
      name: "TypeError",
      message:
        /"tls\.key": expected PEM text \(the file's contents, not its path\), got "key\.pem"/,
    });
    assert.throws(check({ cert: certs.cert, key: certs.key, passphrase: 42 }), {
      name: "TypeError",
      message: /"tls\.passphrase": expected a string, got number/,
    });
    assert.throws(check({ cert: certs.cert, key: certs.key, ca: "ca.pem" }), {
      name: "TypeError",
      message: /"tls\.ca"/,
    });
  });

  test("the checked option is a frozen copy", () => {
    const { tls } = checkServeOptions({
      onRequest: () => new Response(""),
      tls: { cert: certs.cert, key: certs.key },
    });
    assert.deepEqual(tls, { cert: certs.cert, key: certs.key });
    assert.ok(Object.isFrozen(tls));
    assert.equal(checkServeOptions({ onRequest: () => new Response("") }).tls, undefined);
  });
});

describe("serve({ tls }) certificates", () => {
  test("ca completes the chain of a certificate an intermediate CA signed", async () => {
    const tls = { cert: certs.chainedCert, key: certs.chainedKey };
    const withCa = await serveTls({ ...tls, ca: certs.intermediate });
    const without = await serveTls(tls);
    try {
      const { echo } = await echoOnce(`wss://127.0.0.1:${withCa.port}/ws`, certs.ca);
      assert.equal(echo, "hi");
      // Without the intermediate, a client trusting only the root cannot build the chain.
      await assert.rejects(
        echoOnce(`wss://127.0.0.1:${without.port}/ws`, certs.ca),
        /unable to verify|issuer/,
      );
    } finally {
      await withCa.shutdown();
      await without.shutdown();
    }
  });

  test("an encrypted key with its passphrase; a wrong passphrase fails serve()", async () => {
    const server = await serveTls({
      cert: certs.cert,
      key: certs.encryptedKey,
      passphrase: certs.passphrase,
    });
    try {
      assert.equal((await echoOnce(`wss://127.0.0.1:${server.port}/ws`, certs.ca)).echo, "hi");
    } finally {
      await server.shutdown();
    }
    await assert.rejects(
      serveTls({ cert: certs.cert, key: certs.encryptedKey, passphrase: "wrong" }),
      { name: "TypeError", message: /"tls\.passphrase": it does not decrypt "tls\.key"/ },
    );
    await assert.rejects(serveTls({ cert: certs.cert, key: certs.encryptedKey }), {
      name: "TypeError",
      message: /"tls\.key": cannot read it \(an encrypted key needs "tls\.passphrase"\)/,
    });
  });
});

describe("serve({ tls }) on the engine", () => {
  let server: WsxServer;
  let parsedByNodeHttp = 0;
  before(async () => {
    server = await serveTls({ cert: certs.cert, key: certs.key }, 1000);
    (server.raw as import("node:http").Server).on("upgrade", () => parsedByNodeHttp++);
  });
  after(() => server.shutdown());

  test("a whole or split upgrade head takes the fast path, a trickled one node:http's; all upgrade", async () => {
    const whole = await tlsExchange(server.port, [UPGRADE_HEAD]);
    assert.match(whole, /^HTTP\/1\.1 101 /);
    const split = await tlsExchange(server.port, [
      UPGRADE_HEAD.slice(0, 20),
      UPGRADE_HEAD.slice(20),
    ]);
    assert.match(split, /^HTTP\/1\.1 101 /);
    assert.equal(parsedByNodeHttp, 0);
    // Past a few reads the head is node:http's to wait for.
    const parts = Array.from({ length: 8 }, (_, i) => UPGRADE_HEAD.slice(i * 20, i * 20 + 20));
    const trickled = await tlsExchange(server.port, [...parts, UPGRADE_HEAD.slice(160)]);
    assert.match(trickled, /^HTTP\/1\.1 101 /);
    assert.equal(parsedByNodeHttp, 1);
  });

  test("a ClientHello dribbled a byte at a time is cut within the head timeout", {
    timeout: 10_000,
  }, async () => {
    // Each byte is activity: only a limit counted from the TCP accept stops it.
    const started = Date.now();
    const socket = tcpConnect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    const hello = Buffer.from("16030100c801", "hex");
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < hello.length) socket.write(hello.subarray(sent, ++sent));
    }, 200);
    await new Promise((resolve) => socket.once("close", resolve));
    clearInterval(timer);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed <= 2600, `cut after ${elapsed} ms`);
  });

  test("requests over TLS are https:, connections secure", async () => {
    const { opened } = await echoOnce(`wss://127.0.0.1:${server.port}/ws?q=1`, certs.ca);
    assert.deepEqual(opened, { secure: true, url: `https://127.0.0.1:${server.port}/ws?q=1` });
  });
});

test("shutdown does not wait for clients still in their TLS handshake", async () => {
  const server = await serveTls({ cert: certs.cert, key: certs.key }, 10_000);
  const socket = tcpConnect(server.port, "127.0.0.1");
  socket.on("error", () => {});
  const closed = new Promise((resolve) => socket.once("close", resolve));
  await new Promise((resolve) => socket.once("connect", resolve));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await server.shutdown();
  await closed;
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 2500, `shutdown took ${elapsed} ms`);
});

test("attach() to your own node:https server: https: requests, secure connections", async () => {
  const https = createHttpsServer({ cert: certs.cert, key: certs.key, handshakeTimeout: 5000 });
  https.on("request", (_req, res) => res.end("yours"));
  const attachment = attach(https, onRequest);
  await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
  const { port } = https.address() as AddressInfo;
  try {
    const { opened, echo } = await echoOnce(`wss://localhost:${port}/ws`, certs.ca);
    assert.deepEqual(opened, { secure: true, url: `https://localhost:${port}/ws` });
    assert.equal(echo, "hi");
    assert.equal(attachment.stats.open, 1);
  } finally {
    await attachment.shutdown({ timeoutMs: 1000 });
    await new Promise((resolve) => https.close(resolve));
  }
});

test("without tls: http: requests, connections not secure", async () => {
  const server = await serve({ port: 0, hostname: "127.0.0.1", onRequest });
  try {
    const { opened } = await echoOnce(`ws://127.0.0.1:${server.port}/ws`);
    assert.deepEqual(opened, { secure: false, url: `http://127.0.0.1:${server.port}/ws` });
  } finally {
    await server.shutdown();
  }
});

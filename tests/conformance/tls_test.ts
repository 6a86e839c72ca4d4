// serve({ tls }) on the runtime named by WSX_RUNTIME, with the transport named by
// WSX_TRANSPORT: wsx's engine (src/adapters/node.ts over the runtime's node:https) or the
// runtime's native server, with certificates made at run time. Clients: `ws` and raw TLS/TCP sockets from Node.js, and the runtime's own
// fetch and WebSocket (tls_client.ts).
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { get } from "node:https";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { makeCerts, type TestCerts } from "./_certs.ts";
import { commandFor, runtime, startExample, target, transport } from "./_harness.ts";

const HEAD_TIMEOUT_MS = 2000;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const root = here("../../");
let certs: TestCerts;

interface TlsServer {
  readonly port: number;
  stop(): Promise<void>;
}

async function startTls(env: Record<string, string> = {}): Promise<TlsServer> {
  const [cmd, args] = commandFor(runtime, here("./tls_fixture.ts"));
  const child: ChildProcess = spawn(cmd, args, {
    cwd: root,
    env: {
      ...process.env,
      TLS_CERT: certs.certPath,
      TLS_KEY: certs.keyPath,
      WSX_TLS_TRANSPORT: transport,
      WSX_HEAD_TIMEOUT_MS: String(HEAD_TIMEOUT_MS),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no READY: ${stderr}`)), 20_000);
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("READY ")) return;
      clearTimeout(timer);
      const ready = JSON.parse(line.slice(6));
      // The transport asked for is the one that runs.
      if (ready.transport !== transport) reject(new Error(`got ${ready.transport}`));
      resolve(ready.port);
    });
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

function httpsGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path, ca: certs.ca }, (response) => {
      let body = "";
      response.on("data", (chunk) => body += chunk);
      response.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

// Opens wss://.../ws/echo with `ws`, sends one message; the server's first message
// tells what the handle saw.
async function wssEcho(
  port: number,
): Promise<{ opened: { secure: boolean; url: string }; echo: string }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws/echo`, { ca: certs.ca });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data) => {
      got.push(String(data));
      if (got.length === 1) ws.send("ping over tls");
      else resolve();
    });
  });
  ws.close();
  return { opened: JSON.parse(got[0]), echo: got[1] };
}

// The runtime's own fetch and WebSocket, trusting the test CA.
function runtimeClient(port: number): Promise<{ body: string; messages: string[] }> {
  const client = here("./tls_client.ts");
  const bin = `${root}node_modules/.bin/${runtime}`;
  const args = runtime === "deno"
    ? ["run", "--allow-net", "--allow-read", "--cert", certs.caPath, client]
    : ["run", client];
  return new Promise((resolve, reject) => {
    execFile(bin, [...args, String(port), certs.caPath], { timeout: 20_000 }, (error, stdout) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (line === undefined) return reject(error ?? new Error(`no RESULT: ${stdout}`));
      resolve(JSON.parse(line.slice(7)));
    });
  });
}

before(() => {
  certs = makeCerts();
});
after(() => certs.remove());

describe(`serve({ tls }) on ${target}`, () => {
  let server: TlsServer;
  before(async () => server = await startTls());
  after(() => server.stop());

  test("an HTTPS request's URL is https:", async () => {
    assert.equal(await httpsGet(server.port, "/x?y=1"), `https://127.0.0.1:${server.port}/x?y=1`);
  });

  test("wss: echo with ws trusting the CA; the handle is secure, its request https:", async () => {
    const { opened, echo } = await wssEcho(server.port);
    assert.deepEqual(opened, { secure: true, url: `https://127.0.0.1:${server.port}/ws/echo` });
    assert.equal(echo, "ping over tls");
  });

  test("a client that does not trust the CA is refused", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws/echo`);
    const error = await new Promise<Error>((resolve) => ws.on("error", resolve));
    assert.match(error.message, /certificate/);
  });

  if (runtime !== "node") {
    test(`${runtime}'s own fetch and WebSocket, trusting the CA`, async () => {
      const { body, messages } = await runtimeClient(server.port);
      assert.equal(body, `https://127.0.0.1:${server.port}/`);
      assert.equal(JSON.parse(messages[0]).secure, true);
      assert.equal(messages[1], "hello over tls");
    });
  }
});

describe(`serve({ tls }) on ${runtime}'s engine: handshake limits and the fast path`, {
  skip: transport === "native" ? "about the engine" : false,
}, () => {
  let server: TlsServer;
  // An encrypted key and its passphrase, this time.
  before(async () =>
    server = await startTls({
      TLS_KEY: certs.encryptedKeyPath,
      TLS_PASSPHRASE: certs.passphrase,
    })
  );
  after(() => server.stop());

  // Bun's node:https is not a tls.Server: it hands wsx a connection only once its TLS
  // handshake is done, and bounds the handshake itself (about 12 s, whatever the options).
  const bound = runtime === "bun" ? 15_000 : HEAD_TIMEOUT_MS + 1500;
  test(`a TCP client that never sends a ClientHello is cut within ${bound} ms`, {
    timeout: bound + 5000,
  }, async () => {
    const started = Date.now();
    const socket = tcpConnect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => socket.once("close", resolve));
    const elapsed = Date.now() - started;
    if (runtime !== "bun") {
      assert.ok(elapsed >= HEAD_TIMEOUT_MS - 100, `cut too early: ${elapsed} ms`);
    }
    assert.ok(elapsed <= bound, `cut after ${elapsed} ms`);
    // No plain-text answer over a TLS port.
    assert.equal(Buffer.concat(received).toString("latin1").includes("HTTP/1.1"), false);
  });

  test("a TLS client that never sends its request head gets 408 over TLS", {
    skip: runtime === "bun" ? "Bun's node:http bounds request heads itself" : false,
  }, async () => {
    const started = Date.now();
    const socket = tlsConnect({ host: "127.0.0.1", port: server.port, ca: certs.ca });
    socket.on("error", () => {});
    let text = "";
    socket.on("data", (chunk: Buffer) => text += chunk.toString("latin1"));
    await new Promise((resolve) => socket.once("close", resolve));
    const elapsed = Date.now() - started;
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(elapsed <= HEAD_TIMEOUT_MS + 1500, `cut after ${elapsed} ms`);
  });

  test("a wss: connection outlives the head timeout", { timeout: 15_000 }, async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws/echo`, { ca: certs.ca });
    const got: string[] = [];
    ws.on("message", (data) => got.push(String(data)));
    await new Promise((resolve, reject) => (ws.on("open", resolve), ws.on("error", reject)));
    await new Promise((resolve) => setTimeout(resolve, HEAD_TIMEOUT_MS + 1500));
    ws.send("still here");
    await new Promise((resolve) => ws.once("message", resolve));
    assert.equal(got.at(-1), "still here");
    ws.close();
  });

  // The fast path answers whole upgrade heads before node:http parses them; node:http
  // emits `upgrade` only for those it parsed. Bun's node:http has a connection
  // listener of its own first, so the fast path stays off there.
  test(
    runtime === "bun" ? "Bun: upgrades go through node:http" : "upgrades take the fast path",
    async () => {
      const before = Number(await httpsGet(server.port, "/node-upgrades"));
      await wssEcho(server.port);
      await wssEcho(server.port);
      const parsed = Number(await httpsGet(server.port, "/node-upgrades")) - before;
      assert.equal(parsed, runtime === "bun" ? 2 : 0);
    },
  );
});

test(`${runtime}'s engine refuses a passphrase that does not decrypt the key, at start`, {
  skip: transport === "native" ? "about the engine" : false,
}, async () => {
  await assert.rejects(
    startTls({ TLS_KEY: certs.encryptedKeyPath, TLS_PASSPHRASE: "wrong" }),
    /Invalid "tls\.passphrase": it does not decrypt "tls\.key"/,
  );
});

test("Deno's native transport refuses an encrypted key with a TypeError naming tls.passphrase", {
  skip: target === "deno-native" ? false : "about Deno.serve",
}, async () => {
  await assert.rejects(
    startTls({ TLS_KEY: certs.encryptedKeyPath, TLS_PASSPHRASE: certs.passphrase }),
    /TypeError: Invalid "tls\.passphrase": Deno\.serve takes no encrypted key/,
  );
});

test(`the seed's Hello World on ${target} serves https: and wss: with TLS_CERT and TLS_KEY`, async () => {
  const { port, stop } = await startExample("examples/hello_world.ts", {
    TLS_CERT: certs.certPath,
    TLS_KEY: certs.keyPath,
  });
  try {
    assert.equal(await httpsGet(port, "/"), "Hello World!");
    const ws = new WebSocket(`wss://localhost:${port}/`, { ca: certs.ca });
    await new Promise((resolve, reject) => (ws.on("open", resolve), ws.on("error", reject)));
    const reply = new Promise((resolve) => ws.once("message", (data) => resolve(String(data))));
    ws.send("echo me");
    assert.equal(await reply, "echo me");
    ws.close();
  } finally {
    stop();
  }
});

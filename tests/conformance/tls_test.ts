// serve({ tls }) on the runtime named by WSX_RUNTIME, with the transport named by
// WSX_TRANSPORT: wsx's engine (src/adapters/node.ts over the runtime's node:https) or the
// runtime's native server, with certificates made at run time. Clients: `ws` from
// Node.js, and the runtime's own fetch and WebSocket (tls_client.ts). The handshake
// limits and the fast path under TLS are in tls_limits_test.ts.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { makeCerts, type TestCerts } from "./_certs.ts";
import { runtime, startExample, target, transport } from "./_harness.ts";
import {
  here,
  httpsGet as get,
  root,
  startTls as start,
  type TlsServer,
  wssEcho as echo,
} from "./_tls.ts";

const HEAD_TIMEOUT_MS = 2000;
let certs: TestCerts;
const startTls = (env: Record<string, string> = {}) => start(certs, HEAD_TIMEOUT_MS, env);
const httpsGet = (port: number, path: string) => get(certs, port, path);
const wssEcho = (port: number) => echo(certs, port);

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

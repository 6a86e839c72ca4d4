// The 101 response leaves with what onOpen sends: one socket write, at the end of the
// turn (src/rfc6455/socket.ts `greet`, src/rfc6455/turn.ts). Counted on the server's real
// sockets by wrapping net.Socket's write for the length of the test.
import assert from "node:assert/strict";
import { connect, Socket } from "node:net";
import { test } from "node:test";
import { serve } from "../../src/adapters/node.ts";
import { upgrade } from "../../src/core/upgrade.ts";
import type { UpgradeSettings } from "../../src/types.ts";

const HEAD = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// Serves `settings`, sends `sent` on a fresh connection once connected, and collects what
// the server's socket writes until `done(text)` holds for what the client read.
async function serverWrites(
  settings: UpgradeSettings<undefined>,
  sent: Uint8Array | string,
  done: (text: string) => boolean,
): Promise<{ text: string; writes: string[] }> {
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    onRequest: (req) => upgrade(req, settings),
  });
  const writes: string[] = [];
  const write = Socket.prototype.write;
  const client = connect(server.port, "127.0.0.1");
  Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    // The server's side of our connection only (the test runner writes on sockets too).
    // (Before the client connects both ports are undefined: the runner's pipes would match.)
    if (this !== client && this.remotePort !== undefined && this.remotePort === client.localPort) {
      writes.push(Buffer.from(chunk as Uint8Array).toString("latin1"));
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof Socket.prototype.write;
  try {
    await new Promise((resolve) => client.once("connect", resolve));
    client.write(sent);
    let text = "";
    client.on("data", (chunk: Buffer) => text += chunk.toString("latin1"));
    for (let i = 0; i < 200 && !done(text); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // Anything written after the answer would show up now.
    await new Promise((r) => setTimeout(r, 20));
    return { text, writes };
  } finally {
    Socket.prototype.write = write;
    client.destroy();
    await server.shutdown({ timeoutMs: 500 });
  }
}

test("The 101 and onOpen's first messages leave in one socket write", async () => {
  const greeting: UpgradeSettings<undefined> = {
    onOpen: (ws) => {
      ws.write("hello");
      ws.write("world");
    },
  };
  const { text, writes } = await serverWrites(greeting, HEAD, (t) => t.endsWith("world"));
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.ok(text.endsWith("\x81\x05hello\x81\x05world"), JSON.stringify(text.slice(-20)));
  assert.equal(writes.length, 1, `server socket writes: ${JSON.stringify(writes)}`);
});

test("A 101 with nothing after it leaves alone, in one write, and nothing follows it", async () => {
  const { text, writes } = await serverWrites({}, HEAD, (t) => t.endsWith("\r\n\r\n"));
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n\r\n$/);
  assert.deepEqual(writes, [text]);
});

test("A ping sent with the head is answered after the 101, in the same write", async () => {
  // A masked ping with the payload "hi" (RFC 6455 section 5.5.2), right behind the head.
  const ping = Buffer.from([0x89, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]);
  const sent = Buffer.concat([Buffer.from(HEAD, "latin1"), ping]);
  const { text, writes } = await serverWrites({}, sent, (t) => t.endsWith("\x8a\x02hi"));
  assert.match(text, /^HTTP\/1\.1 101 /);
  assert.ok(text.endsWith("\r\n\r\n\x8a\x02hi"), JSON.stringify(text.slice(-20)));
  assert.equal(text.indexOf("\r\n\r\n"), text.length - 8, "the pong follows the 101's blank line");
  assert.equal(writes.length, 1, `server socket writes: ${JSON.stringify(writes)}`);
});

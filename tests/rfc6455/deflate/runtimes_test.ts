/**
 * wsx's engine with permessage-deflate on Node.js, Deno and Bun (through each runtime's
 * `node:http` and `node:zlib`): the ws client's default offer, the RFC 7692 example as raw
 * frames, a bomb, compressed messages taken as streams (`onStream`), and the runtimes' own
 * clients (Bun's offers the extension, Deno's does not).
 *
 *   node --import tsx --test tests/rfc6455/deflate/runtimes_test.ts
 *   WSX_RUNTIME=bun node --import tsx --test tests/rfc6455/deflate/runtimes_test.ts
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import { constants, deflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { commandFor, type Runtime } from "../../conformance/_harness.ts";
import { RawClient } from "../_client.ts";

const ALL: readonly Runtime[] = ["node", "deno", "bun"];
const selected = process.env.WSX_RUNTIME as Runtime | undefined;
const fixture = fileURLToPath(new URL("./_runtime_fixture.ts", import.meta.url));
const client = fileURLToPath(new URL("./_runtime_client.ts", import.meta.url));
const OFFER = "Sec-WebSocket-Extensions: permessage-deflate\r\n";
// A message's payload as RFC 7692 section 7.2.1 sends it: sync-flushed, 00 00 ff ff cut.
const compress = (b: Uint8Array) =>
  deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
// One compressed message in frames of 16 KiB (the first not final: the fixture streams it).
function sendFrames(c: RawClient, opcode: number, packed: Uint8Array): void {
  for (let at = 0; at < packed.length; at += 16384) {
    const end = Math.min(packed.length, at + 16384);
    c.send(at === 0 ? opcode : 0, packed.subarray(at, end), {
      rsv: at === 0 ? 4 : 0,
      fin: end === packed.length,
    });
  }
}
const ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

async function start(rt: Runtime): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = commandFor(rt, fixture);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith("READY ")) continue;
    clearTimeout(timer);
    return { child, port: JSON.parse(line.slice(6)).port };
  }
  throw new Error(`the fixture on ${rt} printed no READY line`);
}

for (const rt of selected ? [selected] : ALL) {
  describe(`permessage-deflate on the engine under ${rt}`, { timeout: 120_000 }, () => {
    let server: { child: ChildProcess; port: number };
    before(async () => (server = await start(rt)));
    after(() => void server?.child.kill("SIGKILL"));

    test("ws's default offer: negotiated, a JSON echo shrinks to under half", async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: true });
      let header: unknown;
      ws.once("upgrade", (res: IncomingMessage) => {
        header = res.headers["sec-websocket-extensions"];
      });
      await once(ws, "open");
      assert.equal(header, ANSWER);
      const socket = (ws as unknown as { _socket: import("node:net").Socket })._socket;
      const before = socket.bytesRead;
      const m = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, name: "item" })));
      const reply = once(ws, "message");
      ws.send(m);
      assert.equal(String((await reply)[0]), m);
      assert.ok(socket.bytesRead - before < m.length / 2);
      ws.close();
      await once(ws, "close");
    });

    test("RFC 7692 section 7.2.3.1 'Hello', and a 64 MiB bomb closed with 1009", async () => {
      const c = await RawClient.connect(
        server.port,
        "Sec-WebSocket-Extensions: permessage-deflate\r\n",
      );
      c.send(1, new Uint8Array([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), { rsv: 4 });
      const f = await c.read();
      assert.equal(new TextDecoder().decode(f.payload), "Hello"); // under the threshold: plain
      const bomb = deflateRawSync(Buffer.alloc(64 << 20), { finishFlush: 2 }).subarray(0, -4);
      c.send(2, bomb, { rsv: 4 });
      await c.expectClose(1009);
      c.destroy();
    });

    test("a compressed message taken as a stream: 6 MiB in order (SHA-256)", async () => {
      const c = await RawClient.connect(server.port, OFFER);
      const message = randomBytes(6 << 20).map((b) => b & 0x0f);
      sendFrames(c, 2, compress(message));
      const [size, sha] = new TextDecoder().decode((await c.read(30_000)).payload).split(" ");
      assert.equal(Number(size), message.length);
      assert.equal(sha, createHash("sha256").update(message).digest("hex"));
      c.destroy();
    });

    test("a streamed 64 MiB bomb to a reader away 500 ms: RSS grows < 32 MB", async (t) => {
      const c = await RawClient.connect(server.port, OFFER);
      const size = 64 << 20;
      sendFrames(c, 1, compress(new Uint8Array(size)));
      const reply = new TextDecoder().decode((await c.read(30_000)).payload).split(" ");
      assert.equal(Number(reply[0]), size);
      t.diagnostic(`RSS grew by ${(Number(reply[2]) / 1048576).toFixed(1)} MiB`);
      assert.ok(Number(reply[2]) < 32 << 20, `RSS grew by ${reply[2]} bytes`);
      c.destroy();
    });

    test("streamed: past maxStreamSize 1009, data that does not inflate 1007", async () => {
      const c = await RawClient.connect(server.port, OFFER);
      sendFrames(c, 2, compress(new Uint8Array(256 << 20)));
      await c.expectClose(1009, 30_000);
      c.destroy();
      const d = await RawClient.connect(server.port, OFFER);
      // A block boundary (a whole sync flush), then a block of the reserved type 3.
      const valid = deflateRawSync(randomBytes(10_000), { finishFlush: constants.Z_SYNC_FLUSH });
      d.send(2, valid, { rsv: 4, fin: false });
      d.send(0, new Uint8Array([0x06, 0x00]));
      await d.expectClose(1007);
      d.destroy();
    });

    for (const peer of ["bun", "deno"] as const) {
      test(`${peer}'s WebSocket client`, async () => {
        const [cmd, args] = commandFor(peer, client);
        const { stdout } = await promisify(execFile)(cmd, [...args, String(server.port)], {
          timeout: 30_000,
        });
        const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
        // Bun's client offers permessage-deflate; Deno's offers no extension.
        assert.deepEqual(result, { extensions: peer === "bun" ? ANSWER : "", echoed: true });
      });
    }
  });
}

/**
 * wsx's engine with permessage-deflate on Node.js, Deno and Bun (through each runtime's
 * `node:http` and `node:zlib`): the ws client's default offer, the RFC 7692 example as raw
 * frames, a bomb, and the runtimes' own clients (Bun's offers the extension, Deno's does
 * not).
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
import { deflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { commandFor, type Runtime } from "../../conformance/_harness.ts";
import { RawClient } from "../_client.ts";

const ALL: readonly Runtime[] = ["node", "deno", "bun"];
const selected = process.env.WSX_RUNTIME as Runtime | undefined;
const fixture = fileURLToPath(new URL("./_runtime_fixture.ts", import.meta.url));
const client = fileURLToPath(new URL("./_runtime_client.ts", import.meta.url));
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

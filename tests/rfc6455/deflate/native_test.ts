/**
 * permessage-deflate through `serve()` (`src/serve.ts`) on every runtime and transport:
 * wsx's engine (Node.js, Deno, Bun), Bun's native server (Bun's own permessage-deflate,
 * mapped from the setting), Deno's native server (none). Checked with the `ws` client: the
 * 101's header, the threshold, `compress: false`, the per-upgrade override and the
 * capability flag.
 *
 *   node --import tsx --test tests/rfc6455/deflate/native_test.ts
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { commandFor, type Runtime } from "../../conformance/_harness.ts";

const fixture = fileURLToPath(new URL("./_native_fixture.ts", import.meta.url));
const selected = process.env.WSX_RUNTIME as Runtime | undefined;

type Transport = "engine" | "native";
const ANSWER = "client_no_context_takeover; permessage-deflate; server_no_context_takeover";
// What each transport does with `perMessageDeflate` on.
const EXPECTED = {
  engine: { caps: "per-upgrade", header: ANSWER, override: true },
  // Bun negotiates itself, per server: upgrade()'s override cannot apply.
  "bun-native": { caps: "per-server", header: ANSWER, override: false },
  "deno-native": { caps: "none", header: undefined, override: false },
} as const;
const TARGETS: ReadonlyArray<[Runtime, Transport]> = [
  ["node", "engine"],
  ["deno", "engine"],
  ["deno", "native"],
  ["bun", "engine"],
  ["bun", "native"],
];

const sorted = (h: unknown) =>
  typeof h === "string" ? h.split(";").map((p) => p.trim()).sort().join("; ") : undefined;

for (const [rt, transport] of TARGETS.filter(([r]) => !selected || r === selected)) {
  const key = transport === "engine" ? "engine" : rt === "bun" ? "bun-native" : "deno-native";
  const expected: { caps: string; header: string | undefined; override: boolean } = EXPECTED[key];
  describe(`permessage-deflate on ${rt} (${transport})`, { timeout: 60_000 }, () => {
    let child: ChildProcess;
    let port = 0;
    before(async () => {
      const [cmd, args] = commandFor(rt, fixture);
      child = spawn(cmd, args, {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, WSX_TRANSPORT: transport },
      });
      for await (const line of createInterface({ input: child.stdout! })) {
        if (line.startsWith("READY ")) {
          port = JSON.parse(line.slice(6)).port;
          break;
        }
      }
    });
    after(() => void child?.kill("SIGKILL"));

    async function open(query = "") {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`, { perMessageDeflate: true });
      let header: unknown;
      ws.once("upgrade", (res: IncomingMessage) => {
        header = res.headers["sec-websocket-extensions"];
      });
      await once(ws, "open");
      const socket = (ws as unknown as { _socket: import("node:net").Socket })._socket;
      // Bytes on the wire for one echo.
      const echo = async (m: string): Promise<number> => {
        const start = socket.bytesRead, reply = once(ws, "message");
        ws.send(m);
        assert.equal(String((await reply)[0]), m);
        return socket.bytesRead - start;
      };
      return { ws, header, echo };
    }

    test("the 101, the capability flag, the threshold", async () => {
      const { ws, header, echo } = await open();
      assert.equal(sorted(header), expected.header);
      const caps = once(ws, "message");
      ws.send("caps");
      assert.equal(String((await caps)[0]), expected.caps);
      const long = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ i, name: "item" })));
      const compressed = header !== undefined;
      assert.equal(await echo("x".repeat(99)) > 99, true, "under the threshold: plain");
      assert.equal(await echo(long) < long.length / 2, compressed);
      ws.close();
    });

    test("write(..., { compress: false }) sends plain", async () => {
      const { ws, echo } = await open("?plain=1");
      const long = "y".repeat(1000);
      assert.ok(await echo(long) > 1000);
      ws.close();
    });

    test("upgrade({ perMessageDeflate: false })", async () => {
      const { ws, header } = await open("?off=1");
      assert.equal(sorted(header), expected.override ? undefined : expected.header);
      ws.close();
    });
  });
}

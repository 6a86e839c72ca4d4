/**
 * The interop scenario run by each runtime's own WebSocket client (tests/deno with
 * `deno test`, tests/bun with `bun test`) against the fixture server on every runtime.
 * It uses only `node:` modules and the standard WebSocket, which Deno and Bun both have.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = `${root}tests/conformance/fixture_server.ts`;

/** The servers (wsx's engine on each runtime, and Deno's and Bun's native ones), and how to start the fixture on each. */
export const SERVERS: Record<string, [string, string[], Record<string, string>]> = {
  deno: [`${root}node_modules/.bin/deno`, ["run", "-A", fixture], { WSX_TRANSPORT: "engine" }],
  "deno-native": [`${root}node_modules/.bin/deno`, ["run", "-A", fixture], {
    WSX_TRANSPORT: "native",
  }],
  bun: [`${root}node_modules/.bin/bun`, ["run", fixture], { WSX_TRANSPORT: "engine" }],
  "bun-native": [`${root}node_modules/.bin/bun`, ["run", fixture], { WSX_TRANSPORT: "native" }],
  node: ["node", ["--import", "tsx", fixture], {}],
};

async function withServer(runtime: string, fn: (port: number) => Promise<void>): Promise<void> {
  const [cmd, args, env] = SERVERS[runtime];
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fixture on ${runtime} did not start`)),
        20_000,
      );
      child.once("exit", () => reject(new Error(`fixture on ${runtime} exited`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const match = line.match(/^READY \{"port":(\d+)\}/);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    await fn(port);
  } finally {
    child.kill("SIGKILL");
  }
}

function open(url: string): Promise<{ ws: WebSocket; next: () => Promise<MessageEvent> }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const queue: MessageEvent[] = [];
  const waiters: ((e: MessageEvent) => void)[] = [];
  ws.onmessage = (e) => {
    const waiter = waiters.shift();
    if (waiter) waiter(e);
    else queue.push(e);
  };
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<MessageEvent>((resolve) => waiters.push(resolve));
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ ws, next });
    ws.onerror = () => reject(new Error("connection failed"));
  });
}

/**
 * Text and binary echo at several sizes, a client close and a server close, with this
 * runtime's WebSocket client against the fixture on `runtime`.
 *
 * @param runtime The server runtime: a key of {@linkcode SERVERS}.
 * @param client The client's name, for close reasons.
 */
export async function interop(runtime: string, client: string): Promise<void> {
  await withServer(runtime, async (port) => {
    const { ws, next } = await open(`ws://127.0.0.1:${port}/ws/echo`);
    for (const size of [0, 125, 126, 65536]) {
      ws.send("x".repeat(size));
      assert.equal((await next()).data, "x".repeat(size));
      const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
      ws.send(bytes);
      assert.deepEqual(new Uint8Array((await next()).data as ArrayBuffer), bytes);
    }
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.close(4000, `${client} bye`);
    assert.equal((await closed).code, 4000);

    const cmd = await open(`ws://127.0.0.1:${port}/ws/cmd`);
    const serverClosed = new Promise<CloseEvent>((resolve) => cmd.ws.onclose = resolve);
    cmd.ws.send("close 4003 from server");
    const byServer = await serverClosed;
    assert.equal(byServer.code, 4003);
    assert.equal(byServer.reason, "from server");
  });
}

/**
 * The server side of `head_cost.mjs`: wsx's engine (`handshakeTimeoutMs` from
 * HEADS_HANDSHAKE_MS) loaded from the checkout HEADS_ROOT, or with HEADS_SERVER=net the
 * floor (a bare `node:net` server whose sockets read their partial head and are cut by
 * wsx's `HeadTimeouts`). One JSON object a line on stdout, one command a line on stdin:
 * on start `{"port":N}`; `heap`: `{"heap":bytes}`, the JavaScript heap in use after a full
 * collection (where the runtime offers one); `cpu`: `{"cpu":ms,"gcMs":ms}`, the process's
 * CPU time and the time in V8's collections so far (Node.js only).
 *
 * @module
 */

import { createServer } from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const HANDSHAKE_MS = Number(process.env.HEADS_HANDSHAKE_MS ?? 2000);
const root = pathToFileURL(`${process.env.HEADS_ROOT ?? process.cwd()}/`);
const load = (path: string) => import(new URL(path, root).href);

async function listen(): Promise<number> {
  if (process.env.HEADS_SERVER === "net") {
    const { HeadTimeouts } = await load("src/adapters/node_head_timeout.ts");
    const heads = new HeadTimeouts(HANDSHAKE_MS);
    const raw = createServer((socket) => {
      heads.waiting(socket);
      socket.on("data", () => {});
      socket.on("error", () => {});
    });
    await new Promise<void>((done) => raw.listen(0, "127.0.0.1", done));
    return (raw.address() as { port: number }).port;
  }
  const { serve } = await load("src/serve.ts");
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    transport: "engine",
    handshakeTimeoutMs: HANDSHAKE_MS,
    onRequest: () => new Response("x"),
  });
  return server.port;
}

const runtime = globalThis as { gc?: () => void; Bun?: { gc(full: boolean): void } };
function collect(): void {
  for (let i = 0; i < 2; i++) runtime.gc?.() ?? runtime.Bun?.gc(true);
}

// The time in V8's collections (Node.js's perf_hooks; elsewhere none are seen), in ms.
let gcMs = 0;
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  }).observe({ entryTypes: ["gc"] });
} catch {
  // No gc entries on this runtime.
}

const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
print({ port: await listen() });
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "heap") {
    collect();
    print({ heap: process.memoryUsage().heapUsed });
  } else if (line === "cpu") {
    const { user, system } = process.cpuUsage();
    // The collections end before the observer hears of them: a turn later.
    setTimeout(() => print({ cpu: (user + system) / 1000, gcMs }), 20);
  } else if (line === "quit") process.exit(0);
});

/**
 * The server side of `heads.mjs`: wsx's engine (`transport: "engine"`) on the runtime this
 * runs on, `handshakeTimeoutMs` 2000, echoing on every WebSocket, with a probe of its own
 * event loop. wsx is loaded from the checkout `HEADS_ROOT` (default: the working directory),
 * so that one runner measures two versions. `HEADS_SERVER=net` runs the floor instead: a
 * bare `node:net` server that cuts the same late heads with wsx's `HeadTimeouts` (the same
 * pace, no HTTP parser, no WebSocket: what the sockets alone cost), echoing raw bytes on
 * a connection whose first bytes are not a request head. One JSON object a line on
 * stdout, one command a line on stdin:
 *
 * - on start: `{"event":"ready","port":N,"runtime":"..."}`
 * - `take`: `{"event":"lag","maxGapMs":N,"maxBlockedMs":N,"top":[...],...}`, then the
 *   probe starts over. `maxGapMs` is the longest gap between two ticks of a 1 ms timer
 *   beyond its 1 ms; `maxBlockedMs` the longest gap less the time the main thread waited
 *   for a core within it (Linux schedstat's run delay, exact at each switch-in): how long
 *   the loop itself was held, even when the machine is busy with other processes, with
 *   `blockedOver3`/`blockedOver5` how many gaps held it over 3/5 ms and
 *   `maxBlockedNoGcMs` the longest with no V8 collection in it (Node.js's perf_hooks `gc`
 *   entries). `maxCpuMs` is the most time the main thread spent on a core within one gap
 *   by schedstat, `cpuOver3`/`cpuOver5` and `cpuMs` (all of it since the last take) alike;
 *   but the kernel brings a running thread's time up to date only at its scheduler ticks
 *   (4 ms here) and switches, so a busy gap can show up to 4 ms too much or too little.
 *   `maxProcessMs`, `processOver2`/`processOver3` and `maxProcessNoGcMs` are the same from
 *   the process's CPU time (exact; every thread's, V8's GC helpers too unless Node.js runs
 *   with `--single-threaded-gc`). `top` lists every gap over 5 ms (wall or CPU) as `[ms since the last take, gap, CPU,
 *   waiting for a core, GC]`.
 * - `quit`, or stdin closing: stop and exit.
 *
 * @module
 */

import type { Server } from "node:http";
import { createServer, type Socket } from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import process from "node:process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { mainThread, nowAndWait } from "./thread_clock.ts";
import { handshakeAnswer, unmask } from "./raw_ws.ts";

const HANDSHAKE_MS = Number(process.env.HEADS_HANDSHAKE_MS ?? 2000);
const root = pathToFileURL(`${process.env.HEADS_ROOT ?? process.cwd()}/`);
const load = (path: string) => import(new URL(path, root).href);
const { detectRuntime } = await load("src/serve.ts");

interface Served {
  port: number;
  raw: Server;
  shutdown(options: { timeoutMs: number }): Promise<void>;
}

async function serveWsx(): Promise<Served> {
  const { Websocket } = await load("mod.ts");
  // `bun:listen`: the prototype on Bun's own sockets (`serveListen`), where a head that
  // does not come whole in a connection's first chunk waits in wsx's HTTP/1.1 server.
  const { serve } = process.env.HEADS_SERVER === "listen"
    ? { serve: (await load("src/adapters/bun_listen.ts")).serveListen }
    : await load("src/serve.ts");
  Websocket.timeout = 0;
  type Echo = { write(data: unknown, isText: boolean): void };
  return await serve({
    port: 0,
    hostname: "127.0.0.1",
    transport: "engine",
    handshakeTimeoutMs: HANDSHAKE_MS,
    onRequest: (req: Request) =>
      Websocket.upgrade(req, {
        onMessage: (ws: Echo, data: unknown, isText: boolean) => ws.write(data, isText),
      }),
  });
}

// The floor: every socket waits for a head that never comes and is cut by HeadTimeouts;
// the client's round trips (a WebSocket, its handshake answered by hand) echo raw frames
// back unmasked, which is all `ws` needs to see its message.
async function serveNet(): Promise<Served> {
  const { HeadTimeouts } = await load("src/adapters/node_head_timeout.ts");
  const heads = new HeadTimeouts(HANDSHAKE_MS);
  const raw = createServer((socket) => {
    heads.waiting(socket);
    socket.once("data", (first) => {
      if (!first.includes("Upgrade: websocket")) return;
      heads.done(socket);
      socket.write(handshakeAnswer(first.toString("latin1")));
      socket.on("data", (frame) => socket.write(unmask(frame)));
    });
    socket.on("error", () => {});
  }) as unknown as Server;
  await new Promise<void>((done) => raw.listen(0, "127.0.0.1", done));
  const port = (raw.address() as { port: number }).port;
  // The floor answers nothing at shutdown: the process exits.
  const shutdown = () => Promise.resolve(void raw.close());
  return { port, raw, shutdown };
}

const server = process.env.HEADS_SERVER === "net" ? await serveNet() : await serveWsx();

// The main thread's own time on a core and waiting for one (thread_clock.ts), apart from
// the runtime's other threads (GC, I/O) that process.cpuUsage() adds in.

// The process's CPU time, in ms: exact (getrusage), but every thread's; with Node.js's
// `--single-threaded-gc` (HEADS_FLAGS) nearly all of it is the main thread's.
function processCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// Gaps between ticks of a 1 ms timer: runtime-neutral (perf_hooks' loop-delay monitor is
// not on every runtime). The main thread's time on a core within a gap tells a block (the
// loop busy) from a wait for a core (the machine busy with other processes).
interface Gap {
  at: number;
  end: number;
  gapMs: number;
  cpuMs: number;
  waitMs: number;
  // The main thread's time in V8's collections within the gap (Node.js only).
  gcMs: number;
  // The whole process's CPU time within the gap (exact, but with every thread's).
  processMs: number;
}

// V8's collections (Node.js's perf_hooks; elsewhere none are seen): a gap's CPU less the
// collections within it is what the server's own code blocked.
let collections: { start: number; end: number }[] = [];
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      collections.push({ start: entry.startTime, end: entry.startTime + entry.duration });
    }
  }).observe({ entryTypes: ["gc"] });
} catch {
  // No gc entries on this runtime.
}
function gcWithin(start: number, end: number): number {
  let ms = 0;
  for (const c of collections) ms += Math.max(0, Math.min(end, c.end) - Math.max(start, c.start));
  return ms;
}
const probe = {
  since: performance.now(),
  last: performance.now(),
  lastThread: mainThread(),
  lastProcess: processCpu(),
  takenCpu: mainThread().cpu,
  gaps: [] as Gap[],
  lastWait: nowAndWait().wait,
  tick(): void {
    // The time and the wait read together (thread_clock.ts nowAndWait).
    const { now, wait } = nowAndWait();
    const thread = mainThread(), cpu = processCpu();
    const gap = {
      at: this.last - this.since,
      gapMs: now - this.last - 1,
      cpuMs: thread.cpu - this.lastThread.cpu,
      waitMs: wait - this.lastWait,
      gcMs: 0,
      processMs: cpu - this.lastProcess,
      end: now,
    };
    if (gap.gapMs > 2 || gap.cpuMs > 2 || gap.processMs > 2) this.gaps.push(gap);
    this.last = now;
    this.lastThread = thread;
    this.lastWait = wait;
    this.lastProcess = cpu;
  },
  take(): Record<string, unknown> {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const gaps = this.gaps;
    const since = Math.round(this.since);
    this.gaps = [];
    // The collections end before the observer hears of them: they are counted at take.
    for (const g of gaps) g.gcMs = gcWithin(g.end - g.gapMs - 1, g.end);
    collections = [];
    this.since = performance.now();
    const max = (pick: (gap: Gap) => number) => round(Math.max(0, ...gaps.map(pick)));
    const over5 = gaps.filter((g) => g.gapMs > 5 || g.cpuMs > 5);
    // A gap less the main thread's waits for a core: how long the loop itself was held.
    const blocked = (g: Gap) => g.gapMs - g.waitMs;
    const top = over5.map((g) => [g.at, g.gapMs, g.cpuMs, g.waitMs, g.gcMs].map(round));
    const thread = mainThread();
    const cpuMs = round(thread.cpu - this.takenCpu);
    this.takenCpu = thread.cpu;
    return {
      event: "lag",
      since,
      maxGapMs: max((g) => g.gapMs),
      maxCpuMs: max((g) => g.cpuMs),
      over5: over5.length,
      cpuOver3: gaps.filter((g) => g.cpuMs > 3).length,
      cpuOver5: gaps.filter((g) => g.cpuMs > 5).length,
      maxBlockedMs: max(blocked),
      blockedOver3: gaps.filter((g) => blocked(g) > 3).length,
      blockedOver5: gaps.filter((g) => blocked(g) > 5).length,
      // The longest hold with no collection in it (where the runtime reports them).
      maxBlockedNoGcMs: max((g) => (g.gcMs > 0 ? 0 : blocked(g))),
      maxProcessMs: max((g) => g.processMs),
      processOver2: gaps.filter((g) => g.processMs > 2).length,
      processOver3: gaps.filter((g) => g.processMs > 3).length,
      maxProcessNoGcMs: max((g) => (g.gcMs > 0 ? 0 : g.processMs)),
      cpuMs,
      // The JavaScript heap in use at this take (with 2,000 heads waiting at the second).
      heapMB: round(process.memoryUsage().heapUsed / 1e6),
      top,
    };
  },
};
setInterval(() => probe.tick(), 1);

// When each connection closed after its head's deadline (its accept + HANDSHAKE_MS), for
// those closed since the last `take`: the late heads (the WebSocket closes after).
let cut: number[] = [];
// Bun.listen's listener tells of no connection: the client's measure stands alone there.
(server.raw as Partial<Server>).on?.("connection", (socket: Socket) => {
  const deadline = Date.now() + HANDSHAKE_MS;
  socket.once("close", () => cut.push(Date.now() - deadline));
});
function takeCut(): Record<string, number | undefined> {
  const result = cut.length === 0
    ? { closed: 0 }
    : { closed: cut.length, cutMinMs: Math.min(...cut), cutMaxMs: Math.max(...cut) };
  cut = [];
  return result;
}

const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
print({ event: "ready", port: server.port, runtime: detectRuntime() });

const stop = async () => {
  await server.shutdown({ timeoutMs: 500 }).catch(() => {});
  process.exit(0);
};
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "take") {
    print({ ...probe.take(), ...takeCut() });
  } else if (line === "quit") void stop();
});
lines.on("close", () => void stop());

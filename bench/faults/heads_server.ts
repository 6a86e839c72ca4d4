/**
 * The server side of `heads.mjs`: wsx's engine (`transport: "engine"`) on the runtime this
 * runs on, `handshakeTimeoutMs` 2000, echoing on every WebSocket, with a probe of its own
 * event loop. One JSON object a line on stdout, one command a line on stdin:
 *
 * - on start: `{"event":"ready","port":N,"runtime":"..."}`
 * - `take`: `{"event":"lag","maxGapMs":N,"maxCpuMs":N,"over5":N,"top":[...]}`, then the
 *   probe starts over. `maxGapMs` is the longest gap between two ticks of a 1 ms timer
 *   beyond its 1 ms, `maxCpuMs` the most time the main thread spent on a core within one
 *   gap (Linux: its schedstat): what a blocking task costs even when the machine is busy
 *   with other processes. `top` lists every gap over 5 ms (wall or CPU) as
 *   `[ms since the last take, gap, CPU, waiting for a core]`.
 * - `quit`, or stdin closing: stop and exit.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";
import process from "node:process";
import { createInterface } from "node:readline";
import { Websocket } from "../../mod.ts";
import { detectRuntime, serve } from "../../src/serve.ts";

const HANDSHAKE_MS = Number(process.env.HEADS_HANDSHAKE_MS ?? 2000);

Websocket.timeout = 0;
const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  transport: "engine",
  handshakeTimeoutMs: HANDSHAKE_MS,
  onRequest: (req) =>
    Websocket.upgrade(req, { onMessage: (ws, data, isText) => ws.write(data, isText) }),
});

// The main thread's own time on a core and waiting for one, in ms (Linux), apart from
// the runtime's other threads (GC, I/O) that process.cpuUsage() adds in.
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function mainThread(): { cpu: number; wait: number } {
  const [cpu, wait] = readFileSync(SCHEDSTAT, "latin1").split(" ");
  return { cpu: Number(cpu) / 1e6, wait: Number(wait) / 1e6 };
}

// Gaps between ticks of a 1 ms timer: runtime-neutral (perf_hooks' loop-delay monitor is
// not on every runtime). The main thread's time on a core within a gap tells a block (the
// loop busy) from a wait for a core (the machine busy with other processes).
interface Gap {
  at: number;
  gapMs: number;
  cpuMs: number;
  waitMs: number;
}
const probe = {
  since: performance.now(),
  last: performance.now(),
  lastThread: mainThread(),
  gaps: [] as Gap[],
  tick(): void {
    const now = performance.now(), thread = mainThread();
    const gap = {
      at: this.last - this.since,
      gapMs: now - this.last - 1,
      cpuMs: thread.cpu - this.lastThread.cpu,
      waitMs: thread.wait - this.lastThread.wait,
    };
    if (gap.gapMs > 2 || gap.cpuMs > 2) this.gaps.push(gap);
    this.last = now;
    this.lastThread = thread;
  },
  take(): Record<string, unknown> {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const gaps = this.gaps;
    const since = Math.round(this.since);
    this.gaps = [];
    this.since = performance.now();
    const max = (pick: (gap: Gap) => number) => round(Math.max(0, ...gaps.map(pick)));
    const over5 = gaps.filter((g) => g.gapMs > 5 || g.cpuMs > 5);
    const top = over5.map((g) => [g.at, g.gapMs, g.cpuMs, g.waitMs].map(round));
    return {
      event: "lag",
      since,
      maxGapMs: max((g) => g.gapMs),
      maxCpuMs: max((g) => g.cpuMs),
      over5: over5.length,
      top,
    };
  },
};
setInterval(() => probe.tick(), 1);

// When each connection closed after its head's deadline (its accept + HANDSHAKE_MS), for
// those closed since the last `take`: the late heads (the WebSocket closes after).
let cut: number[] = [];
(server.raw as Server).on("connection", (socket: Socket) => {
  const deadline = Date.now() + HANDSHAKE_MS;
  socket.once("close", () => cut.push(Date.now() - deadline));
});
function takeCut(): Record<string, number> {
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
  if (line === "take") print({ ...probe.take(), ...takeCut() });
  else if (line === "quit") void stop();
});
lines.on("close", () => void stop());

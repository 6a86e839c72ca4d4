/**
 * The server of `sweeps.mjs`: wsx's `serve()` on the runtime this runs on (Node.js, Deno
 * or Bun), with the transport `SWEEP_TRANSPORT` names (the runtime's default when unset),
 * loaded from the checkout named by `SWEEP_ROOT` (so that one runner measures two
 * versions), with a probe of its own event loop; `SWEEP_TRANSPORT=listen` on Bun serves
 * with `serveListen()` (the engine on Bun.listen). A text frame `close` closes the
 * connection (1000), any other frame is dropped. Lines on stdin: `settings {json}`
 * (`configure`), `lag` (prints what the probe saw since the last `lag` and starts over).
 * `SWEEP_SERVER=net` runs the floor instead (sweep_floor.ts).
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { nowAndWait } from "./thread_clock.ts";

const root = pathToFileURL(`${process.env.SWEEP_ROOT ?? process.cwd()}/`);
// `SWEEP_TRACE=1`: what ran in each long hold (sweep_trace.ts), wrapped before wsx loads.
const trace = process.env.SWEEP_TRACE ? await import("./sweep_trace.ts") : undefined;
trace?.traceRuntime();
const wsx = await import(new URL("mod.ts", root).href);
const { serve, detectRuntime } = await import(new URL("src/serve.ts", root).href);
if (trace) trace.tracePace((await import(new URL("src/core/slice_pace.ts", root).href)).SlicePace);

// V8's collections on the main thread (Node.js's perf_hooks; Deno and Bun report none),
// with their kind (`detail.kind`: 1 minor, 2 major, 4 incremental marking, 8 weak
// callbacks). The observer hears of a collection after it ends, so holds are matched
// with collections at `lag`.
let collections: { start: number; end: number; kind: number }[] = [];
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      collections.push({ start: entry.startTime, end: entry.startTime + entry.duration, kind });
    }
  }).observe({ entryTypes: ["gc"] });
} catch {
  // No gc entries on this runtime.
}
function gcWithin(start: number, end: number): { ms: number; kinds: number } {
  let ms = 0, kinds = 0;
  for (const c of collections) {
    const overlap = Math.min(end, c.end) - Math.max(start, c.start);
    if (overlap > 0) {
      ms += overlap;
      kinds |= c.kind;
    }
  }
  return { ms, kinds };
}

// A 1 ms timer. A gap between two of its ticks beyond its 1 ms, less the time the main
// thread waited for a core within it (Linux schedstat's run delay, exact at each
// switch-in), is how long the loop itself was held, whatever else the machine did. Each
// hold over 2 ms is kept with when it ended (Date.now(), for the runner to place it
// among the sweep's events) and its span (performance.now(), for the collections). The
// most CPU the whole process used between two ticks (V8's GC helper threads included)
// is kept for comparison; schedstat's own CPU figure is not used: the kernel brings a
// running thread's time up to date only at scheduler ticks (4 ms here) and switches.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
let holds: { start: number; end: number; held: number; at: number }[] = [];
const first = nowAndWait();
const probe = { processBlock: 0, last: first.now, lastCpu: cpuMs(), lastWait: first.wait };
setInterval(() => {
  // SWEEP_TRACE: the hold by the earlier read order too, to count the holds it made up.
  const old = trace?.oldOrder(cpuMs) ?? 0;
  // The time and the wait read together (thread_clock.ts), the process's CPU after.
  const { now, wait } = nowAndWait();
  const cpu = cpuMs();
  const held = now - probe.last - 1 - (wait - probe.lastWait);
  if (held > 2 && holds.length < 10_000) {
    holds.push({ start: probe.last, end: now, held, at: Date.now() });
  }
  if (trace) {
    if (held > trace.threshold) trace.explain(probe.last, now, held, cpu - probe.lastCpu);
    trace.forget();
    trace.compare(old, held);
  }
  probe.processBlock = Math.max(probe.processBlock, cpu - probe.lastCpu);
  probe.last = now;
  probe.lastCpu = cpu;
  probe.lastWait = wait;
}, 1);

function take(): Record<string, unknown> {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  // Every hold over 2 ms: [Date.now() at its end, held, collections in it, their kinds
  // or'ed].
  const list = holds.map((h) => {
    const gc = gcWithin(h.start, h.end);
    return [h.at, round(h.held), round(gc.ms), gc.kinds];
  });
  const result = { processBlockCpuMs: round(probe.processBlock), holds: list };
  holds = [];
  collections = [];
  probe.processBlock = 0;
  return result;
}

// `SWEEP_SERVER=net`: the floor (sweep_floor.ts) instead of wsx.
interface Started {
  port: number;
  configure(settings: object): void;
  // The server's own counters (wsx only), to tell a peer the server lost from one it holds.
  stats?: { open: number; pingTimeouts: number };
}

async function start(): Promise<Started> {
  if (process.env.SWEEP_SERVER === "net") {
    const { serveFloor } = await import("./sweep_floor.ts");
    const { Wheel } = await import(new URL("src/core/wheel.ts", root).href);
    const { systemClock } = await import(new URL("src/core/clock.ts", root).href);
    return await serveFloor({ Wheel, systemClock });
  }
  // `listen`: the engine on Bun.listen and wsx's HTTP/1.1 server (bun_listen.ts).
  const listen = process.env.SWEEP_TRANSPORT === "listen";
  const serveWith = listen
    ? (await import(new URL("src/adapters/bun_listen.ts", root).href)).serveListen
    : serve;
  const server = await serveWith({
    port: 0,
    hostname: "127.0.0.1",
    transport: listen ? undefined : process.env.SWEEP_TRANSPORT || undefined,
    onRequest: (req: Request) =>
      wsx.Websocket.upgrade(req, {
        onMessage: (ws: { close(code: number, reason: string): void }, data: unknown) => {
          if (data === "close") ws.close(1000, "bye");
        },
      }),
  });
  return { port: server.port, configure: wsx.configure, stats: server.stats };
}
const server = await start();
console.log(`ready ${JSON.stringify({ port: server.port, runtime: detectRuntime() })}`);

createInterface({ input: process.stdin }).on("line", (line: string) => {
  const [command, ...rest] = line.split(" ");
  if (command === "settings") server.configure(JSON.parse(rest.join(" ")));
  else if (command === "lag") {
    const stats = server.stats &&
      { open: server.stats.open, pingTimeouts: server.stats.pingTimeouts };
    // On a line of its own: V8's --trace-gc writes to the same stdout, by parts.
    const { timeOrigin } = performance;
    trace?.summary();
    console.log(`\nlag ${JSON.stringify({ ...take(), stats, timeOrigin })}`);
  }
});
process.stdin.on("end", () => process.exit(0));

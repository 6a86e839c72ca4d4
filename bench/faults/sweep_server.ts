/**
 * The server of `sweeps.mjs`: wsx's default `serve()` on Node.js, loaded from the checkout
 * named by `SWEEP_ROOT` (so that one runner measures two versions), with a probe of its
 * own event loop. A text frame `close` closes the connection (1000), any other frame is
 * dropped. Lines on stdin: `settings {json}` (`configure`), `lag` (prints and resets the
 * longest stall since the last `lag`), `open` (prints the open connections).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import { createInterface } from "node:readline";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const root = pathToFileURL(`${process.env.SWEEP_ROOT ?? process.cwd()}/`);
const wsx = await import(new URL("mod.ts", root).href);
const { serve } = await import(new URL("src/serve.ts", root).href);

// Two probes. A 1 ms timer: the longest gap between two of its ticks beyond 1 ms, the
// process's CPU time within that gap, and the longest gap less the time the main thread
// waited for a core within it (Linux schedstat's run delay, exact at each switch-in):
// how long the loop itself was held, whatever else the machine did, with how many gaps
// held it over 3 and 5 ms. The most CPU the whole process used between two ticks
// (V8's GC helper threads included) is kept for comparison. Schedstat's own CPU figure
// is not used: the kernel brings a running thread's time up to date only at scheduler
// ticks (4 ms here) and switches.
// perf_hooks' histogram of timer delays as a cross-check.
const probe = {
  max: 0,
  maxCpu: 0,
  held: 0,
  processBlock: 0,
  over3: 0,
  over5: 0,
  blockAt: 0,
  last: 0,
  lastCpu: 0,
  lastWait: 0,
};
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const waitMs = () => Number(readFileSync(SCHEDSTAT, "latin1").split(" ")[1]) / 1e6;
probe.last = performance.now();
probe.lastCpu = cpuMs();
probe.lastWait = waitMs();
setInterval(() => {
  const now = performance.now(), cpu = cpuMs(), wait = waitMs();
  const gap = now - probe.last - 1;
  if (gap > probe.max) {
    probe.max = gap;
    probe.maxCpu = cpu - probe.lastCpu;
  }
  const held = gap - (wait - probe.lastWait);
  if (held > probe.held) {
    probe.held = held;
    probe.blockAt = Date.now();
  }
  if (held > 3) probe.over3++;
  if (held > 5) probe.over5++;
  probe.processBlock = Math.max(probe.processBlock, cpu - probe.lastCpu);
  probe.last = now;
  probe.lastCpu = cpu;
  probe.lastWait = wait;
}, 1);
const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
// The longest garbage collection pause: a stall that is not the sweep's.
let gcMax = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMax = Math.max(gcMax, entry.duration);
}).observe({ entryTypes: ["gc"] });

const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (req: Request) =>
    wsx.Websocket.upgrade(req, {
      onMessage: (ws: { close(code: number, reason: string): void }, data: unknown) => {
        if (data === "close") ws.close(1000, "bye");
      },
    }),
});
console.log(`ready ${server.port}`);

createInterface({ input: process.stdin }).on("line", (line: string) => {
  const [command, ...rest] = line.split(" ");
  if (command === "settings") wsx.configure(JSON.parse(rest.join(" ")));
  else if (command === "open") console.log(`open ${server.stats.open}`);
  else if (command === "lag") {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    const result = {
      // The longest the loop was held, less waits for a core; the process's most CPU
      // between two ticks (GC helper threads included) for comparison.
      heldMs: round(probe.held),
      over3: probe.over3,
      over5: probe.over5,
      processBlockCpuMs: round(probe.processBlock),
      blockAt: probe.blockAt,
      gapMs: round(probe.max),
      cpuInGapMs: round(probe.maxCpu),
      histogramMaxMs: round(histogram.max / 1e6),
      gcMaxMs: round(gcMax),
    };
    probe.max =
      probe.maxCpu =
      probe.held =
      probe.processBlock =
      gcMax =
        0;
    probe.over3 = probe.over5 = 0;
    histogram.reset();
    console.log(`lag ${JSON.stringify(result)}`);
  }
});
process.stdin.on("end", () => process.exit(0));

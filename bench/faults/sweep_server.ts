/**
 * The server of `sweeps.mjs`: wsx's default `serve()` on Node.js, loaded from the checkout
 * named by `SWEEP_ROOT` (so that one runner measures two versions), with a probe of its
 * own event loop. A text frame `close` closes the connection (1000), any other frame is
 * dropped. Lines on stdin: `settings {json}` (`configure`), `lag` (prints and resets the
 * longest stall since the last `lag`), `open` (prints the open connections).
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const root = pathToFileURL(`${process.env.SWEEP_ROOT ?? process.cwd()}/`);
const wsx = await import(new URL("mod.ts", root).href);
const { serve } = await import(new URL("src/serve.ts", root).href);

// Two probes. A 1 ms timer: the longest gap between two of its ticks beyond 1 ms, the
// CPU time the process used within that gap, and the most CPU time used between any two
// ticks (on a shared machine a gap is partly time spent waiting for a core; the CPU time
// is what the process itself did, its GC threads included).
// perf_hooks' histogram of timer delays as a cross-check.
const probe = { max: 0, maxCpu: 0, cpuBlock: 0, blockAt: 0, last: 0, lastCpu: 0 };
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
probe.last = performance.now();
probe.lastCpu = cpuMs();
setInterval(() => {
  const now = performance.now(), cpu = cpuMs();
  if (now - probe.last - 1 > probe.max) {
    probe.max = now - probe.last - 1;
    probe.maxCpu = cpu - probe.lastCpu;
  }
  if (cpu - probe.lastCpu > probe.cpuBlock) {
    probe.cpuBlock = cpu - probe.lastCpu;
    probe.blockAt = Date.now();
  }
  probe.last = now;
  probe.lastCpu = cpu;
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
      // The most CPU used between two ticks: what blocked the loop, whatever the machine.
      blockCpuMs: round(probe.cpuBlock),
      blockAt: probe.blockAt,
      gapMs: round(probe.max),
      cpuInGapMs: round(probe.maxCpu),
      histogramMaxMs: round(histogram.max / 1e6),
      gcMaxMs: round(gcMax),
    };
    probe.max =
      probe.maxCpu =
      probe.cpuBlock =
      gcMax =
        0;
    histogram.reset();
    console.log(`lag ${JSON.stringify(result)}`);
  }
});
process.stdin.on("end", () => process.exit(0));

/**
 * The control channel every benchmark server shares with the runner (`bench/run.mjs`),
 * one JSON object a line on stdout, one command a line on stdin:
 *
 * - on start: `{"event":"ready","port":N,...}`
 * - `mem`: full GC (the runner starts Node.js and Deno with `--expose-gc`; Bun has
 *   `Bun.gc`), a pause of BENCH_MEM_SETTLE_MS (300 by default) for the freed pages to be
 *   unmapped, full GC again, then
 *   `{"event":"mem","heapUsed":N,"heapTotal":N,"rss":N,"external":N,"arrayBuffers":N,"connections":N}`
 * - `types` (Bun only): full GC, then `{"event":"types","counts":{...}}`, the live objects
 *   of each type on the JavaScriptCore heap (`heapStats()` of `bun:jsc`), for profiling
 * - `mark`: 10 ms spent in `profileMark`, then `{"event":"mark"}`: in a CPU profile, the
 *   stretch between two marks is what happened between the commands
 *   (`bench/profile_top.mjs --between profileMark`)
 * - `broadcast M`: the 64-byte text message sent M times to every open connection, in
 *   one event-loop turn, then `{"event":"sent","messages":M,"ms":N}`
 * - `quit`, or stdin closing (the runner exited, even when killed): stop and exit.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { getHeapSpaceStatistics } from "node:v8";

/** What a benchmark server tells the control channel. */
export interface BenchServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Extra facts for the ready line (library version, native add-ons loaded, ...). */
  readonly info: Record<string, unknown>;
  /** Connections open now, as the server sees them. */
  connections(): number;
  /** Stops listening and drops every connection. */
  stop(): Promise<void>;
  /** Sends `message` to every open connection, the way an application of this server would. */
  broadcast?(message: string): void;
}

/** The 64-byte text message of the broadcast scenario (a chat line). */
export const MESSAGE = '{"room":"lobby","from":"alice","text":"hello everyone, 12345"}  ';

// Node.js and Deno expose V8's gc() with --expose-gc; Bun has its own (JavaScriptCore).
const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
const gc = bun ? () => bun.gc(true) : (globalThis as { gc?: () => void }).gc;

// Every server holds the same application state: BENCH_APP_HEAP_MB (16 by default) of
// small live objects, as a real service's sessions, caches and modules would. Without it
// the servers' own heaps (5 to 9 MB) sit on either side of the size where V8 starts
// incremental marking, and at 64 KiB a server just above it pays a mark-compact every
// few tens of milliseconds while one just below it gets cheap scavenges only: the figures
// then compare GC regimes, not WebSocket code (ws alone goes from 72 to 132 us per
// message with 1.5 MB more live objects).
const APP_HEAP_MB = Number(process.env.BENCH_APP_HEAP_MB ?? "16");
const appState: Array<{ id: number; name: string; seen: number }> = [];
{
  const start = process.memoryUsage().heapUsed;
  const target = start + APP_HEAP_MB * 1024 * 1024;
  for (let i = 0; process.memoryUsage().heapUsed < target; i++) {
    for (let j = 0; j < 4096; j++, i++) appState.push({ id: i, name: `user-${i}`, seen: i * 2 });
  }
}

// How long `mem` waits between a first GC and the measure (BENCH_MEM_SETTLE_MS).
const MEM_SETTLE_MS = Number(process.env.BENCH_MEM_SETTLE_MS ?? "300");

function send(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function memory(server: BenchServer): Record<string, unknown> {
  if (gc === undefined) throw new Error("Cannot measure memory: start with --expose-gc");
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc();
  gc();
  const m = process.memoryUsage();
  return {
    event: "mem",
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    rss: m.rss,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    connections: server.connections(),
    appObjects: appState.length,
    ...memoryParts(),
  };
}

// Where the RSS is, for profiling (`bench/profile_hold.mjs`): the V8 heap pages in
// memory, and from /proc/self/smaps the resident bytes of the brk heap (glibc malloc's
// main arena: native objects, small buffers) and of anonymous mappings (V8's pages,
// large mallocs, other arenas). Absent where the runtime or the system has none.
function memoryParts(): Record<string, number> {
  const parts: Record<string, number> = {};
  try {
    let physical = 0;
    for (const space of getHeapSpaceStatistics()) {
      physical += space.physical_space_size;
      parts[`space_${space.space_name}`] = space.physical_space_size;
      parts[`used_${space.space_name}`] = space.space_used_size;
    }
    if (physical > 0) parts.heapPhysical = physical;
  } catch { /* not on this runtime */ }
  try {
    let region = "", brk = 0, anon = 0;
    for (const line of readFileSync("/proc/self/smaps", "latin1").split("\n")) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) region = line.split(/\s+/)[5] ?? "";
      else if (line.startsWith("Rss:")) {
        const kb = Number(line.slice(4).trim().split(" ")[0]) * 1024;
        if (region === "[heap]") brk += kb;
        else if (region === "") anon += kb;
      }
    }
    parts.brkRss = brk;
    parts.anonRss = anon;
  } catch { /* no /proc */ }
  return parts;
}

/** Busy for 10 ms under a name that a CPU profile shows (sampled every 1 ms by default). */
function profileMark(): Record<string, unknown> {
  const end = performance.now() + 10;
  while (performance.now() < end) { /* spin: the samples are the mark */ }
  return { event: "mark" };
}

/** Live objects per type on Bun's heap, after a full GC; an error line elsewhere. */
async function objectTypes(): Promise<Record<string, unknown>> {
  if (!bun) return { event: "error", message: "Object types are counted on Bun only" };
  const jsc = "bun:jsc"; // a variable, so that Node.js and Deno never resolve it
  const { heapStats } = await import(jsc) as {
    heapStats(): { objectTypeCounts: Record<string, number> };
  };
  bun.gc(true);
  return { event: "types", counts: heapStats().objectTypeCounts };
}

/** Which runtime and version runs this server, for the report. */
function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node.js ${process.version}`;
}

function broadcast(server: BenchServer, messages: number): void {
  if (server.broadcast === undefined) {
    return send({ event: "error", message: "This server does not broadcast" });
  }
  const t0 = performance.now();
  for (let i = 0; i < messages; i++) server.broadcast(MESSAGE);
  send({ event: "sent", messages, ms: performance.now() - t0 });
}

/**
 * Announces the server and serves the control commands until told to quit.
 *
 * @param server The running server.
 */
export function control(server: BenchServer): void {
  let stopping = false;
  const quit = async () => {
    if (stopping) return;
    stopping = true;
    // A stop that hangs must not keep the process alive.
    setTimeout(() => process.exit(0), 2000).unref();
    await server.stop().catch(() => {});
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const command = line.trim();
    if (command === "mem") {
      // V8 unmaps the pages a full GC frees on a worker thread, a little later: RSS read
      // at once still counts them (1-2 KB per held connection, varying from run to run).
      if (MEM_SETTLE_MS > 0) {
        gc?.();
        setTimeout(() => send(memory(server)), MEM_SETTLE_MS);
      } else send(memory(server));
    } else if (command.startsWith("broadcast ")) broadcast(server, Number(command.slice(10)));
    else if (command === "types") void objectTypes().then(send);
    else if (command === "mark") send(profileMark());
    else if (command === "quit") void quit();
    else send({ event: "error", message: `Unknown command: "${command}"` });
  });
  lines.on("close", () => void quit());
  send({ event: "ready", port: server.port, pid: process.pid, runtime: runtime(), ...server.info });
}

// Where one server's time and memory go while it accepts and holds many connections
// (the `hold` scenario of bench/run.mjs, for one server, with instruments):
//
//   node bench/profile_hold.mjs NAME [--conns 10000] [--concurrency 128] [--perf] [--cpu-prof]
//     [--syscalls] [--spaces] [--threads]
//
// NAME is a server of bench/lib/servers.mjs (e.g. bunEngine, bunNative, wsx). Prints
// handshakes/s, server CPU per handshake, heap and RSS per held connection and, on Bun,
// the live JavaScriptCore objects each held connection adds, by type. --perf records the
// server with `perf record -g` while the connections open and prints the hottest symbols
// (kernel and native code; JIT-compiled JavaScript shows as unknown addresses); --cpu-prof
// writes a CPU profile (Node.js, Bun) into bench/results/profiles/ when the server quits.
// The memory split: heapPhysical (V8's pages in memory), brkRss (glibc's main arena) and
// anonRss (anonymous mappings, V8's pages among them); --spaces adds each V8 space.
// --threads splits the server's CPU per handshake by thread name (on Bun, JavaScriptCore
// compiles the handshake path's code on "JITWorker" threads while the connections open).
// --syscalls counts the server's system calls per handshake (`strace -c -f`, which
// slows it: read the counts, not the rates). --idle S measures the memory again after S
// more seconds of idle (and waits as long before the first measure): V8 gives back the young generation it grew during the burst only
// once allocation has been low for about 5 s.

import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildLoadgen } from "./lib/build.mjs";
import { BENCH, track } from "./lib/children.mjs";
import { holdConnections, ServerProcess } from "./lib/procs.mjs";
import { SERVERS } from "./lib/servers.mjs";

const args = process.argv.slice(2);
const name = args[0];
const option = (flag, fallback) => {
  const i = args.indexOf(flag);
  return i < 0 ? fallback : Number(args[i + 1]);
};
if (!SERVERS[name]) {
  console.error(`usage: node bench/profile_hold.mjs ${Object.keys(SERVERS).join("|")} [options]`);
  process.exit(2);
}
const conns = option("--conns", 10_000), concurrency = option("--concurrency", 128);
const profiles = join(BENCH, "results", "profiles");
mkdirSync(profiles, { recursive: true });

async function perfRecord(pid) {
  const file = join(profiles, `perf-${name}.data`);
  const child = track(spawn("perf", ["record", "-g", "-o", file, "-p", String(pid)], {
    stdio: ["ignore", "ignore", "pipe"],
  }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    file,
    stop: () => new Promise((resolve) => (child.once("exit", resolve), child.kill("SIGINT"))),
  };
}

// A tracer attached to the server (strace, perf stat): what it printed on stderr when stopped.
async function attach(command, args) {
  const child = track(spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] }));
  let text = "";
  child.stderr.on("data", (d) => (text += d));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    stop: () =>
      new Promise((resolve) => (child.once("exit", () => resolve(text)), child.kill("SIGINT"))),
  };
}

// System calls by name while the connections open (`strace -c -f`), to read per handshake.
const syscallCount = (pid) => attach("strace", ["-c", "-f", "-p", String(pid)]);

// Event-loop turns (epoll waits) and writes while the connections open, counted by the
// kernel's tracepoints (`perf stat`), which hardly slows the server, unlike strace.
const LOOP_EVENTS = ["syscalls:sys_enter_epoll_pwait", "syscalls:sys_enter_write"];
const loopCount = (pid) =>
  attach("perf", ["stat", "-x", ",", "-e", LOOP_EVENTS.join(","), "-p", String(pid)]);

// CPU seconds by thread name (JavaScriptCore's JIT compiler threads are "JITWorker", its
// collector's "HeapHelper"), from /proc: one-time compilation apart from the main thread.
function threadTimes(pid) {
  const times = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    times[name] = (times[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return times;
}

function threadsPer(before, after, open) {
  const rows = Object.keys(after).map((name) => [name, after[name] - (before[name] ?? 0)])
    .filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]);
  return "server CPU per handshake by thread (/proc):\n" +
    rows.map(([name, s]) => `  ${((s / open) * 1e6).toFixed(1).padStart(6)} us  ${name}`).join(
      "\n",
    );
}

function loopsPer(text, open) {
  const rows = text.split("\n").map((l) => l.split(",")).filter((c) => LOOP_EVENTS.includes(c[2]));
  return "per handshake (perf stat):\n" +
    rows.map((c) => `  ${(Number(c[0]) / open).toFixed(2).padStart(6)}  ${c[2]}`).join("\n");
}

function syscallsPer(text, open) {
  const rows = [];
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || !/^[0-9.]+$/.test(cols[0])) continue;
    const name = cols[cols.length - 1], calls = Number(cols[3]);
    if (name !== "total" && calls / open >= 0.05) rows.push([name, calls / open]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  return "system calls per handshake (strace -c -f):\n" +
    rows.map(([n, c]) => `  ${c.toFixed(2).padStart(6)}  ${n}`).join("\n");
}

function perfTop(file) {
  const child = spawn("perf", [
    "report",
    "-i",
    file,
    "--stdio",
    "--no-children",
    "--sort",
    "dso,symbol",
    "--percent-limit",
    "0.7",
    "-g",
    "none",
  ], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve) => child.once("exit", () => resolve(out)));
}

const { binary } = buildLoadgen();
const server = await ServerProcess.start(name, {
  cpuProfileDir: args.includes("--cpu-prof") ? profiles : undefined,
});
console.log(`${name}: ${server.ready.runtime}, pid ${server.child.pid}`);
const idleSeconds = option("--idle", 0);
// The fresh server's young generation settles too, so that both ends compare alike.
if (idleSeconds > 0) await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
const before = await server.memory();
const typesBefore = await server.typeCounts();
// With --cpu-prof, the stretch between the two marks is the handshakes alone:
// node bench/profile_top.mjs FILE 40 --between profileMark
await server.mark();
const perf = args.includes("--perf") ? await perfRecord(server.child.pid) : null;
const syscalls = args.includes("--syscalls") ? await syscallCount(server.child.pid) : null;
const loops = args.includes("--loops") ? await loopCount(server.child.pid) : null;
const threads0 = args.includes("--threads") ? threadTimes(server.child.pid) : null;
const cpu0 = server.cpuSeconds();
const held = await holdConnections(binary, server.port, conns, 120_000, {
  raw: false,
  concurrency,
});
const cpu = server.cpuSeconds() - cpu0;
const threads1 = threads0 && threadTimes(server.child.pid);
await server.mark();
await perf?.stop();
const syscallText = await syscalls?.stop();
const loopText = await loops?.stop();
await new Promise((resolve) => setTimeout(resolve, 500));
const after = await server.memory();
const typesAfter = await server.typeCounts();
let settled = null;
if (idleSeconds > 0) {
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  settled = await server.memory();
}
const open = held.ready.open;
console.log(
  `${open} connections open in ${held.ready.seconds} s: ${Math.round(open / held.ready.seconds)}` +
    ` handshakes/s, server CPU ${((cpu / open) * 1e6).toFixed(1)} us/handshake, client CPU ` +
    `${Math.round((100 * held.ready.client_cpu_s) / held.ready.seconds)}%`,
);
const extra = args.includes("--spaces")
  ? Object.keys(after).filter((k) => /^(space|used)_/.test(k))
  : [];
for (
  const key of [
    "heapUsed",
    "rss",
    "external",
    "arrayBuffers",
    "heapPhysical",
    "brkRss",
    "anonRss",
    ...extra,
  ]
) {
  if (after[key] === undefined) continue;
  const later = settled === null
    ? ""
    : `, ${((settled[key] - before[key]) / open).toFixed(0)} after ${idleSeconds} s more`;
  console.log(
    `  ${key.padEnd(12)} ${((after[key] - before[key]) / open).toFixed(0)} B/conn${later}`,
  );
}
if (threads1) console.log(threadsPer(threads0, threads1, open));
if (typesBefore && typesAfter) {
  const diff = Object.keys(typesAfter).map((
    t,
  ) => [t, (typesAfter[t] - (typesBefore[t] ?? 0)) / open])
    .filter(([, d]) => d >= 0.5).sort((a, b) => b[1] - a[1]);
  console.log("live objects added per held connection (JavaScriptCore heapStats):");
  for (const [t, d] of diff.slice(0, 30)) console.log(`  ${d.toFixed(2).padStart(6)}  ${t}`);
}
await held.release();
await server.stop();
if (perf) console.log(await perfTop(perf.file));
if (syscallText) console.log(syscallsPer(syscallText, open));
if (loopText) console.log(loopsPer(loopText, open));

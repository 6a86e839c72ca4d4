// Where one server's time and memory go while it accepts and holds many connections
// (the `hold` scenario of bench/run.mjs, for one server, with instruments):
//
//   node bench/profile_hold.mjs NAME [--conns 10000] [--concurrency 128] [--perf] [--cpu-prof]
//
// NAME is a server of bench/lib/servers.mjs (e.g. bunEngine, bunNative, wsx). Prints
// handshakes/s, server CPU per handshake, heap and RSS per held connection and, on Bun,
// the live JavaScriptCore objects each held connection adds, by type. --perf records the
// server with `perf record -g` while the connections open and prints the hottest symbols
// (kernel and native code; JIT-compiled JavaScript shows as unknown addresses); --cpu-prof
// writes a CPU profile (Node.js, Bun) into bench/results/profiles/ when the server quits.

import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
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
const before = await server.memory();
const typesBefore = await server.typeCounts();
// With --cpu-prof, the stretch between the two marks is the handshakes alone:
// node bench/profile_top.mjs FILE 40 --between profileMark
await server.mark();
const perf = args.includes("--perf") ? await perfRecord(server.child.pid) : null;
const cpu0 = server.cpuSeconds();
const held = await holdConnections(binary, server.port, conns, 120_000, {
  raw: false,
  concurrency,
});
const cpu = server.cpuSeconds() - cpu0;
await server.mark();
await perf?.stop();
await new Promise((resolve) => setTimeout(resolve, 500));
const after = await server.memory();
const typesAfter = await server.typeCounts();
const open = held.ready.open;
console.log(
  `${open} connections open in ${held.ready.seconds} s: ${Math.round(open / held.ready.seconds)}` +
    ` handshakes/s, server CPU ${((cpu / open) * 1e6).toFixed(1)} us/handshake, client CPU ` +
    `${Math.round((100 * held.ready.client_cpu_s) / held.ready.seconds)}%`,
);
for (const key of ["heapUsed", "rss", "external", "arrayBuffers"]) {
  console.log(`  ${key.padEnd(12)} ${((after[key] - before[key]) / open).toFixed(0)} B/conn`);
}
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

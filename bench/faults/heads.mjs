// 2,000 late request heads at once against wsx's engine (issue 16): how long the server's
// event loop blocks while it cuts them, how an established WebSocket's round trip fares
// meanwhile, and when each head is cut after its deadline.
//
//   node bench/faults/heads.mjs [node|deno|bun ...]     # default: all three, one run each
//   HEADS_RUNS=5 node bench/faults/heads.mjs node       # several runs
//   HEADS_PROF=/tmp/prof node bench/faults/heads.mjs node   # a CPU profile of the server
//   HEADS_TOP=1 node bench/faults/heads.mjs bun         # every gap over 5 ms, with its time
//   HEADS_FLAGS=--trace-gc node bench/faults/heads.mjs node  # flags for the Node.js server
//   HEADS_ROOTS=/work/main,. node bench/faults/heads.mjs node # two checkouts, interleaved
//   node bench/faults/heads.mjs node node:net           # wsx, then the floor: bare node:net
//   node bench/faults/heads.mjs bun:listen              # wsx on Bun.listen (serveListen)
//
// The server (heads_server.ts) runs on the named runtime with `transport: "engine"` and
// `handshakeTimeoutMs` 2000; this process is the client: it opens HEADS (2,000) raw TCP
// connections as fast as it can, each sending a partial request head and then nothing,
// and keeps one WebSocket doing a round trip every millisecond (one message, its echo,
// 1 ms pause) until every head is gone.

import { connect } from "node:net";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startChild } from "./server_child.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = join(ROOT, "bench/faults/heads_server.ts");
const HEADS = Number(process.env.HEADS ?? 2000);
const HANDSHAKE_MS = 2000;
// Connections opened at a time: more can overflow the listen backlog (511 on Node.js) while
// the server is busy, and a dropped connection is retried a second later.
const BATCH = 100;
const RUNS = Number(process.env.HEADS_RUNS ?? 1);
const PROF = process.env.HEADS_PROF;
const bin = (name) => join(ROOT, "node_modules", ".bin", name);

const COMMANDS = {
  node: () => [process.execPath, [...profFlags(), ...extra(), "--import", "tsx", SERVER]],
  deno: () => [bin("deno"), ["run", "-A", SERVER]],
  bun: () => [bin("bun"), [...profFlags(), "run", SERVER]],
};
const extra = () => (process.env.HEADS_FLAGS ?? "").split(" ").filter(Boolean);
const profFlags = () =>
  PROF ? ["--cpu-prof", `--cpu-prof-dir=${PROF}`, "--cpu-prof-interval=100"] : [];

// The checkouts whose src/ the server loads (each run goes through them in turn).
const ROOTS = (process.env.HEADS_ROOTS ?? ".").split(",").map((root) => resolve(root));

// `node:net` (`deno:net`, `bun:net`): the floor server on that runtime (heads_server.ts).
function startServer(runtime, root) {
  const [name, kind = "wsx"] = runtime.split(":");
  const [command, args] = COMMANDS[name]();
  return startChild(command, args, ROOT, {
    HEADS_HANDSHAKE_MS: String(HANDSHAKE_MS),
    HEADS_ROOT: root,
    HEADS_SERVER: kind,
  });
}

// A connection that sends part of a request head, then nothing; what it receives is kept.
// When it was cut is measured on the server, from its accept, and here, from the connect
// (the server's count misses sockets its node:http never sees, as on Bun's own accept).
function lateHead(port) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      const deadline = Date.now() + HANDSHAKE_MS;
      socket.write("GET /ws HTTP/1.1\r\nHost: x\r\n");
      let received = "";
      socket.on("data", (chunk) => received += chunk.toString("latin1"));
      const closed = new Promise((done) => {
        socket.once("close", () => done({ received, afterMs: Date.now() - deadline }));
      });
      resolve({ closed });
    });
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

// Round trips on one WebSocket, one at a time with a 1 ms pause, until `until()` is true.
async function roundTrips(ws, until) {
  const rtts = [];
  while (!until()) {
    const sent = performance.now();
    await new Promise((resolve) => {
      ws.once("message", resolve);
      ws.send("ping-me");
    });
    rtts.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return rtts;
}

async function run(runtime, root) {
  const server = startServer(runtime, root);
  const { port } = await server.ready;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // Warm up, then open the heads as fast as possible: they fall due together.
  await roundTrips(ws, ((n) => () => n-- === 0)(200));
  const closing = [];
  // The probe and the cut times start over: every head's cut is counted.
  const before = await server.ask("take");
  const openedAt = Date.now();
  for (let i = 0; i < HEADS; i += BATCH) {
    const batch = Math.min(BATCH, HEADS - i);
    closing.push(...await Promise.all(Array.from({ length: batch }, () => lateHead(port))));
  }
  const openMs = Date.now() - openedAt;
  // The event loop is watched from here: accepting the heads is not the sweep's work. On a
  // busy machine opening them can take longer than handshakeTimeoutMs (a connection the
  // listen backlog dropped is retried a second later); those cut meanwhile are counted.
  const opening = await server.ask("take");
  let done = false;
  const all = Promise.race([
    Promise.all(closing.map((h) => h.closed)),
    new Promise((resolve) => setTimeout(resolve, HANDSHAKE_MS + 15_000)),
  ]).then((result) => (done = true, result));
  const rtts = await roundTrips(ws, () => done);
  const heads = await all;
  const lag = await server.ask("take");
  ws.close();
  await server.quit();
  if (heads === undefined) throw new Error(`${runtime}: some heads were never cut`);
  const answered = heads.filter((h) => h.received.startsWith("HTTP/1.1 408")).length;
  const clientCut = [
    Math.min(...heads.map((h) => h.afterMs)),
    Math.max(...heads.map((h) => h.afterMs)),
  ];
  rtts.sort((a, b) => a - b);
  const round = (ms) => Math.round(ms * 10) / 10;
  return {
    runtime: ROOTS.length > 1 ? `${runtime} ${basename(root)}` : runtime,
    maxGapMs: lag.maxGapMs,
    maxCpuMs: lag.maxCpuMs,
    over5: lag.over5,
    cpuOver3: lag.cpuOver3,
    cpuOver5: lag.cpuOver5,
    cpuMs: lag.cpuMs,
    maxBlockedMs: lag.maxBlockedMs,
    blockedOver3: lag.blockedOver3,
    blockedOver5: lag.blockedOver5,
    maxBlockedNoGcMs: lag.maxBlockedNoGcMs,
    maxProcessMs: lag.maxProcessMs,
    processOver2: lag.processOver2,
    processOver3: lag.processOver3,
    maxProcessNoGcMs: lag.maxProcessNoGcMs,
    top: process.env.HEADS_TOP ? lag.top : undefined,
    since: process.env.HEADS_TOP ? lag.since : undefined,
    rttMaxMs: round(rtts.at(-1)),
    rttP99Ms: round(rtts[Math.floor(rtts.length * 0.99)]),
    rtts: rtts.length,
    openMs,
    cutWhileOpening: opening.closed,
    // The heap the waiting heads added (a collection may fall in between either way).
    heapPerHeadKB: Math.round((opening.heapMB - before.heapMB) * 1e6 / HEADS / 100) / 10,
    closed: opening.closed + lag.closed,
    cutAfterMs: opening.closed + lag.closed === 0 ? clientCut : [
      Math.min(...[opening.cutMinMs, lag.cutMinMs].filter((ms) => ms !== undefined)),
      Math.max(...[opening.cutMaxMs, lag.cutMaxMs].filter((ms) => ms !== undefined)),
    ],
    // The same seen by the client: from its connect to its socket's close.
    clientCutAfterMs: clientCut,
    got408: answered,
  };
}

const runtimes = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["node", "deno", "bun"];
const results = new Map();
for (let i = 0; i < RUNS; i++) {
  for (const runtime of runtimes) {
    for (const root of ROOTS) {
      const result = await run(runtime, root);
      console.log(JSON.stringify(result));
      results.set(result.runtime, [...results.get(result.runtime) ?? [], result]);
    }
  }
}
// The spread over the runs: lowest to highest of each figure.
const spread = (list, pick) => {
  const values = list.map(pick);
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? `${low}` : `${low}-${high}`;
};
console.log(
  "\n| runtime | runs | longest loop gap (ms) | main-thread CPU in one gap (ms) | gaps over 3 / 5 ms of CPU | loop held (ms) | held over 3 / 5 ms | held, no GC in the gap (ms) | process CPU in one gap (ms) | over 2 / 3 ms | same, no GC in the gap (ms) | main-thread CPU (ms) | worst RTT (ms) | cut after the deadline (ms) |",
);
console.log(
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
);
for (const [runtime, list] of results) {
  const cells = [
    spread(list, (r) => r.maxGapMs),
    spread(list, (r) => r.maxCpuMs),
    `${spread(list, (r) => r.cpuOver3)} / ${spread(list, (r) => r.cpuOver5)}`,
    spread(list, (r) => r.maxBlockedMs),
    `${spread(list, (r) => r.blockedOver3)} / ${spread(list, (r) => r.blockedOver5)}`,
    spread(list, (r) => r.maxBlockedNoGcMs),
    spread(list, (r) => r.maxProcessMs),
    `${spread(list, (r) => r.processOver2)} / ${spread(list, (r) => r.processOver3)}`,
    spread(list, (r) => r.maxProcessNoGcMs),
    spread(list, (r) => r.cpuMs),
    spread(list, (r) => r.rttMaxMs),
    `${spread(list, (r) => r.cutAfterMs[0])} to ${spread(list, (r) => r.cutAfterMs[1])}`,
  ];
  console.log(`| ${runtime} | ${list.length} | ${cells.join(" | ")} |`);
}

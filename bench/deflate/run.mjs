// permessage-deflate benchmark: wsx's engine against ws, both with perMessageDeflate,
// on compressible 2 KiB JSON. See bench/README.md ("permessage-deflate").
//
//   node bench/deflate/run.mjs
//   BENCH_CONNS=200 BENCH_MESSAGES=200 BENCH_DEFLATE_SERVERS=wsx,ws node bench/deflate/run.mjs
//
// For each server: N connections (ws clients with their default offer) each echo M
// messages one at a time, all connections at once; then the server broadcasts M
// messages to all N. Reported: server CPU per message, RSS per connection (after GC,
// connections open), bytes on the wire per message (server to client), deliveries/s.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { message } from "./_message.mjs";

const N = Number(process.env.BENCH_CONNS ?? 200);
const M = Number(process.env.BENCH_MESSAGES ?? 200);
const here = fileURLToPath(new URL(".", import.meta.url));
const SERVERS = {
  wsx: { args: ["--import", "tsx", `${here}server_wsx.ts`], env: {} },
  "wsx-level6": {
    args: ["--import", "tsx", `${here}server_wsx.ts`],
    env: { BENCH_PMD: '{"level":6}' },
  },
  "wsx-takeover": {
    args: ["--import", "tsx", `${here}server_wsx.ts`],
    env: { BENCH_PMD: '{"serverContextTakeover":true}' },
  },
  "wsx-off": { args: ["--import", "tsx", `${here}server_wsx.ts`], env: { BENCH_PMD: "false" } },
  ws: { args: [`${here}server_ws.mjs`], env: {} },
};
const only = process.env.BENCH_DEFLATE_SERVERS?.split(",") ??
  ["wsx", "wsx-level6", "wsx-takeover", "ws", "wsx-off"];

function startServer(name) {
  const s = SERVERS[name];
  const prof = process.env.BENCH_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`]
    : [];
  const flags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, ["--expose-gc", ...flags, ...prof, ...s.args], {
    env: { ...process.env, ...s.env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) {
      console.error(`${name} server exited with ${code}`);
      process.exit(1);
    }
  });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (line) => {
    const i = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0].resolve(line);
  });
  const next = (prefix) =>
    new Promise((resolve) =>
      waiting.push({ prefix, resolve: (l) => resolve(l.slice(prefix.length).trim()) })
    );
  const ask = (cmd, prefix) => {
    const p = next(prefix);
    child.stdin.write(cmd + "\n");
    return p;
  };
  return { child, next, ask };
}

async function measure(name) {
  const server = startServer(name);
  const { port } = JSON.parse(await server.next("READY"));
  const base = JSON.parse(await server.ask("mem", "MEM")).rss;
  const clients = await Promise.all(Array.from({ length: N }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    await once(ws, "open");
    return ws;
  }));
  const extensions = clients[0].extensions || "(none)";
  const wire = () => clients.reduce((sum, ws) => sum + ws._socket.bytesRead, 0);
  const payload = message(1).length;

  // Echo: every connection sends M messages, one at a time.
  let cpu0 = Number(await server.ask("cpu", "CPU")), wire0 = wire(), t0 = performance.now();
  await Promise.all(clients.map(async (ws, c) => {
    for (let i = 0; i < M; i++) {
      const reply = once(ws, "message");
      ws.send(message(c * M + i));
      await reply;
    }
  }));
  const echoMs = performance.now() - t0;
  const echoCpu = Number(await server.ask("cpu", "CPU")) - cpu0;
  const echoWire = wire() - wire0;
  const mem = JSON.parse(await server.ask("mem", "MEM"));

  // Broadcast: M messages to all N connections.
  let received = 0;
  const all = new Promise((resolve) => {
    for (const ws of clients) ws.on("message", () => ++received === N * M && resolve());
  });
  cpu0 = Number(await server.ask("cpu", "CPU"));
  wire0 = wire();
  t0 = performance.now();
  server.child.stdin.write(`broadcast ${M}\n`);
  await all;
  const bMs = performance.now() - t0;
  const bCpu = Number(await server.ask("cpu", "CPU")) - cpu0;
  const bWire = wire() - wire0;

  for (const ws of clients) ws.terminate();
  server.child.stdin.end();
  await once(server.child, "exit");
  const n = N * M;
  return {
    server: name,
    extensions,
    heapMiB: +(mem.heap / 1048576).toFixed(1),
    echoCpuUsPerMsg: +(echoCpu / n).toFixed(1),
    rssPerConnKiB: +((mem.rss - base) / N / 1024).toFixed(1),
    echoWireRatio: +(echoWire / (n * payload)).toFixed(3),
    echoMsgPerSec: Math.round(n / (echoMs / 1000)),
    broadcastCpuUsPerDelivery: +(bCpu / n).toFixed(1),
    broadcastWireRatio: +(bWire / (n * payload)).toFixed(3),
    deliveriesPerSec: Math.round(n / (bMs / 1000)),
  };
}

const rows = [];
for (const name of only) {
  const row = await measure(name);
  rows.push(row);
  console.log(JSON.stringify(row));
}
const cols = Object.keys(rows[0]);
console.log(`\n${N} connections x ${M} messages of ${message(1).length} B JSON\n`);
console.log(`| ${cols.join(" | ")} |\n|${cols.map(() => " --- ").join("|")}|`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(" | ")} |`);

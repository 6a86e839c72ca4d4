// What one waiting request head costs wsx's engine, and what cutting it costs (issue 16,
// bench/README.md "Late request heads"): measures that hold on a busy machine, unlike the
// loop gaps of heads.mjs. The server (head_cost_server.ts) gets HEADS (1,900) raw TCP
// connections that each send `GET /ws HTTP/1.1\r\nHost: x\r\n` and nothing more; reported
// per head: the JavaScript heap after a full collection with every head waiting, less
// before (Node.js, Deno; Bun's heapUsed counts differently), and the server process's CPU
// time from just before the heads fall due until every one is closed (the sweep, the
// 408s, the closes, and the clients' FINs read), and the same less V8's collections
// (Node.js). Node.js runs with --single-threaded-gc so that its CPU time is the main
// thread's.
//
//   node bench/faults/head_cost.mjs [node|node:net|deno|deno:net|bun|bun:net ...]
//   HEADS_ROOTS=/tmp/base,. node bench/faults/head_cost.mjs node   # two checkouts, interleaved
//   HEADS_RUNS=3 ...                                               # runs each (default 3)

import { connect } from "node:net";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./server_child.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SERVER = join(ROOT, "bench/faults/head_cost_server.ts");
const HEADS = Number(process.env.HEADS ?? 1900);
const HANDSHAKE_MS = 3000;
const RUNS = Number(process.env.HEADS_RUNS ?? 3);
const ROOTS = (process.env.HEADS_ROOTS ?? ".").split(",").map((root) => resolve(root));
const bin = (name) => join(ROOT, "node_modules", ".bin", name);
const COMMANDS = {
  node:
    () => [process.execPath, ["--expose-gc", "--single-threaded-gc", "--import", "tsx", SERVER]],
  deno: () => [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", SERVER]],
  bun: () => [bin("bun"), ["run", SERVER]],
};

async function measure(runtime, root) {
  const [name, kind = "wsx"] = runtime.split(":");
  const [command, args] = COMMANDS[name]();
  const { ready, ask, quit } = startChild(command, args, ROOT, {
    HEADS_ROOT: root,
    HEADS_SERVER: kind,
    HEADS_HANDSHAKE_MS: `${HANDSHAKE_MS}`,
  });
  const { port } = await ready;
  await new Promise((done) => setTimeout(done, 300));
  const before = await ask("heap");
  const started = Date.now();
  let closed = 0, got408 = 0;
  const allClosed = Promise.withResolvers?.() ?? (() => {
    let done;
    const promise = new Promise((r) => done = r);
    return { promise, resolve: done };
  })();
  const open = () =>
    new Promise((done) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET /ws HTTP/1.1\r\nHost: x\r\n");
        done();
      });
      socket.on("data", (chunk) => got408 += chunk.includes("408") ? 1 : 0);
      socket.on("error", () => {});
      socket.on("close", () => ++closed === HEADS && allClosed.resolve());
    });
  for (let i = 0; i < HEADS; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, HEADS - i) }, open));
  }
  await new Promise((done) => setTimeout(done, 300));
  const waited = await ask("heap");
  const opened = Date.now() - started;
  if (opened > HANDSHAKE_MS - 500) console.error(`${runtime}: opening took ${opened} ms, too long`);
  await new Promise((done) => setTimeout(done, Math.max(0, HANDSHAKE_MS - 200 - opened)));
  const cpu0 = await ask("cpu");
  await allClosed.promise;
  const cpu1 = await ask("cpu");
  const gcMs = cpu1.gcMs - cpu0.gcMs;
  await quit();
  return {
    runtime: ROOTS.length > 1 ? `${runtime} ${basename(root)}` : runtime,
    heapPerHeadB: Math.round((waited.heap - before.heap) / HEADS),
    cutUsPerHead: Math.round((cpu1.cpu - cpu0.cpu) / HEADS * 1000),
    noGcUsPerHead: Math.round((cpu1.cpu - cpu0.cpu - gcMs) / HEADS * 1000),
    got408,
    closed,
  };
}

const runtimes = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["node", "node:net"];
const rows = {};
for (let run = 0; run < RUNS; run++) {
  for (const runtime of runtimes) {
    for (const root of ROOTS) {
      const row = await measure(runtime, root);
      console.log(JSON.stringify(row));
      (rows[row.runtime] ??= []).push(row);
    }
  }
}
const span = (values) => `${Math.min(...values)}-${Math.max(...values)}`;
console.log(
  "\n| server | runs | JS heap per waiting head (B) | CPU per cut head (us) | same, less GC (us) | 408s received |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const [name, list] of Object.entries(rows)) {
  const heap = list.map((r) => r.heapPerHeadB), cpu = list.map((r) => r.cutUsPerHead);
  const noGc = list.map((r) => r.noGcUsPerHead), got = list.map((r) => r.got408);
  console.log(
    `| ${name} | ${list.length} | ${span(heap)} | ${span(cpu)} | ${span(noGc)} | ${
      span(got)
    } of ${HEADS} |`,
  );
}

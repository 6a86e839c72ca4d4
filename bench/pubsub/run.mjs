#!/usr/bin/env node
// The pub/sub benchmark (bench/pubsub/README.md): one message broadcast to 1,000 and
// 10,000 receivers by one Node.js process, wsx's broadcast() against `ws` with a send
// loop, as deliveries per second counted by a C client on raw sockets, interleaved
// A B A B; then deliveries per second across two wsx processes through Redis.
//
// Environment: BENCH_PUBSUB_RECEIVERS (1000,10000), BENCH_PUBSUB_ROUNDS (3),
// BENCH_PUBSUB_DELIVERIES (200000 per burst measurement; paced ones get a quarter, their
// rate does not depend on it), BENCH_PUBSUB_MODES (burst,paced), BENCH_PUBSUB_REDIS (1;
// 0 skips the Redis part), BENCH_PUBSUB_JSON (a file for the results).

import { writeFileSync } from "node:fs";
import {
  buildReceivers,
  Child,
  childFdLimit,
  cpuSeconds,
  startRedis,
  summarize,
} from "./_procs.mjs";

const env = (name, fallback) => process.env[name] ?? fallback;
const CONFIG = {
  sizes: env("BENCH_PUBSUB_RECEIVERS", "1000,10000").split(",").map(Number),
  rounds: Number(env("BENCH_PUBSUB_ROUNDS", "3")),
  deliveries: Number(env("BENCH_PUBSUB_DELIVERIES", "200000")),
  modes: env("BENCH_PUBSUB_MODES", "burst,paced").split(","),
  redis: env("BENCH_PUBSUB_REDIS", "1") !== "0",
  redisReceivers: 1000,
};
const MEASURE_TIMEOUT_MS = 60_000;
const TARGET = 8;
const SERVERS = {
  wsx: [process.execPath, ["--import", "tsx", "bench/pubsub/server_wsx.ts"]],
  ws: [process.execPath, ["bench/pubsub/server_ws.mjs"]],
};
// burst: every message of a measurement sent in one event-loop turn (a server with many
// messages to pass on); paced: one message per turn (each message leaves on its own).
const PER_TURN = { burst: (m) => m, paced: () => 1 };
const SHARE = { burst: 1, paced: 0.25 };

/** Messages per measurement: the mode's delivery budget over the receivers. */
const messagesFor = (mode, receivers) =>
  Math.max(2, Math.round((CONFIG.deliveries * SHARE[mode]) / receivers));
const fmt = (n) => Math.round(n).toLocaleString("en-US");
const pct = (x) => `${Math.round(x * 100)}%`;
const range = (s) => `${s.median.toFixed(2)}x [${s.min.toFixed(2)}-${s.max.toFixed(2)}]`;

/** A server with its receivers connected. */
async function startPair(binary, name, receivers, extraEnv = {}, path = "/") {
  const [command, args] = SERVERS[name];
  const server = new Child(command, args, extraEnv);
  const ready = await server.next("ready", 30_000);
  const args2 = ["--port", String(ready.port), "--conns", String(receivers), "--path", path];
  const client = new Child(binary, [...args2, "--seconds", "900"]);
  const open = await client.next("ready", 120_000);
  if (open.open !== receivers) {
    throw new Error(`${name}: ${open.open} of ${receivers} receivers connected`);
  }
  return { name, server, client, receivers, frames: 0, info: ready };
}

async function stopPairs(pairs) {
  await Promise.all(pairs.map((p) => Promise.all([p.client.stop(), p.server.stop()])));
}

/**
 * One measurement: `sender` sends `messages` (its `command`, `perTurn` a turn) and the
 * receivers of `pairs` wait for every delivery; the time runs from the command to the
 * last frame. CPU: the sender's server, then each pair's server and receivers.
 */
async function measure(sender, command, messages, perTurn, pairs) {
  for (const pair of pairs) {
    pair.frames += pair.receivers * messages;
    pair.client.send(`wait ${pair.frames}`);
  }
  const pids = [sender.server.pid, ...pairs.flatMap((p) => [p.server.pid, p.client.pid])];
  const cpu0 = pids.map(cpuSeconds);
  const t0 = performance.now();
  sender.server.send(`${command} ${messages} ${perTurn}`);
  await Promise.all(pairs.map((p) => p.client.next("reached", MEASURE_TIMEOUT_MS)));
  const seconds = (performance.now() - t0) / 1000;
  await sender.server.next("sent", MEASURE_TIMEOUT_MS);
  const cpu = pids.map((pid, i) => (cpuSeconds(pid) - cpu0[i]) / seconds);
  const deliveries = pairs.reduce((sum, p) => sum + p.receivers * messages, 0);
  return { perSecond: deliveries / seconds, seconds, cpu };
}

async function broadcastMode(pairs, mode, receivers) {
  const messages = messagesFor(mode, receivers);
  const rates = { wsx: [], ws: [] };
  for (let round = 0; round < CONFIG.rounds; round++) {
    for (const pair of pairs) {
      const m = await measure(pair, "broadcast", messages, PER_TURN[mode](messages), [pair]);
      rates[pair.name].push(m.perSecond);
      const rate = fmt(m.perSecond).padStart(11);
      const cpu = `server CPU ${pct(m.cpu[0])}, receivers ${pct(m.cpu[2])}`;
      console.log(`  ${mode} round ${round + 1}  ${pair.name.padEnd(3)} ${rate}/s  (${cpu})`);
    }
  }
  const ratio = summarize(rates.wsx.map((r, i) => r / rates.ws[i]));
  console.log(`  ${mode}, ${messages} messages a measurement: wsx/ws ${range(ratio)}`);
  return { messages, wsx: summarize(rates.wsx), ws: summarize(rates.ws), ratio };
}

async function broadcastSize(binary, receivers) {
  console.log(`\nBroadcast of 64-byte text messages to ${fmt(receivers)} receivers`);
  const pairs = [];
  try {
    for (const name of ["wsx", "ws"]) pairs.push(await startPair(binary, name, receivers));
    const ws = pairs[1].info;
    console.log(`  ws ${ws.version}, bufferutil ${ws.bufferutil}`);
    const results = { receivers };
    for (const mode of CONFIG.modes) results[mode] = await broadcastMode(pairs, mode, receivers);
    return results;
  } finally {
    await stopPairs(pairs);
  }
}

async function redisMode(pairs, mode) {
  const messages = messagesFor(mode, 2 * CONFIG.redisReceivers);
  const total = [];
  for (let round = 0; round < CONFIG.rounds; round++) {
    const m = await measure(pairs[0], "publish", messages, PER_TURN[mode](messages), pairs);
    total.push(m.perSecond);
    const through = `${fmt(messages / m.seconds)} messages/s through Redis`;
    const cpu = `CPU: A ${pct(m.cpu[0])}, B ${pct(m.cpu[3])}`;
    console.log(
      `  ${mode} round ${round + 1}  ${fmt(m.perSecond).padStart(11)}/s  (${through}; ${cpu})`,
    );
  }
  return { messages, total: summarize(total) };
}

async function throughRedis(binary) {
  const redis = await startRedis();
  if (!redis) {
    console.log("\nRedis: skipped (no redis-server; Debian: apt-get install -y redis-server)");
    return null;
  }
  const receivers = CONFIG.redisReceivers;
  console.log(
    `\nThrough Redis: wsx process A publishes, ${fmt(receivers)} subscribers in A and in B`,
  );
  const pairs = [];
  try {
    for (let i = 0; i < 2; i++) {
      pairs.push(await startPair(binary, "wsx", receivers, { REDIS_URL: redis.url }, "/sub"));
    }
    await measure(pairs[0], "publish", 1, 1, pairs); // warm-up: both subscriptions carry
    const results = { receiversPerProcess: receivers };
    for (const mode of CONFIG.modes) results[mode] = await redisMode(pairs, mode);
    return results;
  } finally {
    await stopPairs(pairs);
    await redis.stop();
  }
}

function printSummary(results) {
  console.log("\nSummary: deliveries/s, median of the rounds; wsx/ws: median [min-max] of rounds");
  for (const b of results.broadcast) {
    for (const mode of CONFIG.modes) {
      const r = b[mode];
      const line = `wsx ${fmt(r.wsx.median).padStart(9)}  ws ${fmt(r.ws.median).padStart(7)}`;
      console.log(
        `  ${fmt(b.receivers).padStart(6)} receivers, ${mode}  ${line}  ${range(r.ratio)}`,
      );
    }
  }
  for (const mode of results.redis ? CONFIG.modes : []) {
    const r = results.redis[mode];
    console.log(`  Redis, 2 processes x 1,000 receivers, ${mode}  ${fmt(r.total.median)}`);
  }
  // The target (issue #6) is judged on bursts, where a library's broadcast can win; paced,
  // every delivery is one write system call on any server (see README.md).
  const bursts = results.broadcast.filter((b) => b.burst);
  if (bursts.length > 0) {
    console.log(`
Target: broadcast deliveries/s >= ${TARGET}x ws (burst)`);
  }
  for (const b of bursts) {
    const verdict = b.burst.ratio.median >= TARGET ? "PASS" : "FAIL";
    console.log(`  ${verdict} ${fmt(b.receivers)} receivers: wsx/ws ${range(b.burst.ratio)}`);
  }
}

const started = performance.now();
const binary = buildReceivers();
const fds = childFdLimit();
const results = { date: new Date().toISOString(), config: CONFIG, broadcast: [], redis: null };
for (const receivers of CONFIG.sizes) {
  if (fds < receivers + 256) {
    console.log(`\nBroadcast to ${fmt(receivers)}: skipped (descriptor limit ${fds})`);
  } else {
    results.broadcast.push(await broadcastSize(binary, receivers));
  }
}
if (CONFIG.redis) results.redis = await throughRedis(binary);
printSummary(results);
console.log(`\nTook ${((performance.now() - started) / 1000).toFixed(1)} s`);
const json = process.env.BENCH_PUBSUB_JSON;
if (json) writeFileSync(json, JSON.stringify(results, null, 2));

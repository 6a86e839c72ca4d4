// What the benchmark measures: one entry per scenario, with the servers it compares and
// how one measurement is taken (bench/lib/measure.mjs). The runner (bench/run.mjs)
// interleaves the servers round by round.

import { broadcast, churn, echo, hold } from "./measure.mjs";
import { SERVER_NAMES, WS_SERVERS } from "./servers.mjs";

const MSGS = { key: "msgs_per_s", label: "msg/s", better: "higher", digits: 0 };
// Server CPU time per message over the window: robust to other load on the machine.
const CPU_PER_MSG = {
  key: "cpu_us_per_msg",
  label: "server CPU us/msg",
  better: "lower",
  digits: 2,
};
const HANDSHAKES = { key: "per_s", label: "handshakes/s", better: "higher", digits: 0 };
const CPU_PER_HANDSHAKE = {
  key: "cpu_us_per_handshake",
  label: "server CPU us/handshake",
  better: "lower",
  digits: 1,
};
const NODE_TRIO = ["wsx", "ws", "raw"];

const pipelined = (id, size, depth, label) => ({
  id,
  title: () => `echo ${label}, 64 conns x ${depth} in flight`,
  servers: SERVER_NAMES,
  metrics: [MSGS, CPU_PER_MSG],
  measure: (ctx, server) => echo(ctx, server, { conns: 64, depth, size }),
});

export const SCENARIOS = [
  pipelined("echo32", 32, 64, "32 B"),
  {
    // Not a comparison: how far the load generator goes when the pipeline is deep enough,
    // to show it is not what limits the servers above.
    id: "client",
    title: () => "client capacity: raw TCP echo 32 B, 64 conns x 1024 in flight",
    servers: ["raw"],
    metrics: [MSGS],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 1024, size: 32 }),
  },
  pipelined("echo4k", 4096, 64, "4 KiB"),
  pipelined("echo64k", 65536, 16, "64 KiB"),
  {
    id: "inflight1",
    title: () => "echo 32 B, 64 conns x 1 in flight",
    servers: [...NODE_TRIO, "bunNative"],
    metrics: [MSGS, CPU_PER_MSG],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 1, size: 32 }),
  },
  {
    id: "latency",
    title: (ctx) => `round trip, 1 conn x 1 in flight, 32 B, ${ctx.cfg.latencySeconds} s`,
    servers: SERVER_NAMES,
    rounds: (cfg) => cfg.latencyRounds,
    metrics: [
      { key: "p50_us", label: "p50 us", better: "lower", digits: 1 },
      { key: "p99_us", label: "p99 us", better: "lower", digits: 1 },
    ],
    measure: (ctx, server) =>
      echo(ctx, server, { conns: 1, depth: 1, size: 32, seconds: ctx.cfg.latencySeconds }),
  },
  {
    id: "handshake",
    title: () => "handshake + close, 32 at once",
    servers: NODE_TRIO.filter((n) => n !== "raw"),
    metrics: [HANDSHAKES, CPU_PER_HANDSHAKE],
    measure: (ctx, server) => churn(ctx, server, 32),
  },
  {
    id: "hold",
    title: (ctx) =>
      `open ${
        ctx.holdConnections.toLocaleString("en-US")
      } connections, 128 at a time, and hold them`,
    // raw TCP: the floor, what accepting and holding a node:net socket alone costs.
    servers: SERVER_NAMES,
    fresh: true,
    rounds: (cfg) => cfg.holdRounds,
    metrics: [
      HANDSHAKES,
      CPU_PER_HANDSHAKE,
      { key: "heap_per_conn", label: "idle heap B/conn", better: "lower", digits: 0 },
      { key: "rss_per_conn", label: "idle RSS B/conn", better: "lower", digits: 0 },
    ],
    measure: (ctx, name) => hold(ctx, name, 128),
  },
  {
    id: "broadcast",
    title: (ctx) =>
      `broadcast 64 B text to 1,000 receivers, ${ctx.cfg.broadcastMessages} messages in one turn`,
    servers: WS_SERVERS,
    needsReceivers: true,
    metrics: [
      { key: "deliveries_per_s", label: "deliveries/s", better: "higher", digits: 0 },
      {
        key: "cpu_us_per_delivery",
        label: "server CPU us/delivery",
        better: "lower",
        digits: 3,
      },
    ],
    measure: (ctx, server) =>
      broadcast(ctx, server, { receivers: 1000, messages: ctx.cfg.broadcastMessages }),
  },
];

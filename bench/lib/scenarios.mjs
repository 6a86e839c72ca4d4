// What the benchmark measures: one entry per scenario, and how one measurement of one
// server is taken. The runner (bench/run.mjs) interleaves the servers round by round.

import { systemBusySeconds } from "./cpu.mjs";
import { holdConnections, runLoadgen, ServerProcess } from "./procs.mjs";

const MSGS = { key: "msgs_per_s", label: "msg/s", better: "higher", digits: 0 };
// Server CPU time per message over the window: robust to other load on the machine.
const CPU_PER_MSG = {
  key: "cpu_us_per_msg",
  label: "server CPU us/msg",
  better: "lower",
  digits: 2,
};

/** @typedef {{ metrics: Record<string, number>, cpu?: { server: number, client: number }, problems: string[], raw?: object }} Measurement */

export const SCENARIOS = [
  {
    id: "echo32",
    title: () => "echo 32 B, 64 conns x 64 in flight",
    servers: ["wsx", "ws", "raw"],
    metrics: [MSGS, CPU_PER_MSG],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 64, size: 32 }),
  },
  {
    // Not a comparison: how far the load generator goes when the pipeline is deep enough,
    // to show it is not what limits the servers above.
    id: "client",
    title: () => "client capacity: raw TCP echo 32 B, 64 conns x 1024 in flight",
    servers: ["raw"],
    metrics: [MSGS],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 1024, size: 32 }),
  },
  {
    id: "echo4k",
    title: () => "echo 4 KiB, 64 conns x 64 in flight",
    servers: ["wsx", "ws", "raw"],
    metrics: [MSGS, CPU_PER_MSG],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 64, size: 4096 }),
  },
  {
    id: "echo64k",
    title: () => "echo 64 KiB, 64 conns x 64 in flight",
    servers: ["wsx", "ws", "raw"],
    metrics: [MSGS, CPU_PER_MSG],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 64, size: 65536 }),
  },
  {
    id: "inflight1",
    title: () => "echo 32 B, 64 conns x 1 in flight",
    servers: ["wsx", "ws", "raw"],
    metrics: [MSGS, CPU_PER_MSG],
    measure: (ctx, server) => echo(ctx, server, { conns: 64, depth: 1, size: 32 }),
  },
  {
    id: "latency",
    title: () => "round trip, 1 conn x 1 in flight, 32 B",
    servers: ["wsx", "ws", "raw"],
    metrics: [
      { key: "p50_us", label: "p50 us", better: "lower", digits: 1 },
      { key: "p99_us", label: "p99 us", better: "lower", digits: 1 },
    ],
    measure: (ctx, server) => latency(ctx, server),
  },
  {
    id: "handshake",
    title: () => "handshake + close, 32 at once",
    servers: ["wsx", "ws"],
    metrics: [
      { key: "per_s", label: "handshakes/s", better: "higher", digits: 0 },
      { key: "cpu_us_per_handshake", label: "server CPU us/handshake", better: "lower", digits: 1 },
    ],
    measure: (ctx, server) => handshakes(ctx, server, 32),
  },
  {
    id: "memory",
    title: (ctx) => `idle connections (${ctx.memoryConnections.toLocaleString("en-US")})`,
    // raw TCP: the floor, what an idle node:net socket alone costs.
    servers: ["wsx", "ws", "raw"],
    fresh: true,
    metrics: [
      { key: "heap_per_conn", label: "heap B/conn", better: "lower", digits: 0 },
      { key: "rss_per_conn", label: "RSS B/conn", better: "lower", digits: 0 },
    ],
    measure: (ctx, name) => memory(ctx, name),
  },
];

// Problems the load generator saw: a result with any of them is flagged in the report.
function problemsOf(r, conns) {
  const problems = [];
  if (r.open !== undefined && r.open < conns) {
    problems.push(`${r.open} of ${conns} connections opened`);
  }
  if (r.errors > 0) problems.push(`${r.errors} connection errors`);
  if (r.bad_frames > 0) problems.push(`${r.bad_frames} unexpected frames`);
  return problems;
}

// Runs the load generator against a running server and measures, over its measurement
// window, the server's CPU use and the CPU used by anything else on the machine, in
// cores (1 = one core busy). `serverCpuSeconds` divided by the work done is the server's
// cost per message, a figure that other load on the machine hardly changes.
async function withServerCpu(server, run) {
  await server.waitQuiet();
  let cpu0 = NaN, busy0 = NaN;
  const r = await run(() => {
    cpu0 = server.cpuSeconds();
    busy0 = systemBusySeconds();
  });
  const serverCpuSeconds = server.cpuSeconds() - cpu0;
  const clientCpuSeconds = r.client_cpu * r.seconds;
  const other = (systemBusySeconds() - busy0 - serverCpuSeconds - clientCpuSeconds) / r.seconds;
  return {
    r,
    serverCpuSeconds,
    cpu: { server: serverCpuSeconds / r.seconds, client: r.client_cpu, other: Math.max(0, other) },
  };
}

function loadArgs(ctx, server, load) {
  return [
    "echo",
    "--port",
    server.port,
    ...(server.name === "raw" ? ["--raw"] : []),
    "--conns",
    load.conns,
    "--depth",
    load.depth,
    "--size",
    load.size,
    "--warmup",
    ctx.cfg.warmupSeconds,
  ];
}

/** @returns {Promise<Measurement>} */
async function echo(ctx, server, load) {
  const seconds = ctx.cfg.seconds;
  const { r, cpu, serverCpuSeconds } = await withServerCpu(
    server,
    (onMeasuring) =>
      runLoadgen(
        ctx.loadgen,
        [...loadArgs(ctx, server, load), "--seconds", seconds],
        (seconds + 30) * 1000,
        onMeasuring,
      ),
  );
  const metrics = {
    msgs_per_s: r.msgs_per_s,
    cpu_us_per_msg: (serverCpuSeconds / r.messages) * 1e6,
  };
  return { metrics, cpu, problems: problemsOf(r, load.conns), raw: r };
}

/** @returns {Promise<Measurement>} */
async function latency(ctx, server) {
  const load = { conns: 1, depth: 1, size: 32 };
  // Bounded by the message count; 20 s is only the safety stop.
  const args = [
    ...loadArgs(ctx, server, load),
    "--seconds",
    20,
    "--max-msgs",
    ctx.cfg.latencyMessages,
  ];
  const { r, cpu } = await withServerCpu(
    server,
    (onMeasuring) => runLoadgen(ctx.loadgen, args, 50_000, onMeasuring),
  );
  const problems = problemsOf(r, 1);
  if (r.messages < ctx.cfg.latencyMessages) problems.push(`only ${r.messages} round trips`);
  return { metrics: { p50_us: r.latency_us.p50, p99_us: r.latency_us.p99 }, cpu, problems, raw: r };
}

/** @returns {Promise<Measurement>} */
async function handshakes(ctx, server, concurrency) {
  const seconds = ctx.cfg.seconds;
  const args = [
    "handshake",
    "--port",
    server.port,
    "--conns",
    concurrency,
    "--seconds",
    seconds,
    "--warmup",
    ctx.cfg.warmupSeconds,
  ];
  const { r, cpu, serverCpuSeconds } = await withServerCpu(
    server,
    (onMeasuring) => runLoadgen(ctx.loadgen, args, (seconds + 30) * 1000, onMeasuring),
  );
  const metrics = { per_s: r.per_s, cpu_us_per_handshake: (serverCpuSeconds / r.handshakes) * 1e6 };
  return { metrics, cpu, problems: problemsOf(r, concurrency), raw: r };
}

/**
 * Memory per idle connection, in a fresh server process: heap and RSS after a forced GC,
 * before and after the load generator opened `memoryConnections` connections.
 * @returns {Promise<Measurement>}
 */
async function memory(ctx, name) {
  const count = ctx.memoryConnections;
  const server = await ServerProcess.start(name);
  try {
    const before = await server.memory();
    const held = await holdConnections(ctx.loadgen, server.port, count, 120_000, name === "raw");
    try {
      // Let the last handshakes' garbage and timers settle before the GC.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await server.memory();
      const problems = [];
      if (held.ready.open !== count) {
        problems.push(`${held.ready.open} of ${count} connections opened`);
      }
      if (after.connections !== count) {
        problems.push(`server counts ${after.connections} connections`);
      }
      return {
        metrics: {
          heap_per_conn: (after.heapUsed - before.heapUsed) / count,
          rss_per_conn: (after.rss - before.rss) / count,
        },
        problems,
        raw: { before, after, open: held.ready.open, openSeconds: held.ready.seconds },
      };
    } finally {
      await held.release();
    }
  } finally {
    await server.stop();
  }
}

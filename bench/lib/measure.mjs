// How one measurement of one server is taken, for each kind of scenario.

import { systemBusySeconds } from "./cpu.mjs";
import { holdConnections, runLoadgen, ServerProcess, startReceivers } from "./procs.mjs";

/** @typedef {{ metrics: Record<string, number>, cpu?: { server: number, client: number, other: number }, problems: string[], raw?: object }} Measurement */

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
    ...(server.raw ? ["--raw"] : []),
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

/**
 * Echo: `conns` connections with `depth` messages of `size` bytes in flight each, for
 * `seconds` (default: the run's window). With depth 1, the round-trip percentiles too.
 * @returns {Promise<Measurement>}
 */
export async function echo(ctx, server, load) {
  const seconds = load.seconds ?? ctx.cfg.seconds;
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
  if (r.latency_us) Object.assign(metrics, { p50_us: r.latency_us.p50, p99_us: r.latency_us.p99 });
  return { metrics, cpu, problems: problemsOf(r, load.conns), raw: r };
}

/**
 * Handshake churn: `concurrency` slots, each opening a connection, closing it with a
 * close frame and waiting for the server's end of the TCP connection, again and again.
 * @returns {Promise<Measurement>}
 */
export async function churn(ctx, server, concurrency) {
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
 * Opening and holding `ctx.holdConnections` connections, `concurrency` handshakes at a
 * time, in a fresh server process: handshakes per second until all are open (and the
 * server's CPU time per handshake), then heap and RSS per connection, after a forced GC,
 * against the same figures before.
 * @returns {Promise<Measurement>}
 */
export async function hold(ctx, name, concurrency) {
  const count = ctx.holdConnections;
  const server = await ServerProcess.start(name);
  try {
    const before = await server.memory();
    await server.waitQuiet();
    const cpu0 = server.cpuSeconds(), busy0 = systemBusySeconds();
    // Every server, raw TCP too, answers a WebSocket handshake here (raw TCP: a bare 101).
    const held = await holdConnections(ctx.loadgen, server.port, count, 120_000, {
      raw: false,
      concurrency,
    });
    const serverCpu = server.cpuSeconds() - cpu0, busy = systemBusySeconds() - busy0;
    try {
      // Let the last handshakes' garbage and timers settle before the GC.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await server.memory();
      const open = held.ready.open, seconds = held.ready.seconds;
      const problems = [];
      if (open !== count) problems.push(`${open} of ${count} connections opened`);
      if (after.connections !== count) {
        problems.push(`server counts ${after.connections} connections`);
      }
      const client = held.ready.client_cpu_s / seconds;
      return {
        metrics: {
          per_s: open / seconds,
          cpu_us_per_handshake: (serverCpu / open) * 1e6,
          heap_per_conn: (after.heapUsed - before.heapUsed) / count,
          rss_per_conn: (after.rss - before.rss) / count,
        },
        cpu: {
          server: serverCpu / seconds,
          client,
          other: Math.max(0, (busy - serverCpu) / seconds - client),
        },
        problems,
        raw: { before, after, open, openSeconds: seconds },
      };
    } finally {
      await held.release();
    }
  } finally {
    await server.stop();
  }
}

/**
 * Broadcast: `receivers` connections (a C program that counts frames), kept open for the
 * whole scenario; the server sends `messages` 64-byte messages to all of them in one
 * event-loop turn, timed from the command to the last frame counted.
 * @returns {Promise<Measurement>}
 */
export async function broadcast(ctx, server, { receivers, messages }) {
  const group = await ctx.receiversFor(server, receivers);
  await server.waitQuiet();
  group.expected += receivers * messages;
  const cpu0 = server.cpuSeconds(), client0 = group.cpuSeconds(), busy0 = systemBusySeconds();
  const t0 = performance.now();
  group.send(`wait ${group.expected}`);
  const [sent] = await Promise.all([
    server.broadcast(messages),
    group.next("reached", 60_000),
  ]);
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = server.cpuSeconds() - cpu0, client = group.cpuSeconds() - client0;
  const other = (systemBusySeconds() - busy0 - serverCpu - client) / seconds;
  return {
    metrics: {
      deliveries_per_s: (receivers * messages) / seconds,
      cpu_us_per_delivery: (serverCpu / (receivers * messages)) * 1e6,
    },
    cpu: { server: serverCpu / seconds, client: client / seconds, other: Math.max(0, other) },
    problems: [],
    raw: { seconds, sendMs: sent.ms },
  };
}

export { startReceivers };

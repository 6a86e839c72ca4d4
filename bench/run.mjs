// The wsx benchmark (`npm run bench`): wsx on Node.js, Deno and Bun against `ws` (with
// bufferutil), Deno's and Bun's native servers and a raw node:net TCP echo, driven by a C
// load generator, servers interleaved round by round. See bench/README.md.
//
// Environment: BENCH_ROUNDS (5), BENCH_SECONDS (1.5), BENCH_WARMUP (0.25),
// BENCH_ONLY (e.g. "echo32,latency"), BENCH_RUNTIMES (e.g. "node,bun"), BENCH_SERVERS
// (e.g. "bunEngine,bunNative"), BENCH_LATENCY_SECONDS (3), BENCH_HOLD_CONNS (10000),
// BENCH_BROADCAST_MSGS (200), BENCH_CPU_PROF (e.g. "wsx": that Node.js server runs with
// --cpu-prof into bench/results/profiles/).

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { buildLoadgen } from "./lib/build.mjs";
import { readConfig } from "./lib/config.mjs";
import { BENCH, childFdLimit, PIN } from "./lib/children.mjs";
import { ServerProcess, startReceivers } from "./lib/procs.mjs";
import { label } from "./lib/servers.mjs";
import { clientCheck, otherLoad } from "./lib/checks.mjs";
import { verdicts } from "./lib/targets.mjs";
import { cpuLines, markdown, summarizeScenario, textTable } from "./lib/report.mjs";
import { SCENARIOS } from "./lib/scenarios.mjs";
import { roundOrder } from "./lib/stats.mjs";

const RESULTS = join(BENCH, "results");
const PROFILES = join(RESULTS, "profiles");

/** The long-lived servers of the throughput scenarios, restarted if one dies. */
class ServerPool {
  #servers = new Map();
  #profiled;
  restarts = [];

  constructor(profiled) {
    this.#profiled = profiled;
  }

  async get(name) {
    const running = this.#servers.get(name);
    if (running?.alive) return running;
    if (running) {
      this.restarts.push(
        `${name} exited (${running.child.stderrText.trim().slice(-300)}); restarted`,
      );
    }
    const cpuProfileDir = this.#profiled.includes(name) ? PROFILES : undefined;
    const server = await ServerProcess.start(name, { cpuProfileDir });
    this.#servers.set(name, server);
    return server;
  }

  async stopAll() {
    await Promise.all([...this.#servers.values()].map((s) => s.stop()));
    this.#servers.clear();
  }
}

function describe(m, scenario) {
  if (m.error) return `ERROR ${m.error.split("\n")[0]}`;
  const values = scenario.metrics.map((k) =>
    `${m.metrics[k.key].toLocaleString("en-US", { maximumFractionDigits: k.digits })} ${k.label}`
  ).join(", ");
  const pct = (x) => `${Math.round(x * 100)}%`;
  const cpu = m.cpu
    ? `  (CPU: server ${pct(m.cpu.server)}, client ${pct(m.cpu.client)}, other ${pct(m.cpu.other)})`
    : "";
  const problems = m.problems.length > 0 ? `  ! ${m.problems.join("; ")}` : "";
  return values + cpu + problems;
}

async function runScenario(definition, ctx, pool) {
  const scenario = {
    ...definition,
    title: definition.title(ctx),
    servers: definition.servers.filter((n) => ctx.cfg.servers.includes(n)),
  };
  const rounds = scenario.rounds?.(ctx.cfg) ?? ctx.cfg.rounds;
  const perServer = Object.fromEntries(scenario.servers.map((n) => [n, []]));
  console.log(`\n${scenario.id}: ${scenario.title}`);
  const width = Math.max(...scenario.servers.map((n) => label(n).length));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of roundOrder(scenario.servers, round)) {
        let m;
        try {
          const target = scenario.fresh ? name : await pool.get(name);
          m = await scenario.measure(ctx, target);
        } catch (error) {
          m = { error: error.message, problems: [] };
        }
        perServer[name][round] = m;
        console.log(
          `  round ${round + 1}/${rounds}  ${label(name).padEnd(width)} ${describe(m, scenario)}`,
        );
      }
    }
  } finally {
    await ctx.stopReceivers();
  }
  return summarizeScenario(scenario, perServer);
}

function environment(wsReady, compiler, runtimes) {
  const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ??
    os.cpus()[0]?.model;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu,
    cores: os.availableParallelism(),
    kernel: os.release(),
    node: process.version,
    runtimes,
    ws: wsReady?.version ?? "-",
    bufferutil: wsReady?.bufferutil ?? "-",
    compiler,
  };
}

async function main() {
  const cfg = readConfig(process.env, SCENARIOS.map((s) => s.id));
  const selected = SCENARIOS.filter((s) => cfg.scenarios.includes(s.id));
  const { binary, receivers, compiler } = buildLoadgen();
  console.log(`load generator: ${binary} (${compiler} -O2)`);

  const fdLimit = childFdLimit();
  const holdConnections = Math.min(cfg.holdConnections, fdLimit - 100);
  console.log(
    `open files per child process: ${fdLimit}` +
      (holdConnections < cfg.holdConnections
        ? ` - too few: hold uses ${holdConnections} connections`
        : ""),
  );

  const pool = new ServerPool(cfg.cpuProfile);
  if (cfg.cpuProfile.length > 0) mkdirSync(PROFILES, { recursive: true });
  const runtimes = {};
  for (const name of cfg.servers) {
    const server = await pool.get(name);
    runtimes[server.ready.runtime.split(" ")[0]] = server.ready.runtime;
  }
  const wsReady = cfg.servers.includes("ws") ? (await pool.get("ws")).ready : undefined;
  if (wsReady) {
    console.log(`ws ${wsReady.version}, bufferutil: ${wsReady.bufferutil}`);
    if (!wsReady.bufferutil.startsWith("native")) {
      console.log("WARNING: ws runs without native bufferutil; its figures are not the usual ones");
    }
  }
  const env = environment(wsReady, compiler, runtimes);
  console.log(
    `${env.cpu}, ${env.cores} cores; ${
      Object.values(runtimes).join(", ")
    }; ${cfg.rounds} rounds x ${cfg.seconds} s`,
  );
  console.log(`servers: ${cfg.servers.join(", ")}; scenarios: ${cfg.scenarios.join(", ")}`);
  if (PIN) {
    console.log(
      `pinned (BENCH_PIN): servers on CPU ${PIN.server}, load generator on CPU ${PIN.client}`,
    );
  }

  // Broadcast receivers, one group per server, kept open for the whole scenario.
  const groups = new Map();
  const ctx = {
    cfg,
    loadgen: binary,
    holdConnections,
    async receiversFor(server, count) {
      let group = groups.get(server.name);
      if (!group) {
        group = await startReceivers(receivers, server.port, count);
        groups.set(server.name, group);
      }
      return group;
    },
    async stopReceivers() {
      await Promise.all([...groups.values()].map((g) => g.stop()));
      groups.clear();
    },
  };
  const results = [];
  for (const scenario of selected) {
    // Fresh-process scenarios (hold) run with no other server around.
    if (scenario.fresh) await pool.stopAll();
    results.push(await runScenario(scenario, ctx, pool));
  }
  await pool.stopAll();

  const table = textTable(results);
  const targets = verdicts(results);
  const check = clientCheck(results);
  console.log(`\n${table}\n`);
  for (const v of targets) console.log(`${v.status}  ${v.label}: ${v.detail}`);
  console.log("");
  for (const c of check) console.log(`CHECK ${c.status}  ${c.text}`);
  for (const l of cpuLines(results)) console.log(`CPU   ${l}`);
  const load = otherLoad(results);
  console.log(`CHECK ${load.status}  ${load.text}`);
  const problems = [
    ...pool.restarts,
    ...results.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`)),
  ];
  for (const p of problems) console.log(`PROBLEM  ${p}`);

  mkdirSync(RESULTS, { recursive: true });
  const stamp = env.date.replace(/[:]/g, "-");
  const json = JSON.stringify(
    { env, config: { ...cfg, holdConnections }, results, targets, clientCheck: check, problems },
    null,
    2,
  );
  const md = markdown(results, env, cfg, problems);
  for (const name of [`bench-${stamp}`, "latest"]) {
    writeFileSync(join(RESULTS, `${name}.json`), json);
    writeFileSync(join(RESULTS, `${name}.md`), md);
  }
  console.log(`\nresults: bench/results/bench-${stamp}.{json,md} (also latest.*)`);
  if (cfg.cpuProfile.length > 0) {
    console.log(
      `CPU profiles: bench/results/profiles/ (summarize: node bench/profile_top.mjs FILE)`,
    );
  }
}

try {
  await main();
} catch (error) {
  console.error(error?.stack ?? error);
  process.exitCode = 1;
}

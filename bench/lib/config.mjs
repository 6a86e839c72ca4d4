// The run's settings, read once from the environment.

import { SERVER_NAMES, SERVERS } from "./servers.mjs";

function positive(env, name, fallback, integer) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(
      `Invalid "${name}": expected a positive ${integer ? "integer" : "number"}, got "${raw}"`,
    );
  }
  return value;
}

/** A comma-separated list, each entry one of `allowed`; all of them when unset. */
function list(env, name, allowed, defaults = allowed) {
  const given = (env[name] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of given) {
    if (!allowed.includes(id)) {
      throw new RangeError(
        `Invalid "${name}": unknown "${id}", expected some of ${allowed.join(", ")}`,
      );
    }
  }
  return given.length > 0 ? given : defaults;
}

/**
 * @param {Record<string, string | undefined>} env
 * @param {string[]} scenarioIds every scenario the runner knows
 */
export function readConfig(env, scenarioIds) {
  const scenarios = list(env, "BENCH_ONLY", scenarioIds);
  const runtimes = list(env, "BENCH_RUNTIMES", ["node", "deno", "bun"]);
  // `base`, `bunBase` and `bunWsxBase` (another checkout of wsx) run only when BENCH_BASE
  // names one;
  // `bunListen` (what `bunEngine` runs, called directly), `bunNodeHttp` (the engine over
  // Bun's node:http), `bunListenRaw` and `bunListenLean` only when BENCH_SERVERS names it.
  const defaults = SERVER_NAMES.filter((n) =>
    !["bunListen", "bunNodeHttp", "bunListenRaw", "bunListenLean"].includes(n) &&
    (!["base", "bunBase", "bunWsxBase"].includes(n) || env.BENCH_BASE)
  );
  const servers = list(env, "BENCH_SERVERS", SERVER_NAMES, defaults)
    .filter((n) => runtimes.includes(SERVERS[n].runtime));
  const rounds = positive(env, "BENCH_ROUNDS", 5, true);
  const explicitRounds = env.BENCH_ROUNDS !== undefined && env.BENCH_ROUNDS !== "";
  return Object.freeze({
    rounds,
    // Latency is judged over at least 7 rounds unless BENCH_ROUNDS asks for another count.
    latencyRounds: explicitRounds ? rounds : 7,
    // Each hold round starts a fresh process and opens 10,000 connections per server;
    // memory is nearly deterministic.
    holdRounds: Math.min(rounds, 3),
    seconds: positive(env, "BENCH_SECONDS", 1.5, false),
    warmupSeconds: positive(env, "BENCH_WARMUP", 0.25, false),
    latencySeconds: positive(env, "BENCH_LATENCY_SECONDS", 3, false),
    holdConnections: positive(env, "BENCH_HOLD_CONNS", 10_000, true),
    broadcastMessages: positive(env, "BENCH_BROADCAST_MSGS", 200, true),
    scenarios,
    runtimes,
    servers,
    // Server names whose child process runs with --cpu-prof (profiles in bench/results/profiles/).
    cpuProfile: (env.BENCH_CPU_PROF ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  });
}

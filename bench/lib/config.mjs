// The run's settings, read once from the environment.

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

/**
 * @param {Record<string, string | undefined>} env
 * @param {string[]} scenarioIds every scenario the runner knows
 */
export function readConfig(env, scenarioIds) {
  const only = (env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of only) {
    if (!scenarioIds.includes(id)) {
      throw new RangeError(
        `Invalid "BENCH_ONLY": unknown scenario "${id}", expected some of ${
          scenarioIds.join(", ")
        }`,
      );
    }
  }
  const rounds = positive(env, "BENCH_ROUNDS", 5, true);
  return Object.freeze({
    rounds,
    // Memory is nearly deterministic and each round opens 10,000 connections per server.
    memoryRounds: Math.min(rounds, 3),
    seconds: positive(env, "BENCH_SECONDS", 1.5, false),
    warmupSeconds: positive(env, "BENCH_WARMUP", 0.25, false),
    latencyMessages: positive(env, "BENCH_LATENCY_MSGS", 20_000, true),
    memoryConnections: positive(env, "BENCH_MEM_CONNS", 10_000, true),
    scenarios: only.length > 0 ? only : scenarioIds,
    // Server names whose child process runs with --cpu-prof (profiles in bench/results/profiles/).
    cpuProfile: (env.BENCH_CPU_PROF ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  });
}

// The servers of the benchmark: which runtime runs which file, how each is labelled, and
// the pairs whose per-round ratios the report shows.

import { join } from "node:path";
import { ROOT } from "./children.mjs";

const bin = (name) => join(ROOT, "node_modules", ".bin", name);

// How each runtime starts a server file with a full GC available to the control channel.
const RUNTIMES = Object.freeze({
  node: (file, profileDir) => [
    process.execPath,
    [
      "--expose-gc",
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      // Finer sampling (microseconds; 1000 by default) for short runs such as `hold`.
      ...(profileDir && process.env.BENCH_CPU_PROF_INTERVAL
        ? [`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL}`]
        : []),
      "--import",
      "tsx",
      file,
    ],
  ],
  deno: (file) => [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", file]],
  bun: (file, profileDir) => [
    bin("bun"),
    [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), "run", file],
  ],
});

/**
 * Every server, in report order. `raw` servers speak plain TCP (no WebSocket), `env` is
 * added to the child's environment.
 */
export const SERVERS = Object.freeze({
  wsx: { runtime: "node", label: "wsx Node", file: "bench/servers/wsx.ts" },
  ws: { runtime: "node", label: "ws", file: "bench/servers/ws.ts" },
  raw: { runtime: "node", label: "raw TCP", file: "bench/servers/raw_tcp.ts", raw: true },
  deno: { runtime: "deno", label: "wsx Deno", file: "bench/servers/wsx.ts" },
  denoNative: { runtime: "deno", label: "Deno native", file: "bench/servers/deno_native.ts" },
  bunEngine: {
    runtime: "bun",
    label: "wsx Bun engine",
    file: "bench/servers/wsx.ts",
    env: { WSX_TRANSPORT: "engine" },
  },
  // The engine over Bun's node:http: what `transport: "engine"` ran on Bun before Bun.listen.
  bunNodeHttp: {
    runtime: "bun",
    label: "wsx Bun engine on node:http",
    file: "bench/servers/wsx.ts",
    env: { WSX_TRANSPORT: "nodehttp" },
  },
  bunListen: {
    runtime: "bun",
    label: "wsx Bun engine on Bun.listen",
    file: "bench/servers/wsx.ts",
    env: { WSX_TRANSPORT: "listen" },
  },
  // The floor of the above: a bare Bun.listen socket answering a valid 101.
  bunListenRaw: {
    runtime: "bun",
    label: "Bun.listen raw",
    file: "bench/servers/bun_listen_raw.ts",
    raw: true,
  },
  // An experiment between the two: the engine and driver started with no upgrade path.
  bunListenLean: {
    runtime: "bun",
    label: "wsx engine on Bun.listen, no upgrade path",
    file: "bench/servers/bun_listen_lean.ts",
  },
  bunWsx: {
    runtime: "bun",
    label: "wsx Bun native",
    file: "bench/servers/wsx.ts",
    env: { WSX_TRANSPORT: "native" },
  },
  bunNative: { runtime: "bun", label: "Bun native", file: "bench/servers/bun_native.ts" },
  // wsx's native transport on Bun in another checkout (BENCH_BASE), for before/after.
  bunWsxBase: {
    runtime: "bun",
    label: "wsx Bun native (BENCH_BASE)",
    file: join(process.env.BENCH_BASE ?? ROOT, "bench/servers/wsx.ts"),
    env: { WSX_TRANSPORT: "native" },
  },
  // Another version of wsx on Node, for before/after in one interleaved run: BENCH_BASE is
  // the root of a checkout of it (`git worktree add /tmp/base <commit>`).
  base: {
    runtime: "node",
    label: "wsx Node (BENCH_BASE)",
    file: join(process.env.BENCH_BASE ?? ROOT, "bench/servers/wsx.ts"),
  },
  // The same for wsx's engine on Bun.
  bunBase: {
    runtime: "bun",
    label: "wsx Bun engine (BENCH_BASE)",
    file: join(process.env.BENCH_BASE ?? ROOT, "bench/servers/wsx.ts"),
    env: { WSX_TRANSPORT: "engine" },
  },
  // The engine on Bun.listen in another checkout (BENCH_BASE), for before/after.
  bunListenBase: {
    runtime: "bun",
    label: "wsx Bun engine on Bun.listen (BENCH_BASE)",
    file: join(process.env.BENCH_BASE ?? ROOT, "bench/servers/wsx.ts"),
    env: { WSX_TRANSPORT: "listen" },
  },
});

export const SERVER_NAMES = Object.freeze(Object.keys(SERVERS));
export const WS_SERVERS = Object.freeze(SERVER_NAMES.filter((n) => !SERVERS[n].raw));

/** The command line of a server: [command, args, env]. */
export function serverCommand(name, profileDir) {
  const s = SERVERS[name];
  const [command, args] = RUNTIMES[s.runtime](s.file, profileDir);
  return [command, args, s.env ?? {}];
}

/** Ratios the report shows, a/b per round: each runtime's wsx against its peer. */
export const PAIRS = Object.freeze([
  ["wsx", "ws"],
  ["wsx", "bunNative"],
  ["wsx", "raw"],
  ["wsx", "base"],
  ["deno", "denoNative"],
  ["bunEngine", "bunNative"],
  ["bunEngine", "bunBase"],
  ["bunListen", "bunNative"],
  ["bunEngine", "bunNodeHttp"],
  ["bunNodeHttp", "bunNative"],
  ["bunListen", "bunListenBase"],
  ["bunListenBase", "bunNative"],
  ["bunBase", "bunNative"],
  ["bunWsx", "bunNative"],
  ["bunWsx", "bunWsxBase"],
]);

export const label = (name) => SERVERS[name]?.label ?? name;

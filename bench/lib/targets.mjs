// The project's targets for the benchmark (PASS/FAIL, or SKIP when not measured), from
// the issues that set them. None fails the run.

import { fmt, NAMES, ratio, spread } from "./format.mjs";

const KIB = 1024;

// A ratio target: `a`/`b` per round, judged on the median, at least or at most `limit`.
const vs = (label, scenario, metric, a, b, bound, limit, source) => ({
  label,
  scenario,
  metric,
  pair: [a, b],
  [bound]: limit,
  source,
});

/** The targets the project set (source: the issue); a verdict never fails the run. */
export const TARGETS = [
  vs("Node: 32 B pipelined echo >= 8x ws", "echo32", "msgs_per_s", "wsx", "ws", "atLeast", 8),
  vs("Node: 4 KiB pipelined echo >= 3x ws", "echo4k", "msgs_per_s", "wsx", "ws", "atLeast", 3),
  vs("Node: one in flight >= 1.3x ws", "inflight1", "msgs_per_s", "wsx", "ws", "atLeast", 1.3),
  vs("Node: handshake churn >= 1.2x ws", "handshake", "per_s", "wsx", "ws", "atLeast", 1.2),
  {
    label: `Node: idle JS heap <= 1.5 KiB (${1.5 * KIB} B) per connection`,
    scenario: "hold",
    metric: "heap_per_conn",
    server: "wsx",
    atMost: 1.5 * KIB,
  },
  // Issue 11: Deno's default serve() (the engine) against Deno's own server.
  ...[["echo32", "32 B", 15], ["echo4k", "4 KiB", 3]].map(([id, size, n]) =>
    vs(
      `Deno: ${size} pipelined echo >= ${n}x Deno native`,
      id,
      "msgs_per_s",
      "deno",
      "denoNative",
      "atLeast",
      n,
      "#11",
    )
  ),
  // Issue 14.
  ...[["echo32", "32 B"], ["echo4k", "4 KiB"]].map(([id, size]) =>
    vs(
      `Node: ${size} pipelined echo >= 1.0x Bun native`,
      id,
      "msgs_per_s",
      "wsx",
      "bunNative",
      "atLeast",
      1,
      "#14",
    )
  ),
  vs(
    "Node: 64 KiB pipelined echo >= 1.5x ws",
    "echo64k",
    "msgs_per_s",
    "wsx",
    "ws",
    "atLeast",
    1.5,
    "#14",
  ),
  ...["p50_us", "p99_us"].flatMap((q) => [
    vs(`Node: latency ${q.slice(0, 3)} <= 1.0x ws`, "latency", q, "wsx", "ws", "atMost", 1, "#14"),
    vs(
      `Node: latency ${q.slice(0, 3)} <= 1.1x raw TCP`,
      "latency",
      q,
      "wsx",
      "raw",
      "atMost",
      1.1,
      "#14",
    ),
  ]),
  vs(
    "Node: handshakes (10,000 held) >= 1.3x ws",
    "hold",
    "per_s",
    "wsx",
    "ws",
    "atLeast",
    1.3,
    "#14",
  ),
  vs("Node: idle RSS <= 0.8x ws", "hold", "rss_per_conn", "wsx", "ws", "atMost", 0.8, "#14"),
  vs(
    "Bun engine: 32 B echo >= 1.0x Bun native",
    "echo32",
    "msgs_per_s",
    "bunEngine",
    "bunNative",
    "atLeast",
    1,
    "#14",
  ),
  vs(
    "Bun engine: broadcast >= 1.0x Bun native",
    "broadcast",
    "deliveries_per_s",
    "bunEngine",
    "bunNative",
    "atLeast",
    1,
    "#14",
  ),
  vs(
    "Bun engine: handshakes (10,000 held) >= 0.9x Bun native",
    "hold",
    "per_s",
    "bunEngine",
    "bunNative",
    "atLeast",
    0.9,
    "#14",
  ),
  vs(
    "Bun engine: idle RSS <= 1.3x Bun native",
    "hold",
    "rss_per_conn",
    "bunEngine",
    "bunNative",
    "atMost",
    1.3,
    "#14",
  ),
  vs(
    "Bun wsx native: 32 B echo >= 0.95x Bun native",
    "echo32",
    "msgs_per_s",
    "bunWsx",
    "bunNative",
    "atLeast",
    0.95,
    "#14",
  ),
  vs(
    "Bun wsx native: handshakes (10,000 held) >= 0.9x Bun native",
    "hold",
    "per_s",
    "bunWsx",
    "bunNative",
    "atLeast",
    0.9,
    "#14",
  ),
];

function find(results, scenario, metric) {
  return results.find((r) => r.id === scenario)?.metrics.find((m) => m.key === metric);
}

function absolute(t, m) {
  const s = m?.perServer[t.server];
  if (!s) return { ...t, status: "SKIP", detail: "not measured" };
  const ws = m.perServer.ws ? `; ws ${fmt(m.perServer.ws.median, 0)} B` : "";
  return {
    ...t,
    status: s.median <= t.atMost ? "PASS" : "FAIL",
    detail: `${NAMES[t.server]} ${fmt(s.median, 0)} B (${spread(s, 0)})${ws}`,
  };
}

/** PASS/FAIL (or SKIP when not measured) for each target, from the median ratios. */
export function verdicts(results) {
  return TARGETS.map((t) => {
    const m = find(results, t.scenario, t.metric);
    if (t.server) return absolute(t, m);
    const [a, b] = t.pair;
    const r = m?.ratios[`${a}/${b}`];
    if (!r) return { ...t, status: "SKIP", detail: "not measured" };
    const ok = t.atLeast !== undefined ? r.median >= t.atLeast : r.median <= t.atMost;
    let detail = `${NAMES[a]} / ${NAMES[b]} ${ratio(r)}`;
    // A target above the socket floor cannot be met by any server on node:net.
    const raw = m.perServer.raw?.median, other = m.perServer[b]?.median;
    if (a === "wsx" && t.atLeast !== undefined && raw && other && raw / other < t.atLeast) {
      detail += `; even the raw TCP echo is only ${(raw / other).toFixed(2)}x ${NAMES[b]} here`;
    }
    if (t.source) detail += ` (${t.source})`;
    return { ...t, status: ok ? "PASS" : "FAIL", detail };
  });
}

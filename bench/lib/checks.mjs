// The verdicts of a run: the project's targets (PASS/FAIL), whether the load generator
// could be the limit, and how much other load the machine carried. None fails the run.

import { fmt, NAMES, pct, ratio, spread } from "./format.mjs";

const KIB = 1024;

/** The targets the project set; a verdict never fails the run. */
export const TARGETS = [
  {
    label: "32 B pipelined echo >= 8x ws",
    scenario: "echo32",
    metric: "msgs_per_s",
    vs: "ws",
    atLeast: 8,
  },
  {
    label: "4 KiB pipelined echo >= 3x ws",
    scenario: "echo4k",
    metric: "msgs_per_s",
    vs: "ws",
    atLeast: 3,
  },
  {
    label: "one in flight >= 1.3x ws",
    scenario: "inflight1",
    metric: "msgs_per_s",
    vs: "ws",
    atLeast: 1.3,
  },
  {
    label: `idle JS heap <= 1.5 KiB (${1.5 * KIB} B) per connection`,
    scenario: "memory",
    metric: "heap_per_conn",
    atMost: 1.5 * KIB,
  },
  {
    label: "idle RSS per connection below ws",
    scenario: "memory",
    metric: "rss_per_conn",
    vs: "ws",
    below: 1,
  },
  {
    label: "handshakes/s >= 1.2x ws",
    scenario: "handshake",
    metric: "per_s",
    vs: "ws",
    atLeast: 1.2,
  },
];

function find(results, scenario, metric) {
  return results.find((r) => r.id === scenario)?.metrics.find((m) => m.key === metric);
}

/** PASS/FAIL (or SKIP when not measured) for each target, from the medians. */
export function verdicts(results) {
  return TARGETS.map((t) => {
    const m = find(results, t.scenario, t.metric);
    if (t.atMost !== undefined) {
      const s = m?.perServer.wsx;
      if (!s) return { ...t, status: "SKIP", detail: "not measured" };
      const ws = m.perServer.ws ? `; ws ${fmt(m.perServer.ws.median, 0)} B` : "";
      return {
        ...t,
        status: s.median <= t.atMost ? "PASS" : "FAIL",
        detail: `wsx ${fmt(s.median, 0)} B (${spread(s, 0)})${ws}`,
      };
    }
    const r = m?.ratios[t.vs];
    if (!r) return { ...t, status: "SKIP", detail: "not measured" };
    const ok = t.atLeast !== undefined ? r.median >= t.atLeast : r.median < t.below;
    let detail = `wsx/${t.vs} ${ratio(r)}`;
    // A target above the socket floor cannot be met by any server on node:net.
    const raw = m.perServer.raw?.median, other = m.perServer[t.vs]?.median;
    if (t.atLeast !== undefined && raw && other && raw / other < t.atLeast) {
      detail += `; even the raw TCP echo is only ${(raw / other).toFixed(2)}x ${t.vs} here`;
    }
    return { ...t, status: ok ? "PASS" : "FAIL", detail };
  });
}

/**
 * Whether the load generator, not the server, could be the limit: with a deep pipeline
 * it must drive the raw TCP echo well past the fastest WebSocket server, and in every
 * echo run it must have CPU to spare.
 */
export function clientCheck(results) {
  const lines = [];
  const echo32 = results.find((x) => x.id === "echo32")?.metrics[0];
  const capacity = results.find((x) => x.id === "client");
  const best = Math.max(echo32?.perServer.wsx?.median ?? 0, echo32?.perServer.ws?.median ?? 0);
  const reach = capacity?.metrics[0].perServer.raw?.median;
  if (reach && best > 0) {
    const headroom = reach / best;
    const cpu = pct(capacity.cpu.raw?.client);
    lines.push(
      headroom >= 1.5
        ? {
          status: "OK",
          text: `the client drives ${
            fmt(reach, 0)
          } msg/s (raw TCP, 32 B, 1024 in flight, client CPU ${cpu}): ${
            headroom.toFixed(1)
          }x the fastest WebSocket server at 32 B`,
        }
        : {
          status: "WARN",
          text: `the client reaches only ${fmt(reach, 0)} msg/s, ${
            headroom.toFixed(2)
          }x the fastest WebSocket server at 32 B: the client may be the bottleneck`,
        },
    );
  }
  if (echo32?.perServer.raw && best > 0) {
    lines.push({
      status: "INFO",
      text:
        `at 64 x 64 in flight the raw TCP echo is ${
          (echo32.perServer.raw.median / best).toFixed(2)
        }x the fastest ` +
        `WebSocket server: at that depth raw TCP is bound by round trips, not CPU (see the CPU lines)`,
    });
  }
  for (const r of results.filter((x) => x.id.startsWith("echo") || x.id === "inflight1")) {
    const busiest = Math.max(...Object.values(r.cpu).map((c) => c.client ?? 0));
    const servers = Object.entries(r.cpu).map(([n, c]) => `${NAMES[n]} ${pct(c.server)}`).join(
      ", ",
    );
    lines.push({
      status: busiest < 0.9 ? "OK" : "WARN",
      text: `${r.title}: client CPU at most ${pct(busiest)} (servers: ${servers})` +
        (busiest < 0.9 ? "" : " - the client is near saturation"),
    });
  }
  return lines;
}

/** The most CPU other processes used during any measurement (in cores), and a verdict. */
export function otherLoad(results) {
  const worst = Math.max(
    0,
    ...results.flatMap((r) => Object.values(r.cpu).map((c) => c.other ?? 0)),
  );
  const quiet = worst < 0.1;
  return {
    worst,
    text: quiet
      ? `other load on the machine stayed under ${pct(worst)} of a core`
      : `other processes used up to ${
        pct(worst)
      } of a core during a measurement: figures are noisier than on a quiet machine`,
    status: quiet ? "OK" : "WARN",
  };
}

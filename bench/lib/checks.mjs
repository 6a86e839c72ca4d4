// Whether the load generator could be the limit, and how much other load the machine
// carried. The targets' verdicts are in targets.mjs.

import { fmt, NAMES, pct } from "./format.mjs";

/**
 * Whether the load generator, not the server, could be the limit: with a deep pipeline
 * it must drive the raw TCP echo well past the fastest WebSocket server, and in every
 * echo run it must have CPU to spare.
 */
export function clientCheck(results) {
  const lines = [];
  const echo32 = results.find((x) => x.id === "echo32")?.metrics[0];
  const capacity = results.find((x) => x.id === "client");
  const best = Math.max(
    0,
    ...Object.entries(echo32?.perServer ?? {}).filter(([n]) => n !== "raw").map(([, s]) =>
      s?.median ?? 0
    ),
  );
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
  for (
    const r of results.filter((x) =>
      x.id.startsWith("echo") || ["inflight1", "hold"].includes(x.id)
    )
  ) {
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

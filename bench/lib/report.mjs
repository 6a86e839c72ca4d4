// Turns the per-round measurements into summaries, a text table for the terminal and a
// Markdown report.

import { clientCheck, otherLoad, verdicts } from "./checks.mjs";
import { fmt, NAMES, pct, ratio, spread } from "./format.mjs";
import { roundRatios, summarize } from "./stats.mjs";

/** Summaries of one scenario's rounds: per server, per metric, and wsx's per-round ratios. */
export function summarizeScenario(scenario, rounds) {
  const problems = [];
  for (const [name, list] of Object.entries(rounds)) {
    list.forEach((m, i) => {
      if (m.error) problems.push(`round ${i + 1}, ${name}: ${m.error}`);
      for (const p of m.problems ?? []) problems.push(`round ${i + 1}, ${name}: ${p}`);
    });
  }
  const values = (name, key) => rounds[name].map((m) => m.metrics?.[key] ?? null);
  const metrics = scenario.metrics.map((metric) => {
    const perServer = {};
    const ratios = {};
    for (const name of scenario.servers) perServer[name] = summarize(values(name, metric.key));
    for (
      const other of scenario.servers.filter((n) => n !== "wsx" && scenario.servers.includes("wsx"))
    ) {
      ratios[other] = summarize(roundRatios(values("wsx", metric.key), values(other, metric.key)));
    }
    return { ...metric, perServer, ratios };
  });
  const cpu = {};
  for (const name of scenario.servers) {
    const server = summarize(rounds[name].map((m) => m.cpu?.server));
    const client = summarize(rounds[name].map((m) => m.cpu?.client));
    const other = summarize(rounds[name].map((m) => m.cpu?.other));
    if (server || client) {
      cpu[name] = {
        server: server?.median ?? null,
        client: client?.median ?? null,
        other: other?.max ?? null,
      };
    }
  }
  return {
    id: scenario.id,
    title: scenario.title,
    servers: scenario.servers,
    metrics,
    cpu,
    problems,
    rounds,
  };
}

// Rows shared by the text and Markdown tables.
function rows(results) {
  const out = [];
  for (const r of results) {
    for (const m of r.metrics) {
      const arrow = m.better === "higher" ? "(higher is better)" : "(lower is better)";
      out.push({
        scenario: r.title,
        metric: `${m.label} ${arrow}`,
        values: Object.fromEntries(["wsx", "ws", "raw"].map((n) => [n, m.perServer[n]])),
        digits: m.digits,
        vsWs: m.ratios.ws,
        vsRaw: m.ratios.raw,
      });
    }
  }
  return out;
}

/** The table for the terminal. */
export function textTable(results) {
  const head = ["scenario", "metric", "wsx", "ws", "raw TCP", "wsx/ws median (min-max)", "wsx/raw"];
  const body = rows(results).map((row) => [
    row.scenario,
    row.metric,
    ...["wsx", "ws", "raw"].map((n) => fmt(row.values[n]?.median, row.digits)),
    ratio(row.vsWs),
    ratio(row.vsRaw),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** CPU use per scenario and server (medians), to show where the limit is. */
export function cpuLines(results) {
  return results.filter((r) => Object.keys(r.cpu).length > 0).map((r) => {
    const other = Math.max(...Object.values(r.cpu).map((c) => c.other ?? 0));
    return `${r.title}: ` +
      Object.entries(r.cpu).map(([n, c]) =>
        `${NAMES[n]} server ${pct(c.server)} / client ${pct(c.client)}`
      ).join(", ") +
      `; other load up to ${pct(other)}`;
  });
}

/** The whole report as Markdown. */
export function markdown(results, env, config, problems) {
  const md = [];
  md.push(`# wsx benchmark, ${env.date}`, "");
  md.push(
    `${env.cpu}, ${env.cores} cores, Linux ${env.kernel}, Node.js ${env.node}, ws ${env.ws} ` +
      `(bufferutil: ${env.bufferutil}), load generator: \`${env.compiler}\` -O2.`,
    "",
  );
  md.push(
    `${config.rounds} rounds (memory: ${config.memoryRounds}), ${config.seconds} s per measurement ` +
      `after ${config.warmupSeconds} s warm-up, servers interleaved (A B C, C B A, ...). ` +
      `Values are medians over the rounds; ratios are the median and spread (min-max) of the per-round ratios.`,
    "",
  );
  md.push(
    "| scenario | metric | wsx | ws | raw TCP | wsx/ws | wsx/raw TCP |",
    "|---|---|--:|--:|--:|--:|--:|",
  );
  for (const row of rows(results)) {
    const cell = (s) => s ? `${fmt(s.median, row.digits)} (${spread(s, row.digits)})` : "-";
    md.push(
      `| ${row.scenario} | ${row.metric} | ${cell(row.values.wsx)} | ${cell(row.values.ws)} | ` +
        `${cell(row.values.raw)} | ${ratio(row.vsWs)} | ${ratio(row.vsRaw)} |`,
    );
  }
  md.push("", "## Targets", "");
  for (const v of verdicts(results)) md.push(`- **${v.status}** ${v.label}: ${v.detail}`);
  md.push("", "## Is the load generator the limit?", "");
  for (const c of clientCheck(results)) md.push(`- ${c.status}: ${c.text}`);
  md.push("", "CPU use over each measurement (medians; 100% = one core):", "");
  for (const l of cpuLines(results)) md.push(`- ${l}`);
  md.push("", `Other load: ${otherLoad(results).text}.`);
  if (problems.length > 0) {
    md.push("", "## Problems seen", "");
    for (const p of problems) md.push(`- ${p}`);
  }
  return md.join("\n") + "\n";
}

// Turns the per-round measurements into summaries, text tables for the terminal and a
// Markdown report: one table of values (servers as columns) and one of the per-round
// ratios of each runtime's wsx against its peer (bench/lib/servers.mjs PAIRS).

import { clientCheck, otherLoad } from "./checks.mjs";
import { verdicts } from "./targets.mjs";
import { fmt, NAMES, pct, ratio, spread } from "./format.mjs";
import { PAIRS, SERVER_NAMES } from "./servers.mjs";
import { roundRatios, summarize } from "./stats.mjs";

const pairKey = ([a, b]) => `${a}/${b}`;

/** Summaries of one scenario's rounds: per server, per metric, and the pairs' per-round ratios. */
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
    for (const [a, b] of PAIRS) {
      if (!scenario.servers.includes(a) || !scenario.servers.includes(b)) continue;
      ratios[pairKey([a, b])] = summarize(
        roundRatios(values(a, metric.key), values(b, metric.key)),
      );
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

// The servers and pairs that appear in any result, in catalogue order.
function columns(results) {
  const servers = SERVER_NAMES.filter((n) => results.some((r) => r.servers.includes(n)));
  const pairs = PAIRS.map(pairKey).filter((k) =>
    results.some((r) => r.metrics.some((m) => m.ratios[k]))
  );
  return { servers, pairs };
}

function rows(results) {
  return results.flatMap((r) =>
    r.metrics.map((m) => ({
      scenario: r.title,
      metric: `${m.label} ${m.better === "higher" ? "(higher is better)" : "(lower is better)"}`,
      values: m.perServer,
      ratios: m.ratios,
      digits: m.digits,
    }))
  );
}

const pairName = (key) => key.split("/").map((n) => NAMES[n]).join(" / ");

function aligned(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** The tables for the terminal: medians, then ratios median (min-max). */
export function textTable(results) {
  const { servers, pairs } = columns(results);
  const all = rows(results);
  const values = aligned(
    ["scenario", "metric", ...servers.map((n) => NAMES[n])],
    all.map((row) => [
      row.scenario,
      row.metric,
      ...servers.map((n) => fmt(row.values[n]?.median, row.digits)),
    ]),
  );
  const ratioRows = all.filter((row) => pairs.some((k) => row.ratios[k]));
  const ratios = aligned(
    ["scenario", "metric", ...pairs.map(pairName)],
    ratioRows.map((row) => [row.scenario, row.metric, ...pairs.map((k) => ratio(row.ratios[k]))]),
  );
  return `${values}\n\nRatios per round, median (min-max):\n\n${ratios}`;
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

function markdownTables(results) {
  const { servers, pairs } = columns(results);
  const all = rows(results);
  const md = [];
  md.push(
    `| scenario | metric | ${servers.map((n) => NAMES[n]).join(" | ")} |`,
    `|---|---|${servers.map(() => "--:").join("|")}|`,
  );
  for (const row of all) {
    const cell = (s) => s ? `${fmt(s.median, row.digits)} (${spread(s, row.digits)})` : "-";
    md.push(
      `| ${row.scenario} | ${row.metric} | ${
        servers.map((n) => cell(row.values[n])).join(" | ")
      } |`,
    );
  }
  md.push("", "Ratios per round, median (min-max):", "");
  md.push(
    `| scenario | metric | ${pairs.map(pairName).join(" | ")} |`,
    `|---|---|${pairs.map(() => "--:").join("|")}|`,
  );
  for (const row of all.filter((r) => pairs.some((k) => r.ratios[k]))) {
    md.push(
      `| ${row.scenario} | ${row.metric} | ${pairs.map((k) => ratio(row.ratios[k])).join(" | ")} |`,
    );
  }
  return md;
}

/** The whole report as Markdown. */
export function markdown(results, env, config, problems) {
  const md = [];
  md.push(`# wsx benchmark, ${env.date}`, "");
  md.push(
    `${env.cpu}, ${env.cores} cores, Linux ${env.kernel}, ${
      Object.values(env.runtimes).join(", ")
    }, ws ${env.ws} (bufferutil: ${env.bufferutil}), load generator: \`${env.compiler}\` -O2.`,
    "",
  );
  md.push(
    `${config.rounds} rounds (latency: ${config.latencyRounds}, hold: ${config.holdRounds}), ` +
      `${config.seconds} s per measurement after ${config.warmupSeconds} s warm-up ` +
      `(latency: ${config.latencySeconds} s), servers interleaved (A B C, C B A, ...). ` +
      `Values are medians over the rounds with their spread (min-max); ratios are the median ` +
      `and spread of the per-round ratios.`,
    "",
  );
  md.push(...markdownTables(results));
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

// Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`),
// as a share of the busy time ("(idle)" left out), e.g. the wsx server's under
// BENCH_CPU_PROF=wsx (the main thread's profile is the larger file):
//   node bench/profile_top.mjs bench/results/profiles/CPU.*.cpuprofile [count]

import { readFileSync } from "node:fs";
import { relative } from "node:path";

const [file, countArg = "25"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/profile_top.mjs FILE.cpuprofile [count]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// Self time of each node: the sampling intervals attributed to it.
const self = new Map();
profile.samples.forEach((id, i) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
);

const totals = new Map();
let all = 0;
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const where = url
    ? `${relative(process.cwd(), url.replace(/^file:\/\//, ""))}:${lineNumber + 1}`
    : "";
  const key = `${functionName || "(anonymous)"}  ${where}`.trim();
  if (key === "(idle)") continue;
  totals.set(key, (totals.get(key) ?? 0) + us);
  all += us;
}
const top = [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg));
console.log(`${(all / 1e6).toFixed(2)} s busy (self time, idle left out)`);
for (const [key, us] of top) console.log(`${((100 * us) / all).toFixed(1).padStart(5)}%  ${key}`);

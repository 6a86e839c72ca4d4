// Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`),
// as a share of the busy time ("(idle)" left out), e.g. the wsx server's under
// BENCH_CPU_PROF=wsx (the main thread's profile is the larger file):
//   node bench/profile_top.mjs bench/results/profiles/CPU.*.cpuprofile [count] [--busiest S]
// --busiest S keeps only the S seconds with the most busy samples; --between NAME only
// the longest stretch between two samples in function NAME (bench/profile_hold.mjs
// --cpu-prof: `--between profileMark` is the handshakes alone, without the server's
// start, its forced GCs and its shutdown).

import { readFileSync } from "node:fs";
import { relative } from "node:path";

const args = process.argv.slice(2);
const busiestAt = args.indexOf("--busiest");
const busiest = busiestAt < 0 ? undefined : Number(args.splice(busiestAt, 2)[1]) * 1e6;
const betweenAt = args.indexOf("--between");
const between = betweenAt < 0 ? undefined : args.splice(betweenAt, 2)[1];
const [file, countArg = "25"] = args;
if (!file) {
  console.error("usage: node bench/profile_top.mjs FILE.cpuprofile [count]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

// When each sample was taken, and whether it was busy.
const times = [];
let now = 0;
for (const delta of profile.timeDeltas) times.push(now += delta);
const idle = (id) => byId.get(id).callFrame.functionName === "(idle)";

// The window of `busiest` microseconds holding the most busy time (two pointers).
let from = -Infinity, to = Infinity;
if (busiest !== undefined) {
  let best = -1, sum = 0, start = 0;
  for (let end = 0; end < times.length; end++) {
    if (!idle(profile.samples[end])) sum += profile.timeDeltas[end];
    while (times[end] - times[start] > busiest) {
      if (!idle(profile.samples[start])) sum -= profile.timeDeltas[start];
      start++;
    }
    if (sum > best) [best, from, to] = [sum, times[start], times[end]];
  }
}

if (between !== undefined) {
  const marks = times.filter((_, i) =>
    byId.get(profile.samples[i]).callFrame.functionName === between
  );
  for (let i = 1; i < marks.length; i++) {
    if (marks[i] - marks[i - 1] > to - from || !Number.isFinite(to - from)) {
      [from, to] = [marks[i - 1] + 1, marks[i] - 1];
    }
  }
  console.log(`window: ${((to - from) / 1e6).toFixed(2)} s between samples in ${between}`);
}

// Self time of each node: the sampling intervals attributed to it.
const self = new Map();
profile.samples.forEach((id, i) => {
  if (times[i] < from || times[i] > to) return;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

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

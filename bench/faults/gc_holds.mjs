// Matches the loop holds of a Deno sweep server with V8's collections, which Deno does not
// report to the server's probe. Input: what `sweeps.mjs` wrote to stderr when run with
// SWEEP_DENO_ARGS="--v8-flags=--trace-gc" (one server per run, in order).
//
// Usage: SWEEP_DENO_ARGS="--v8-flags=--trace-gc" SWEEP_RUNTIMES=deno:native \
//          node bench/faults/sweeps.mjs 2000 2> gc.log; node bench/faults/gc_holds.mjs gc.log
// Prints, for each hold over 5 ms, the collections that ended within 40 ms of it (V8 times
// them from the isolate's start, a few milliseconds after the process's time origin).
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2], "utf8");
const GC =
  /\[(\d+):0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?(?: \([a-z]+\))?) [0-9.]+ \([0-9.]+\) -> [^,]*, (?:pooled: [0-9.]+ MB, )?([0-9.]+) \/ [0-9.]+ ms/g;
const byPid = new Map();
for (const m of text.matchAll(GC)) {
  const pid = Number(m[1]);
  if (!byPid.has(pid)) byPid.set(pid, []);
  byPid.get(pid).push({ at: Number(m[2]), kind: m[3], ms: Number(m[4]) });
}
const runs = text.split("\n").filter((l) => l.startsWith("holds ")).map((l) =>
  JSON.parse(l.slice(6))
);
const pids = [...byPid.keys()]; // in the order their first collection was printed
runs.forEach((run, i) => {
  const gcs = byPid.get(pids[i]) ?? [];
  const rel = (t) => Math.round(t - run.timeOrigin);
  const windows = Object.fromEntries(
    Object.entries(run.windows).map(([k, [a, b]]) => [k, [rel(a), rel(b)]]),
  );
  console.log(
    `run ${i + 1}: ${gcs.length} collections; windows (ms after start) ${JSON.stringify(windows)}`,
  );
  for (const [at, held] of run.holds.filter(([, held]) => held > 5)) {
    const near = gcs.filter((g) => Math.abs(g.at - rel(at)) < 40).map((g) =>
      `${g.kind} ${g.ms} ms at ${g.at}`
    );
    console.log(`  hold ${held} ms at ${rel(at)}: ${near.join("; ") || "no collection near it"}`);
  }
});

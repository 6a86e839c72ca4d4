// The server's CPU per handshake while it opens and holds connections (the `hold`
// scenario, fresh server), split by thread: the JavaScript thread, the JIT's compiler
// threads, the garbage collector's, the rest. On Bun a fresh server also pays for its
// JIT compiling the handshake path during the burst, which a profile of the main
// thread does not show:
//   node bench/hold_threads.mjs NAME [NAME...] [--rounds 3] [--warm N]
// (servers of bench/lib/servers.mjs, run in turn, round by round). --warm N opens and
// releases 10,000 connections N times first, then measures the next 10,000 on the same
// server: what a server that has run a while pays (its JIT done).
import { readdirSync, readFileSync } from "node:fs";
import { buildLoadgen } from "./lib/build.mjs";
import { holdConnections, ServerProcess } from "./lib/procs.mjs";

const args = process.argv.slice(2);
const at = args.indexOf("--rounds");
const rounds = at < 0 ? 3 : Number(args.splice(at, 2)[1]);
const warmAt = args.indexOf("--warm");
const warm = warmAt < 0 ? 0 : Number(args.splice(warmAt, 2)[1]);
const names = args;
const TICK_US = 1e6 / 100; // USER_HZ

// CPU ticks by thread group (the thread's name, numbers dropped).
function threads(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const group = Number(tid) === pid
        ? "main"
        : /JIT/i.test(name)
        ? "jit"
        : /Heap|Collector|GC/i.test(name)
        ? "gc"
        : "other";
      out[group] = (out[group] ?? 0) + Number(fields[11]) + Number(fields[12]);
    } catch { /* the thread ended */ }
  }
  return out;
}

const { binary } = buildLoadgen();
for (let r = 0; r < rounds; r++) {
  for (const name of names) {
    const server = await ServerProcess.start(name);
    for (let w = 0; w < warm; w++) {
      const first = await holdConnections(binary, server.port, 10_000, 120_000, {
        raw: false,
        concurrency: 128,
      });
      await first.release();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await server.waitQuiet();
    const pid = server.child.pid, before = threads(pid);
    const held = await holdConnections(binary, server.port, 10_000, 120_000, {
      raw: false,
      concurrency: 128,
    });
    const after = threads(pid), open = held.ready.open;
    const per = (g) => (((after[g] ?? 0) - (before[g] ?? 0)) * TICK_US / open).toFixed(1);
    const groups = ["main", "jit", "gc", "other"];
    const total = groups.reduce((sum, g) => sum + Number(per(g)), 0).toFixed(1);
    console.log(
      `${name.padEnd(14)} ${warm ? `after ${warm}x10,000 ` : ""}us/handshake: total ${total}, ` +
        groups.map((g) => `${g} ${per(g)}`).join(", "),
    );
    await held.release();
    await server.stop();
  }
}

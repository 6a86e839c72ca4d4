// Sweeps of many connections falling due at once: the longest hold of the server's event
// loop while the heartbeat pings and then cuts N silent peers, and while the close timeout
// cuts N peers that never answer the server's close frame, on each runtime.
//
// Usage: node bench/faults/sweeps.mjs [N=10000] [root=.]
//   root: the checkout whose src/ the server loads (to compare two versions).
//   SWEEP_RUNTIMES=node,deno,deno:native,bun,bun:native  runtimes and transports (default
//     node; `name:transport` picks the transport, the runtime's default (the engine, on Bun
//     too since it became Bun's default) otherwise;
//     `node:net`, `deno:net`, `bun:net`: the floor, sweep_floor.ts, a bare node:net
//     server pinging and cutting on wsx's own wheels; `bun:listen`: the engine on
//     Bun.listen, `serveListen()`)
//   SWEEP_TRACE=1       the server writes a `trace` line to stderr for each hold over
//     SWEEP_TRACE_MS (4): what ran in it, measured in the server (sweep_trace.ts)
//   SWEEP_RUNS=3        runs of each, interleaved
//   SWEEP_ONLY=heartbeat|closes   one scenario
//   SWEEP_NODE_ARGS="--cpu-prof"  more flags for a Node.js server (say, --trace-gc)
//   SWEEP_DENO_ARGS="--v8-flags=--trace-gc"  the same for a Deno server; Deno reports no
//     collections to the server's probe, so with it the runner prints each run's holds
//     (`holds` lines) and bench/faults/gc_holds.mjs matches them with the collections
// Peers are raw TCP sockets that do the handshake by hand: they read and drop what
// arrives and never answer a ping or a close frame. Bounded: every wait has a deadline.
//
// The server reports every hold of its loop over 2 ms (sweep_server.ts) with the V8
// collections within it (Node.js only); this runner places each hold among the events
// the peers saw: `sweep` is the holds within 100 ms of the pings, of the ping-timeout cuts
// or of the close-timeout cuts (the peers' first and last), `between` every other hold
// while waiting for them, `quiet` a second with nothing due, before.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";

const N = Number(process.argv[2] ?? 10_000);
const root = resolve(process.argv[3] ?? ".");
const here = fileURLToPath(new URL(".", import.meta.url));
const ROOT = resolve(here, "../..");
const TIMEOUT_S = 20; // long enough to open every peer before the first ping
const CLOSE_TIMEOUT_MS = 5000;
const RUNTIMES = (process.env.SWEEP_RUNTIMES ?? "node").split(",");
const RUNS = Number(process.env.SWEEP_RUNS ?? 1);
const nodeArgs = (process.env.SWEEP_NODE_ARGS ?? "").split(" ").filter(Boolean);
const denoArgs = (process.env.SWEEP_DENO_ARGS ?? "").split(" ").filter(Boolean);
const only = process.env.SWEEP_ONLY;
const bin = (name) => join(ROOT, "node_modules", ".bin", name);
const SERVER = `${here}sweep_server.ts`;
const COMMANDS = {
  node: () => [process.execPath, [...nodeArgs, "--import", "tsx", SERVER]],
  deno: () => [bin("deno"), ["run", "-A", ...denoArgs, SERVER]],
  bun: () => [bin("bun"), ["run", SERVER]],
};

function start(runtime) {
  const [name, transport = ""] = runtime.split(":");
  const [command, args] = COMMANDS[name]();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      SWEEP_ROOT: root,
      SWEEP_TRANSPORT: transport === "net" ? "" : transport,
      SWEEP_SERVER: transport === "net" ? "net" : "wsx",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = [];
  let wake = () => {};
  createInterface({ input: child.stdout }).on("line", (line) => {
    // Anything else the server prints (say, `--trace-gc`) goes to stderr.
    if (line === "") return; // the server starts its lines on a line of their own
    if (!/^(ready|lag) /.test(line)) return void console.error(line);
    lines.push(line);
    wake();
  });
  const reply = async (prefix, ms = 30_000) => {
    const until = Date.now() + ms;
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0].slice(prefix.length + 1);
      if (Date.now() > until) throw new Error(`no "${prefix}" line from ${runtime}`);
      await new Promise((r) => (wake = r, setTimeout(r, 50)));
    }
  };
  const send = (line) => child.stdin.write(`${line}\n`);
  const stop = async () => {
    child.stdin.end();
    const exited = new Promise((r) => child.once("exit", r));
    await Promise.race([exited, sleep(5000)]);
    child.kill();
  };
  return { reply, send, stop };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function peer(port) {
  return new Promise((done, fail) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const p = { socket, upgraded: false, closed: false, firstFrameAt: 0, endedAt: 0 };
    socket.on("data", (chunk) => {
      if (!p.upgraded) {
        p.upgraded = chunk.includes("\r\n\r\n");
        // A peer the server did not upgrade would wait for a ping that never comes.
        const status = chunk.toString("latin1", 0, 12);
        if (p.upgraded && status !== "HTTP/1.1 101") fail(new Error(`answered ${status}`));
        if (p.upgraded) done(p);
      } else p.firstFrameAt ||= Date.now();
    });
    socket.on("error", () => {});
    socket.on("close", () => (p.closed = true, p.endedAt = Date.now(), done(p)));
    setTimeout(() => fail(new Error("handshake took over 20 s")), 20_000).unref();
  });
}

// A masked text frame, as clients must send.
function frame(text) {
  const body = Buffer.from(text), mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(body.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | body.length]), mask, masked]);
}

async function openPeers(port) {
  const peers = [];
  for (let i = 0; i < N; i += 200) {
    const batch = Array.from({ length: Math.min(200, N - i) }, () => peer(port));
    peers.push(...await Promise.all(batch));
  }
  if (peers.some((p) => p.closed)) throw new Error("a peer closed during its handshake");
  return peers;
}

async function allGone(peers, ms) {
  const until = Date.now() + ms;
  while (peers.some((p) => !p.closed) && Date.now() < until) await sleep(100);
  return peers.filter((p) => !p.closed).length;
}

// The holds the server saw since its last `lag`, in and out of the sweep's windows (by
// name, each [from, to] in Date.now() time): the longest, the longest less the collections
// in it (the code's own share), the longest with none in it, and how many passed 5 ms.
function sorted(holds, windows) {
  const where = (at) =>
    Object.keys(windows).find((name) => {
      const [from, to] = windows[name];
      return at >= from - 100 && at <= to + 100;
    });
  const sum = (list) => ({
    heldMs: Math.max(0, ...list.map(([, held]) => held)),
    lessGcMs: Math.max(0, ...list.map(([, held, gc]) => Math.max(0, held - gc))),
    noGcMs: Math.max(0, ...list.filter(([, , gc]) => gc === 0).map(([, held]) => held)),
    over5: list.filter(([, held]) => held > 5).length,
    // Each hold over 5 ms: [window, held, ms of collections in it, their kinds].
    top: list.filter(([, held]) => held > 5).map(([at, ...rest]) => [where(at) ?? "-", ...rest]),
  });
  return {
    sweep: sum(holds.filter(([at]) => where(at) !== undefined)),
    between: sum(holds.filter(([at]) => where(at) === undefined)),
  };
}

// Settings apply to connections opened after the server read them: the reply to a `lag`
// sent behind them over the same pipe says they were read. (Peers opened at once raced
// the settings line: on Bun, now and then the first batch of 200 kept the default
// timeout and was pinged only after the runner stopped waiting.)
async function configure(srv, settings) {
  srv.send(`settings ${JSON.stringify(settings)}`);
  await lag(srv);
}

async function lag(srv) {
  srv.send("lag");
  return JSON.parse(await srv.reply("lag"));
}

// The same probe over a second in which nothing is due: the floor on this machine.
async function quietLag(srv) {
  await sleep(500);
  await lag(srv);
  await sleep(1000);
  return sorted((await lag(srv)).holds, {}).between;
}

const span = (times) => (times.length === 0 ? null : [Math.min(...times), Math.max(...times)]);

// The heartbeat: every peer speaks once, in one go, so all fall silent in the same
// second; TIMEOUT_S later they are pinged together, a second after that cut together.
async function heartbeat(srv, port, runtime) {
  await configure(srv, { timeout: TIMEOUT_S, pongTimeout: 1 });
  const peers = await openPeers(port);
  const hello = frame("hi");
  for (const p of peers) p.socket.write(hello);
  const spokeAt = Date.now();
  const quiet = await quietLag(srv);
  // Deno's native server pings by itself and closes a silent peer (1001) after a second
  // `timeout`, not after `pongTimeout`.
  const waitS = runtime === "deno:native" ? 2 * TIMEOUT_S + 15 : TIMEOUT_S + 15;
  const left = await allGone(peers, waitS * 1000);
  // Peers that were cut, and when: their pings (the first frame each got) and their ends.
  const gone = peers.filter((p) => p.closed);
  const pinged = span(peers.filter((p) => p.firstFrameAt).map((p) => p.firstFrameAt));
  const ended = span(gone.map((p) => p.endedAt));
  const windows = { ...(pinged && { pings: pinged }), ...(ended && { cuts: ended }) };
  const { holds, stats, timeOrigin } = await lag(srv);
  if (denoArgs.length > 0) console.error(`holds ${JSON.stringify({ timeOrigin, holds, windows })}`);
  const { sweep, between } = sorted(holds, windows);
  return {
    quiet,
    sweep,
    between,
    left,
    // The server's count of open connections and of ping timeouts, when some are left.
    ...(left > 0 && { server: stats }),
    // Of the peers never cut, how many had their ping.
    leftPinged: peers.filter((p) => !p.closed && p.firstFrameAt).length,
    pingedAfterS: pinged?.map((t) => (t - spokeAt) / 1000) ?? null,
    cutAfterPingMs: span(gone.map((p) => p.endedAt - p.firstFrameAt)),
  };
}

// Close timeouts: every peer asks to be closed, in one go; none answers the close frame.
async function closes(srv, port) {
  await configure(srv, { timeout: 0 });
  const peers = await openPeers(port);
  const ask = frame("close");
  for (const p of peers) p.socket.write(ask);
  const until = Date.now() + 20_000;
  while (peers.some((p) => !p.firstFrameAt) && Date.now() < until) await sleep(50);
  const quiet = await quietLag(srv);
  const left = await allGone(peers, CLOSE_TIMEOUT_MS + 15_000);
  const gone = peers.filter((p) => p.closed && p.firstFrameAt);
  const ended = span(gone.map((p) => p.endedAt));
  const { sweep, between } = sorted((await lag(srv)).holds, ended ? { cuts: ended } : {});
  return {
    quiet,
    sweep,
    between,
    left,
    cutAfterMs: span(gone.map((p) => p.endedAt - p.firstFrameAt)),
  };
}

async function measure(runtime) {
  const srv = start(runtime);
  try {
    const { port, runtime: actual } = JSON.parse(await srv.reply("ready"));
    return {
      runtime,
      actual,
      heartbeat: only === "closes" ? null : await heartbeat(srv, port, runtime),
      closes: only === "heartbeat" ? null : await closes(srv, port),
    };
  } finally {
    await srv.stop();
  }
}

const results = [];
for (let run = 0; run < RUNS; run++) {
  for (const runtime of RUNTIMES) {
    const result = await measure(runtime);
    console.error(JSON.stringify(result));
    results.push(result);
  }
}
// One line per run and scenario: the longest hold near the sweep (less its collections)
// and between, the quiet floor, peers left, and when they were cut.
const rows = [];
for (const r of results) {
  for (const name of ["heartbeat", "closes"]) {
    const s = r[name];
    if (s === null) continue;
    rows.push({
      runtime: r.runtime,
      scenario: name,
      "sweep held (less GC)": `${s.sweep.heldMs} (${s.sweep.lessGcMs})`,
      "sweep >5": s.sweep.over5,
      "sweep holds >5": JSON.stringify(s.sweep.top.map(([name, held]) => `${name} ${held}`)),
      "between held (less GC)": `${s.between.heldMs} (${s.between.lessGcMs})`,
      "between >5": s.between.over5,
      "quiet held": s.quiet.heldMs,
      left: s.left,
      cut: JSON.stringify(name === "closes" ? s.cutAfterMs : s.cutAfterPingMs),
    });
  }
}
console.table(rows);
console.log(JSON.stringify({ N, root, results }));

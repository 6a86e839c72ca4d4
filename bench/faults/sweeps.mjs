// Sweeps of many connections falling due at once, on Node.js: the longest stall of the
// server's event loop while the heartbeat pings and then cuts N silent peers, and while
// the close timeout cuts N peers that never answer the server's close frame.
//
// Usage: node bench/faults/sweeps.mjs [N=10000] [root=.]
//   root: the checkout whose src/ the server loads (to compare two versions).
// Peers are raw TCP sockets that do the handshake by hand: they read and drop what
// arrives and never answer a ping or a close frame. Bounded: every wait has a deadline.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

const N = Number(process.argv[2] ?? 10_000);
const root = resolve(process.argv[3] ?? ".");
const here = fileURLToPath(new URL(".", import.meta.url));
const TIMEOUT_S = 20; // long enough to open every peer before the first ping
const CLOSE_TIMEOUT_MS = 5000;

// SWEEP_NODE_ARGS: more flags for the server (e.g. --cpu-prof); SWEEP_ONLY: heartbeat or closes.
const nodeArgs = (process.env.SWEEP_NODE_ARGS ?? "").split(" ").filter(Boolean);
const only = process.env.SWEEP_ONLY;
const server = spawn(process.execPath, [...nodeArgs, "--import", "tsx", `${here}sweep_server.ts`], {
  cwd: resolve(here, "../.."),
  env: { ...process.env, SWEEP_ROOT: root },
  stdio: ["pipe", "pipe", "inherit"],
});
const lines = [];
let wake = () => {};
createInterface({ input: server.stdout }).on("line", (line) => {
  lines.push(line);
  wake();
});
async function reply(prefix, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const i = lines.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) return lines.splice(i, 1)[0].slice(prefix.length + 1);
    if (Date.now() > until) throw new Error(`no "${prefix}" line`);
    await new Promise((r) => (wake = r, setTimeout(r, 50)));
  }
}
const send = (line) => server.stdin.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const port = Number(await reply("ready"));

function peer() {
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

async function openPeers() {
  const peers = [];
  for (let i = 0; i < N; i += 200) {
    peers.push(...await Promise.all(Array.from({ length: Math.min(200, N - i) }, peer)));
  }
  if (peers.some((p) => p.closed)) throw new Error("a peer closed during its handshake");
  return peers;
}

async function allGone(peers, ms) {
  const until = Date.now() + ms;
  while (peers.some((p) => !p.closed) && Date.now() < until) await sleep(100);
  return peers.filter((p) => !p.closed).length;
}

async function lag() {
  send("lag");
  return JSON.parse(await reply("lag"));
}

// The same probe over a second in which nothing is due: the floor on this machine.
async function quietLag() {
  await sleep(500);
  await lag();
  await sleep(1000);
  return await lag();
}

// The heartbeat: every peer speaks once, in one go, so all fall silent in the same
// second; TIMEOUT_S later they are pinged together, a second after that cut together.
async function heartbeat() {
  send(`settings {"timeout":${TIMEOUT_S},"pongTimeout":1}`);
  const peers = await openPeers();
  const hello = frame("hi");
  for (const p of peers) p.socket.write(hello);
  const quiet = await quietLag();
  const left = await allGone(peers, (TIMEOUT_S + 15) * 1000);
  const during = await lag();
  const pinged = peers.map((p) => p.firstFrameAt), ended = peers.map((p) => p.endedAt);
  const span = (times) => [Math.min(...times), Math.max(...times)];
  return { quiet, during, left, pingedAt: span(pinged), endedAt: span(ended) };
}

// Close timeouts: every peer asks to be closed, in one go; none answers the close frame.
async function closes() {
  send(`settings {"timeout":0}`);
  const peers = await openPeers();
  const ask = frame("close");
  for (const p of peers) p.socket.write(ask);
  const until = Date.now() + 20_000;
  while (peers.some((p) => !p.firstFrameAt) && Date.now() < until) await sleep(50);
  const quiet = await quietLag();
  const left = await allGone(peers, CLOSE_TIMEOUT_MS + 15_000);
  const during = await lag();
  const waits = peers.filter((p) => p.firstFrameAt).map((p) => p.endedAt - p.firstFrameAt);
  return { quiet, during, left, cutAfterMs: [Math.min(...waits), Math.max(...waits)] };
}

try {
  const results = {
    N,
    root,
    heartbeat: only === "closes" ? null : await heartbeat(),
    closes: only === "heartbeat" ? null : await closes(),
  };
  console.log(JSON.stringify(results, null, 2));
} finally {
  server.stdin.end();
  const exited = new Promise((r) => server.once("exit", r));
  await Promise.race([exited, sleep(5000)]);
  server.kill();
}

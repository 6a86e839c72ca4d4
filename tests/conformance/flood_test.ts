import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import type { Socket } from "node:net";
import {
  denoNative,
  type Fixture,
  maskedFrame,
  newId,
  rawUpgrade,
  startFixture,
  target,
} from "./_harness.ts";

// Peers that send echo requests as fast as they can and never read the answers.
const PEERS = 4;
// 1 KiB each: 20 MB per peer, far more than the kernel's socket buffers hold.
const MESSAGES = Number(process.env.FLOOD_MESSAGES ?? 20_000);
const PAYLOAD = Number(process.env.FLOOD_PAYLOAD ?? 1024);
const MAX_BUFFERED = 256 * 1024;
// The engine's close timeout (src/rfc6455/socket_config.ts).
const CLOSE_TIMEOUT_MS = 5000;

/**
 * How many of the given client ports the server process still holds a socket for
 * (Linux: the process's socket inodes looked up in /proc/net/tcp).
 */
function serverHolds(fx: Fixture, clientPorts: number[]): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${fx.pid}/fd`)) {
    try {
      const match = readlinkSync(`/proc/${fx.pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (match) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const held = new Set<number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !inodes.has(fields[9])) continue;
    held.add(parseInt(fields[2].split(":")[1], 16));
  }
  return clientPorts.filter((port) => held.has(port)).length;
}

/** Writes `count` small masked text frames, waiting for drain, for at most `ms`. */
async function flood(socket: Socket, count: number, ms: number): Promise<number> {
  const frame = maskedFrame(1, "x".repeat(PAYLOAD));
  const batch = Buffer.concat(Array.from({ length: 100 }, () => frame));
  const until = Date.now() + ms;
  let sent = 0;
  while (sent < count && Date.now() < until && !socket.destroyed) {
    sent += 100;
    if (!socket.write(batch)) {
      // The bound is cleared once drained or closed, or it keeps the test process alive.
      let bound: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => socket.once("drain", () => resolve(true))),
        new Promise<boolean>((resolve) => socket.once("close", () => resolve(false))),
        new Promise<boolean>((resolve) => bound = setTimeout(resolve, until - Date.now(), false)),
      ]);
      clearTimeout(bound);
      if (!drained) break;
    }
  }
  return sent;
}

/** Resolves when the socket ends (EOF or reset), reading and dropping what is left. */
function gone(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("end", done);
    socket.once("close", done);
    socket.resume();
  });
}

describe(`maxBufferedBytes against peers that flood without reading on ${target}`, {
  timeout: 120_000,
}, () => {
  let fx: Fixture;
  before(async () =>
    fx = await startFixture({
      WSX_FIXTURE_SETTINGS: JSON.stringify({ maxBufferedBytes: MAX_BUFFERED }),
    })
  );
  after(() => fx.stop());

  test(`${PEERS} peers each sending ${MESSAGES} echo requests: 1008, bounded memory, sockets gone`, async () => {
    const rssBefore = (await fx.get("/memory")).body.rss;
    const peers = await Promise.all(Array.from({ length: PEERS }, async () => {
      const id = newId("flood");
      const upgraded = await rawUpgrade(fx.port, `/ws/echo?id=${id}`);
      assert.equal(upgraded.status, 101);
      upgraded.socket.on("error", () => {});
      // Never read: the server's answers pile up.
      upgraded.socket.pause();
      return { id, socket: upgraded.socket };
    }));
    const sent = await Promise.all(peers.map((p) => flood(p.socket, MESSAGES, 8000)));
    const rssPeak = (await fx.get("/memory")).body.rss;
    const ports = peers.map((p) => p.socket.localPort!);
    const heldAfterFlood = serverHolds(fx, ports);
    // Every connection is closed with 1008, as the server's onClose reports.
    const closes = await Promise.all(peers.map((p) => fx.waitEvent(p.id, "close", 15_000)));
    for (const close of closes) assert.equal(close.code, 1008, JSON.stringify(close));
    // The sockets are really gone, closed by the server at the close timeout while the
    // peers still read nothing (not on Deno's native server, which cannot cut a socket:
    // there they go once the peer reads the close frame).
    const closedAt = Date.now();
    let released: number | undefined;
    while (Date.now() - closedAt < CLOSE_TIMEOUT_MS + 3000) {
      if (serverHolds(fx, ports) === 0) {
        released = Date.now() - closedAt;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!denoNative) {
      assert.ok(
        released !== undefined,
        `the server closed the sockets: ${serverHolds(fx, ports)} of ${PEERS} still open`,
      );
    }
    // Reading again, each peer sees the end of its socket.
    const ended = await Promise.all(peers.map((p) => gone(p.socket, 10_000)));
    const stats = (await fx.get("/stats")).body;
    const rssAfter = (await fx.get("/memory")).body.rss;
    const mb = (n: number) => (n / 1048576).toFixed(1);
    const summary = `${target}: sent ${sent.join("/")} messages; RSS ${mb(rssBefore)} MB, ` +
      `${mb(rssPeak)} MB at the end of the flood, ${mb(rssAfter)} MB after; ` +
      `sockets held after the flood ${heldAfterFlood}, closed ${released ?? "not"} ms ` +
      `after onClose, unread; ` +
      `ended ${ended.filter(Boolean).length}/${PEERS}; open ${stats.open}`;
    console.log(`# ${summary}`);
    assert.ok(ended.every(Boolean), `every peer saw the end of its socket: ${summary}`);
    assert.equal(stats.open, 0, summary);
    assert.ok(rssPeak - rssBefore < 64 * 1048576, `memory stays bounded: ${summary}`);
    assert.equal((await fx.post("/shutdown?timeoutMs=2000")).status, 202);
    const done = await fx.waitFor(
      () => fx.lines.find((l) => l.startsWith("SHUTDOWN ")),
      10_000,
      "shutdown",
    );
    assert.equal(JSON.parse(done.slice(9)).count, 0);
    for (const p of peers) p.socket.destroy();
  });
});

// What one slice of cuts leaves to the rest of its turn (issue 16, bench/README.md "Late
// request heads"): a node:http server holds ~1,900 sockets waiting for a head; it cuts k
// of them in one go the way wsx's HeadTimeouts does (`end(408)`, `destroySoon()`), and
// measures the process's CPU in the slice, then up to the next 1 ms timer tick (the
// flushes, closes and 'close' listeners the slice left), then one tick more. Median of 3
// slices per k. The server runs with --single-threaded-gc, so its process CPU (exact) is
// nearly all the main thread's.
//
//   node bench/faults/followup.mjs
//   FOLLOWUP_MODES=http:end,net:end,net:write node bench/faults/followup.mjs
//
// A mode is `<who holds the socket>:<how it is cut>`: `http`, node:http's connection
// (its parser has the partial head, as wsx before its first reader held partial heads);
// `net`, a bare socket whose partial head was read by a `data` listener (as wsx's first
// reader holds it now); `end`, `end(408)` then `destroySoon()`; `write`, `write(408)` then
// `destroy()` once the write has left (else `end` then `destroySoon()`). The modes run
// in turn, each in a fresh server, and again.
import { fork } from "node:child_process";
import { createServer } from "node:http";
import { connect, createServer as createNetServer } from "node:net";

const REFUSAL = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

const CUTS = {
  end(socket, refusal) {
    socket.end(refusal);
    socket.destroySoon();
  },
  write(socket, refusal) {
    socket.write(refusal);
    if (socket.writableLength === 0) return void socket.destroy();
    socket.end();
    socket.destroySoon();
  },
};

async function server(mode) {
  const [holder, style] = mode.split(":");
  const cutOne = CUTS[style];
  const sockets = [];
  const http = holder === "http"
    ? createServer({ headersTimeout: 600_000, requestTimeout: 0 })
    : createNetServer((socket) => {
      socket.on("data", () => {});
      socket.on("error", () => {});
    });
  http.on("connection", (socket) => sockets.push(socket));
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  process.send({ port: http.address().port });
  const refusal = new TextEncoder().encode(REFUSAL);
  process.on("message", async ({ k, rounds }) => {
    const rows = [];
    for (let i = 0; i < rounds; i++) {
      await tick();
      await tick();
      const c0 = cpu();
      for (let j = 0; j < k; j++) {
        cutOne(sockets.pop(), refusal);
      }
      const c1 = cpu();
      await tick();
      const c2 = cpu();
      await tick();
      rows.push([c1 - c0, c2 - c1, cpu() - c2]);
    }
    const median = (i) => rows.map((r) => r[i]).sort((a, b) => a - b)[rows.length >> 1];
    process.send({ k, sliceMs: median(0), nextTickMs: median(1), afterMs: median(2) });
  });
}

async function client(mode) {
  const child = fork(new URL(import.meta.url).pathname, ["server", mode], {
    execArgv: ["--single-threaded-gc"],
  });
  const { port } = await new Promise((resolve) => child.once("message", resolve));
  const peers = [];
  const open = () =>
    new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("GET / HTTP/1.1\r\nHost: x\r\n");
        resolve();
      });
      socket.on("data", () => {});
      socket.on("error", () => {});
      peers.push(socket);
    });
  for (let i = 0; i < 1900; i += 100) await Promise.all(Array.from({ length: 100 }, open));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const round = (ms) => Math.round(ms * 100) / 100;
  for (const k of [4, 8, 16, 32, 64]) {
    child.send({ k, rounds: 3 });
    const m = await new Promise((resolve) => child.once("message", resolve));
    const perCut = round((m.sliceMs + m.nextTickMs) / k * 1000);
    console.log(
      JSON.stringify({
        mode,
        ...m,
        sliceMs: round(m.sliceMs),
        nextTickMs: round(m.nextTickMs),
        afterMs: round(m.afterMs),
        usPerCut: perCut,
      }),
    );
  }
  child.kill();
  for (const peer of peers) peer.destroy();
}

const MODES = (process.env.FOLLOWUP_MODES ?? "http:end").split(",");
if (process.argv[2] === "server") await server(process.argv[3]);
else for (let run = 0; run < 2; run++) for (const mode of MODES) await client(mode);

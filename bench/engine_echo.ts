// The engine's own CPU per 32 B echo, in one process, without the kernel: 64 connections
// on stub Duplex streams (writes discarded), each handed one chunk of 64 masked frames per
// turn, as the echo32 scenario's server reads them; prints the best of 5 measurements, in
// ns of CPU per message. Holds under other load far better than the wall-clock bench, so
// A/B runs alternate it between worktrees:
//   node --import tsx bench/engine_echo.ts /tmp/base && node --import tsx bench/engine_echo.ts .
// (the argument is the worktree whose src/ is measured; default: this one).
import { Duplex } from "node:stream";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = pathToFileURL(resolve(process.argv[2] ?? ".") + "/").href;
const { NodeWebSocket } = await import(root + "src/rfc6455/socket.ts");
const { ConnectionDriver } = await import(root + "src/core/driver.ts");
const { ServerGroup } = await import(root + "src/core/group.ts");

const CONNS = 64, PER_CHUNK = 64, TURNS = Number(process.argv[3] ?? 1000);
const KEY = [1, 2, 3, 4];
const frame = new Uint8Array(38);
frame.set([0x82, 0x80 | 32, ...KEY]);
for (let i = 0; i < 32; i++) frame[6 + i] = (i * 7) ^ KEY[i & 3];
const chunk = new Uint8Array(frame.length * PER_CHUNK);
for (let i = 0; i < PER_CHUNK; i++) chunk.set(frame, i * frame.length);

interface Writer {
  write(data: Uint8Array, isText: boolean): unknown;
}
const group = new ServerGroup(null);
const handlers = {
  onMessage: (ws: Writer, data: Uint8Array, isText: boolean) => ws.write(data, isText),
};
let written = 0;
const sockets: Duplex[] = [];
for (let c = 0; c < CONNS; c++) {
  const socket = new Duplex({
    read() {},
    write(data: Uint8Array, _encoding, done) {
      written += data.length;
      done();
    },
  });
  const driver = new ConnectionDriver({ handlers, udata: undefined, group });
  const engine = new NodeWebSocket(socket, new Uint8Array(0), driver, { limits: group.settings });
  driver.bind(engine);
  driver.open();
  engine.start();
  sockets.push(socket);
}

const endOfTurn = () => new Promise((done) => setImmediate(done));
async function run(turns: number): Promise<void> {
  for (let t = 0; t < turns; t++) {
    // A fresh copy each time, as each read is: the parser rewrites its chunk.
    for (const socket of sockets) socket.emit("data", Buffer.from(chunk));
    await endOfTurn();
  }
}

await run(500);
let best = Infinity;
for (let r = 0; r < 5; r++) {
  const before = process.cpuUsage();
  written = 0;
  await run(TURNS);
  const used = process.cpuUsage(before);
  // Every message echoed: 34 bytes out for each.
  if (written !== TURNS * CONNS * PER_CHUNK * 34) throw new Error(`echoed ${written} bytes`);
  best = Math.min(best, ((used.user + used.system) * 1000) / (TURNS * CONNS * PER_CHUNK));
}
console.log(`${resolve(process.argv[2] ?? ".")}: ${best.toFixed(1)} ns CPU per message`);
process.exit(0);

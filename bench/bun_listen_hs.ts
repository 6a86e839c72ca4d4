// The JavaScript cost of one handshake on the Bun.listen binding, without the kernel:
// `Bun.listen` is replaced by a stand-in that hands back its socket handlers, and
// stub sockets (writes taken whole) open, send the bench's upgrade head and are held.
// Prints the CPU per handshake of the first batch of a fresh process (what the `hold`
// scenario's fresh server pays: the JIT compiles the path meanwhile, on threads of its
// own, counted too), the best of the later batches (warm), and the JSC heap per held
// connection. Alternate it between worktrees for an A/B that holds under load:
//   npx bun bench/bun_listen_hs.ts /tmp/base && npx bun bench/bun_listen_hs.ts .
// (arguments: the worktree whose src/ is measured, default this one; handshakes per
// batch, default 10000; batches, default 7). With TYPES=1 it also prints, for the first
// batch, the classes of the heap cells held per connection, from a heap snapshot (a cell's
// size includes its out-of-line property storage).
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = pathToFileURL(resolve(process.argv[2] ?? ".") + "/").href;
const N = Number(process.argv[3] ?? 10_000), BATCHES = Number(process.argv[4] ?? 7);

// A stand-in for Bun's socket: every write taken whole. A class, so that each holds
// one small object (its methods are shared).
class Stub {
  data: unknown = undefined;
  write(b: Uint8Array | string): number {
    written += b.length;
    return b.length;
  }
  end(): void {}
  terminate(): void {}
  pause(): void {}
  resume(): void {}
  setNoDelay(): boolean {
    return true;
  }
}
let written = 0;
type Handlers = Record<string, (socket: Stub, arg?: unknown) => void>;
const bun = (globalThis as unknown as { Bun: Record<string, unknown> }).Bun;
let handlers: Handlers | undefined;
bun.listen = (options: { socket: Handlers }) => {
  handlers = options.socket;
  return { port: 1, hostname: "127.0.0.1", stop() {} };
};
const { serveListen } = await import(root + "src/adapters/bun_listen.ts");
const { Websocket } = await import(root + "mod.ts");
Websocket.timeout = 0;
let opened = 0;
const echo = {
  onOpen: () => void opened++,
  onMessage: (ws: { write(d: unknown, t: boolean): void }, d: unknown, t: boolean) =>
    ws.write(d, t),
};
await serveListen({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (req: Request) => Websocket.upgrade(req, echo),
});
const h = handlers!;
const head = Buffer.from(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:40000\r\nUpgrade: websocket\r\n" +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\n\r\n",
  "latin1",
);
// CPU time of the JIT's compiler threads so far, in us (from /proc: Linux only).
function jitMicros(): number {
  let ticks = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
      if (!/JIT/i.test(stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")))) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The thread ended.
    }
  }
  return ticks * 10_000;
}
function heap(): number {
  Bun.gc(true);
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}
// With --cpu-prof: a few ms spent in a function of this name before and after the first
// batch, so that `bench/profile_top.mjs FILE --between profileMark` keeps that batch alone.
function profileMark(): void {
  const until = performance.now() + 3;
  while (performance.now() < until);
}
// Cells per held connection by class: the classes with at least N cells in the whole heap.
function printTypes(): void {
  const snap = (bun.generateHeapSnapshot as () => HeapSnapshot)();
  const count = new Map<string, number>(), size = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += 4) {
    const name = snap.nodeClassNames[snap.nodes[i + 2]];
    count.set(name, (count.get(name) ?? 0) + 1);
    size.set(name, (size.get(name) ?? 0) + snap.nodes[i + 1]);
  }
  for (const [name, n] of count) {
    if (n < N) continue;
    console.log(
      `${name}: ${(n / N).toFixed(2)} per connection, ${(size.get(name)! / N).toFixed(0)} B`,
    );
  }
}
type HeapSnapshot = { nodes: number[]; nodeClassNames: string[] };
let bestCpu = Infinity, firstHeap = 0, firstCpu = 0, firstJit = 0;
for (let b = 0; b < BATCHES; b++) {
  const sockets: Stub[] = new Array(N);
  const heap0 = heap();
  if (b === 0) profileMark();
  const cpu0 = process.cpuUsage(), jit0 = jitMicros();
  for (let i = 0; i < N; i++) {
    const s = sockets[i] = new Stub();
    h.open(s);
    h.data(s, head);
  }
  const cpu = process.cpuUsage(cpu0), jit = jitMicros() - jit0;
  if (b === 0) profileMark();
  // As the hold scenario: the last handshakes' timers settle before the GC.
  await new Promise((r) => setTimeout(r, 600));
  const held = heap() - heap0;
  if (b === 0 && process.env.TYPES) printTypes();
  // Each stub and its array slot are the harness's (about 40 B): not subtracted.
  if (b === 0) {
    firstCpu = (cpu.user + cpu.system) / N;
    firstJit = jit / N;
  }
  bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / N);
  if (b === 0) firstHeap = held / N;
  if (process.env.DEBUG) {
    console.log(
      `batch ${b}: ${((cpu.user + cpu.system) / N).toFixed(2)} us, JIT ${
        (jit / N).toFixed(2)
      } us, heap ${(held / N).toFixed(0)} B`,
    );
  }
  for (const s of sockets) h.close(s);
  sockets.length = 0;
  await new Promise((r) => setTimeout(r, 600));
}
if (opened !== N * BATCHES) throw new Error(`${opened} opened, expected ${N * BATCHES}`);
console.log(
  `${root}: first ${N} ${firstCpu.toFixed(2)} us CPU per handshake (cold; of which ` +
    `${firstJit.toFixed(2)} us in the JIT's threads), best ${bestCpu.toFixed(2)} us (warm), ${
      firstHeap.toFixed(0)
    } B heap per held ` +
    `connection (${BATCHES} x ${N})`,
);
process.exit(0);

// wsx's native transport on Bun, in one process, without Bun's server: the JavaScript a
// 32 B echo costs between Bun's `message(ws, data)` call and `ws.send`. 64 stand-in
// sockets (`data` holds the driver, `send` answers a byte count as Bun's does), the
// adapter's real `websocketHandler()` and driver, the bench server's echo handler; the
// handler is called through `noInline` (Bun calls it from native code, so it is never
// inlined into a caller). Prints the best of 7 measurements in ns of CPU per message,
// beside a bare handler that only calls `ws.send` (Bun native's bench server). Under
// other load, alternate it between worktrees:
//   bun bench/bun_native_echo.ts /tmp/base && bun bench/bun_native_echo.ts .
// (the argument is the worktree whose src/ is measured; default: this one).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { noInline } from "bun:jsc";

const root = pathToFileURL(resolve(process.argv[2] ?? ".") + "/").href;
const { websocketHandler } = await import(root + "src/adapters/bun.ts");
const { ConnectionDriver } = await import(root + "src/core/driver.ts");
const { ServerGroup } = await import(root + "src/core/group.ts");
const { settings } = await import(root + "src/core/settings.ts");

// As bench/servers/wsx.ts sets them.
settings.maxBufferedBytes = 64 * 1024 * 1024;
settings.maxMsgSize = 1024 * 1024;
settings.timeout = 0;

const CONNS = 64, PER_TURN = 64, TURNS = Number(process.argv[3] ?? 2000);

let sent = 0;
class StandIn {
  data: unknown;
  readyState = 1;
  constructor(data: unknown) {
    this.data = data;
  }
  send(data: string | Uint8Array): number {
    sent += data.length;
    return data.length + 2;
  }
  sendText(data: string): number {
    return this.send(data);
  }
  sendBinary(data: Uint8Array): number {
    return this.send(data);
  }
  getBufferedAmount(): number {
    return 0;
  }
  close(): void {}
  terminate(): void {}
  ping(): number {
    return 0;
  }
  subscribe(): void {}
  unsubscribe(): void {}
  publish(): number {
    return 0;
  }
}

type Handler = (ws: StandIn, data: string | Uint8Array) => void;
const echo = {
  onMessage: (
    ws: { write(d: Uint8Array, t: boolean): unknown },
    data: Uint8Array,
    isText: boolean,
  ) => ws.write(data, isText),
};
const group = new ServerGroup(null);
const handler = websocketHandler(group.settings);
const wsx: Handler = handler.message;
const bare: Handler = (ws, data) => void ws.send(data);
noInline(wsx);
noInline(bare);

const wsxSockets: StandIn[] = [], bareSockets: StandIn[] = [];
for (let c = 0; c < CONNS; c++) {
  const driver = new ConnectionDriver({ handlers: echo, udata: undefined, group });
  const ws = new StandIn(driver);
  handler.open(ws);
  wsxSockets.push(ws);
  bareSockets.push(new StandIn({ receiver: false }));
}

// Bun hands each binary message over as a fresh Buffer; a few shared ones stand in.
const messages = Array.from({ length: PER_TURN }, () => Buffer.alloc(32, 7));

function run(fn: Handler, sockets: StandIn[], turns: number): number {
  sent = 0;
  const before = process.cpuUsage();
  for (let t = 0; t < turns; t++) {
    for (let c = 0; c < CONNS; c++) {
      const ws = sockets[c];
      for (let m = 0; m < PER_TURN; m++) fn(ws, messages[m]);
    }
  }
  const used = process.cpuUsage(before);
  if (sent !== turns * CONNS * PER_TURN * 32) throw new Error(`echoed ${sent} bytes`);
  return ((used.user + used.system) * 1000) / (turns * CONNS * PER_TURN);
}

run(wsx, wsxSockets, 200);
run(bare, bareSockets, 200);
let best = Infinity, bestBare = Infinity;
for (let r = 0; r < 7; r++) {
  best = Math.min(best, run(wsx, wsxSockets, TURNS));
  bestBare = Math.min(bestBare, run(bare, bareSockets, TURNS));
}
console.log(
  `${resolve(process.argv[2] ?? ".")}: ${best.toFixed(1)} ns CPU per message ` +
    `(bare handler ${bestBare.toFixed(1)})`,
);
process.exit(0);

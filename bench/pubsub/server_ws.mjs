// The `ws` side of the pub/sub benchmark (with bufferutil): broadcast is the loop most
// applications write, `for (const client of wss.clients) client.send(data)`, with the
// message turned into a Buffer once (ws frames it again for every client).
// stdin: "broadcast M B" sends M messages, B per event-loop turn, then prints one line.

import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { WebSocketServer } from "ws";
import { MESSAGE } from "./message.mjs";

const require = createRequire(import.meta.url);
const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
await new Promise((resolve, reject) => {
  wss.once("listening", resolve);
  wss.once("error", reject);
});
wss.on("connection", (ws) => ws.on("error", () => ws.terminate()));

const data = Buffer.from(MESSAGE);

function broadcastOnce() {
  for (const client of wss.clients) {
    if (client.readyState === 1) client.send(data, { binary: false });
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, m = "1", b = "1"] = line.split(" ");
  if (command === "quit") process.exit(0);
  if (command !== "broadcast") return;
  const total = Number(m);
  const perTurn = Number(b);
  const t0 = performance.now();
  let done = 0;
  const turn = () => {
    for (let i = 0; i < perTurn && done < total; i++, done++) broadcastOnce();
    if (done < total) return void setImmediate(turn);
    const ms = performance.now() - t0;
    console.log(
      JSON.stringify({ event: "sent", name: "broadcast", total, ms, open: wss.clients.size }),
    );
  };
  turn();
}).on("close", () => process.exit(0));

const loaded = Object.keys(require.cache);
const bufferutil = loaded.some((p) => p.includes("bufferutil") && p.endsWith(".node"))
  ? "native"
  : loaded.some((p) => p.includes("bufferutil"))
  ? "JavaScript fallback"
  : "not loaded";
const version = require("ws/package.json").version;
console.log(JSON.stringify({
  event: "ready",
  server: "ws",
  version,
  bufferutil,
  port: wss.address().port,
  pid: process.pid,
}));

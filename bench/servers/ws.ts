/**
 * The `ws` echo server, with `bufferutil`: the reference Node.js WebSocket library as
 * most applications run it.
 *
 * @module
 */

import { createRequire } from "node:module";
import http from "node:http";
import { WebSocketServer } from "ws";
import { control } from "./_control.ts";

const require = createRequire(import.meta.url);

// `ws` loads `bufferutil` with a silent fallback to JavaScript, and `bufferutil` itself
// silently falls back to `fallback.js` when its native build cannot load. Newer Node.js
// versions (`http.websocketMask`) replace it altogether. Report what really runs.
function bufferutilStatus(): string {
  if ((http as { websocketMask?: unknown }).websocketMask) return "unused: node:http websocketMask";
  const loaded = Object.keys(require.cache);
  const native = loaded.find((p) => p.includes("bufferutil") && p.endsWith(".node"));
  if (native !== undefined) return `native (${native.slice(native.indexOf("bufferutil"))})`;
  if (loaded.some((p) => p.includes("bufferutil"))) return "JavaScript fallback";
  return "not loaded";
}

const version = (require("ws/package.json") as { version: string }).version;
const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
await new Promise<void>((resolve, reject) => {
  wss.once("listening", resolve);
  wss.once("error", reject);
});

wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => ws.terminate());
});

control({
  port: (wss.address() as { port: number }).port,
  info: { server: "ws", version, bufferutil: bufferutilStatus() },
  connections: () => wss.clients.size,
  // The loop most applications write; the frame is built by ws for every receiver.
  broadcast: (message) => {
    for (const ws of wss.clients) ws.send(message);
  },
  stop: () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
});

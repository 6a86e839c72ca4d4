/**
 * The server of tls_test.ts, the same file on Deno, Bun and Node: `serve({ tls })` with
 * the certificate and key files named by `TLS_CERT` and `TLS_KEY` (and `TLS_CA`,
 * `TLS_PASSPHRASE` when set), on wsx's engine (`serve({ transport: "engine" })`: over
 * `node:http` on Node.js and Deno, on `Bun.listen` on Bun) or, with
 * `WSX_TLS_TRANSPORT=native`, on the runtime's own server (Deno.serve, Bun.serve). It
 * prints `READY {"port":N,"transport":...,"handshakeTimeout":...}` once listening (the
 * last two from the server's `transport` and `capabilities`).
 *
 * Paths: `/` answers the request's URL; `/ws/echo` upgrades, sends
 * `{"secure":...,"url":...}` on open, then echoes; `/node-upgrades` tells how many
 * upgrades `node:http` parsed itself (the fast path takes the others; none on Bun, whose
 * engine has no `node:http`).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";
import type { Server } from "node:http";
import { type ServeOptions, Websocket, type WsxServer } from "../../mod.ts";

const env = process.env;
const file = (name: string) => env[name] ? readFileSync(env[name]!, "utf8") : undefined;

async function serveOn(options: ServeOptions): Promise<WsxServer> {
  if (env.WSX_TLS_TRANSPORT !== "native") {
    return (await import("../../src/serve.ts")).serve({ ...options, transport: "engine" });
  }
  const native = { ...options, transport: "native" } as const;
  if ("Deno" in globalThis) return (await import("../../src/adapters/deno.ts")).serve(native);
  if ("Bun" in globalThis) return (await import("../../src/adapters/bun.ts")).serve(native);
  throw new TypeError("Node.js has no native transport");
}

let nodeUpgrades = 0;
const server = await serveOn({
  port: 0,
  hostname: "127.0.0.1",
  handshakeTimeoutMs: Number(env.WSX_HEAD_TIMEOUT_MS ?? 2000),
  tls: {
    cert: file("TLS_CERT")!,
    key: file("TLS_KEY")!,
    ca: file("TLS_CA"),
    passphrase: env.TLS_PASSPHRASE,
  },
  onRequest(request) {
    const path = new URL(request.url).pathname;
    if (path === "/ws/echo") {
      const url = request.url;
      return Websocket.upgrade(request, {
        onOpen: (ws) => void ws.write(JSON.stringify({ secure: ws.secure, url })),
        onMessage: (ws, data, isText) => void ws.write(data, isText),
      });
    }
    if (path === "/node-upgrades") return new Response(String(nodeUpgrades));
    return new Response(request.url);
  },
});
// A node:http server (Node.js, Deno): the upgrades it parsed itself.
const raw = server.raw as Partial<Server>;
if (server.transport === "engine" && typeof raw.on === "function") {
  raw.on("upgrade", () => nodeUpgrades++);
}
const { port, transport, capabilities: { handshakeTimeout } } = server;
console.log(`READY ${JSON.stringify({ port, transport, handshakeTimeout })}`);

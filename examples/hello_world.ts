/**
 * The seed's Hello World: an HTTP server answering "Hello World!" whose upgraded
 * connections echo every message. The same file runs on Deno, Bun and Node.js:
 *
 *   npm run hello:deno   npm run hello:bun   npm run hello:node
 *
 * PORT (default 8080), WS_MAX_MSG_SIZE, WS_TIMEOUT and WS_PER_MESSAGE_DEFLATE=1 come from the
 * environment, and WS_TRANSPORT where a runtime offers both: `engine` (wsx's own, the default)
 * or `native` (the runtime's own WebSocket server, on Deno and Bun).
 * With TLS_CERT and TLS_KEY (paths to PEM files) it serves https: and wss: instead:
 *
 *   TLS_CERT=cert.pem TLS_KEY=key.pem npm run hello:node
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { Websocket } from "../mod.ts";
import { serve, type ServeOptions } from "../src/serve.ts";

function env(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { env: { get(n: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

const maxMsgSize = env("WS_MAX_MSG_SIZE");
if (maxMsgSize) Websocket.maxMsgSize = Number(maxMsgSize);
const timeout = env("WS_TIMEOUT");
if (timeout) Websocket.timeout = Number(timeout);
if (env("WS_PER_MESSAGE_DEFLATE") === "1") Websocket.perMessageDeflate = true;

// serve() checks the value and names the allowed ones.
const transport = (env("WS_TRANSPORT") || undefined) as ServeOptions["transport"];

const certFile = env("TLS_CERT"), keyFile = env("TLS_KEY");
if (!certFile !== !keyFile) throw new TypeError("Set both TLS_CERT and TLS_KEY, or neither");
const tls = certFile && keyFile
  ? { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") }
  : undefined;

const server = await serve({
  port: Number(env("PORT") ?? 8080),
  hostname: env("HOST") || "127.0.0.1",
  transport,
  tls,
  shutdownOnSignals: true,
  onRequest(request) {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return Websocket.upgrade(request, {
        onOpen: (ws) => console.log(`open #${ws.getUuid()}`),
        onMessage: (ws, data, isText) => ws.write(data, isText),
        onClose: (ws, code) => console.log(`close #${ws.getUuid()} (${code})`),
      });
    }
    return new Response("Hello World!");
  },
});
const scheme = tls ? "https" : "http";
console.log(
  `Hello World on ${scheme}://localhost:${server.port}/ (WebSocket echo on the same port, ${server.transport})`,
);

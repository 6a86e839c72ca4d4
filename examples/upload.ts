/**
 * Uploads of any size: every binary message is taken as a stream while it arrives
 * (`onStream`), fed into a SHA-256 hash, and answered with its hex digest as a text
 * message. Memory stays bounded by the stream's window, whatever the message size.
 * Text messages are answered with their length. Runs on wsx's own engine everywhere
 * (`transport: "engine"`: on Bun the default is Bun's own server, which hands over whole
 * messages only):
 *
 *   npm run upload:node   npm run upload:deno   npm run upload:bun
 *
 * `upload:deno` runs Deno with a small young generation (`--max-semi-space-size=1`):
 * Deno allocates a new 64 KiB buffer per socket read, and a larger young generation lets
 * about 100 MB of spent ones wait for a collection. PORT (default 8080; 0 picks a free
 * port) and HOST (default 127.0.0.1, this machine only) come from the environment.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Websocket } from "../mod.ts";
import { serve } from "../src/serve.ts";

function env(name: string): string | undefined {
  const g = globalThis as {
    Deno?: { env: { get(n: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
}

const server = await serve({
  port: Number(env("PORT") ?? 8080),
  hostname: env("HOST") || "127.0.0.1",
  transport: "engine",
  shutdownOnSignals: true,
  onRequest: (req) =>
    Websocket.upgrade(req, {
      // Binary messages are streamed, whatever their size; text arrives whole.
      streamWhen: (info) => !info.isText,
      async onStream(ws, stream) {
        const hash = createHash("sha256");
        try {
          for await (const chunk of stream) hash.update(chunk);
        } catch {
          return; // the connection closed before the message ended
        }
        ws.write(hash.digest("hex"));
      },
      onMessage: (ws, data) => ws.write(String(data.length)),
    }),
});
console.log(`Upload server on ws://${server.hostname}:${server.port}/`);

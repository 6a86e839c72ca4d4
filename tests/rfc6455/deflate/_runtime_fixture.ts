/**
 * wsx's engine (`serve` from the Node.js adapter, through `node:http`) with
 * permessage-deflate on, the same file on Node.js, Deno and Bun: an echo server on
 * 127.0.0.1 that prints `READY {"port":N}`. Compressed messages of unknown size are taken
 * as streams (`maxStreamSize` 64 MiB) and answered with `size sha256 grownBytes`, where
 * `grownBytes` is how much the RSS grew while a text stream's reader waited 500 ms.
 */

import { createHash } from "node:crypto";
import process from "node:process";
import { Websocket } from "../../../mod.ts";
import { serve } from "../../../src/adapters/node.ts";

Websocket.perMessageDeflate = true;
Websocket.maxStreamSize = 64 << 20;
const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (request) =>
    Websocket.upgrade(request, {
      onMessage: (ws, data, isText) => ws.write(data, isText),
      streamWhen: (info) => info.compressed && !info.fin,
      async onStream(ws, stream, isText) {
        const before = process.memoryUsage().rss;
        if (isText) await new Promise((r) => setTimeout(r, 500)); // a slow reader
        const grown = process.memoryUsage().rss - before;
        const hash = createHash("sha256");
        let size = 0;
        try {
          for await (const chunk of stream) {
            hash.update(chunk);
            size += chunk.byteLength;
          }
        } catch {
          return; // the connection failed (1009, 1007): the client sees its close
        }
        ws.write(`${size} ${hash.digest("hex")} ${grown}`, true, { compress: false });
      },
    }),
});
console.log(`READY ${JSON.stringify({ port: server.port })}`);

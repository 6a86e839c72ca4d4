/**
 * wsx's engine (`serve` from the Node.js adapter, through `node:http`) with
 * permessage-deflate on, the same file on Node.js, Deno and Bun: an echo server on
 * 127.0.0.1 that prints `READY {"port":N}`.
 */

import { Websocket } from "../../../mod.ts";
import { serve } from "../../../src/adapters/node.ts";

Websocket.perMessageDeflate = true;
const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest: (request) =>
    Websocket.upgrade(request, { onMessage: (ws, data, isText) => ws.write(data, isText) }),
});
console.log(`READY ${JSON.stringify({ port: server.port })}`);

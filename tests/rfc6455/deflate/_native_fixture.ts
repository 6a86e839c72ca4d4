/**
 * `serve` from `src/serve.ts` (the transport named by `WSX_TRANSPORT`, else the runtime's
 * default) with perMessageDeflate on,
 * threshold 100: echoes; `?plain=1` echoes with `compress: false`, `?off=1` asks for no
 * extension in `upgrade()`; the message `caps` answers with the transport's
 * `capabilities.perMessageDeflate`. Prints `READY {"port":N}`.
 */

import { Websocket } from "../../../mod.ts";
import { serve } from "../../../src/serve.ts";

Websocket.perMessageDeflate = { threshold: 100 };
const transport = (globalThis as { process?: { env: Record<string, string | undefined> } })
  .process?.env.WSX_TRANSPORT as "engine" | "native" | undefined;
const server = await serve({
  transport,
  port: 0,
  hostname: "127.0.0.1",
  onRequest(request) {
    const query = new URL(request.url).searchParams;
    const compress = query.get("plain") !== "1";
    return Websocket.upgrade(request, {
      perMessageDeflate: query.get("off") === "1" ? false : undefined,
      onMessage(ws, data, isText) {
        if (data === "caps") ws.write(String(ws.capabilities.perMessageDeflate));
        else ws.write(data, isText, { compress });
      },
    });
  },
});

console.log(`READY ${JSON.stringify({ port: server.port })}`);

/**
 * A wsx server on the engine (`serve` from the Node.js adapter) for the permessage-deflate
 * tests: echo, with per-upgrade deflate options taken from the query (`?pmd=` JSON,
 * `?plain=1` to echo without compression). Listens on 127.0.0.1, port 0.
 */

import { upgrade } from "../../../src/core/upgrade.ts";
import { serve, type WsxServer } from "../../../src/adapters/node.ts";
import type { PerMessageDeflate } from "../../../src/core/deflate_options.ts";

/** Starts the echo server; `closes` collects the close codes the server saw. */
export async function startDeflateServer(
  perMessageDeflate: PerMessageDeflate = true,
): Promise<{ server: WsxServer; url: string; closes: number[] }> {
  const closes: number[] = [];
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    onRequest(request) {
      const query = new URL(request.url).searchParams;
      const pmd = query.get("pmd");
      const compress = query.get("plain") !== "1";
      return upgrade(request, {
        perMessageDeflate: pmd === null ? perMessageDeflate : JSON.parse(pmd),
        onMessage: (ws, data, isText) => ws.write(data, isText, { compress }),
        onClose: (_ws, code) => void closes.push(code),
      });
    },
  });
  return { server, url: `ws://127.0.0.1:${server.port}/`, closes };
}

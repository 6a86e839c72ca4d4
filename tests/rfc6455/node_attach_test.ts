// attach() (src/adapters/node.ts) on servers wsx did not start: what @hono/node-server's
// serve() returns is taken as it is (this file passes it without a cast and is
// type-checked by the `deno check` gate), and an HTTP/2 server is refused with a TypeError.
import assert from "node:assert/strict";
import { createSecureServer, createServer as createHttp2Server } from "node:http2";
import { after, before, describe, test } from "node:test";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import WebSocket from "ws";
import { attach, type Attachment } from "../../src/adapters/node.ts";
import { websocket } from "../../src/integrations/hono.ts";

function once<T>(ws: WebSocket, event: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`No ${event} within 5 s`)), 5000);
    ws.once(event, (...args: T[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

describe("attach() on a server wsx did not start", { timeout: 30_000 }, () => {
  let server: ServerType;
  let attachment: Attachment;
  let port = 0;

  before(async () => {
    const app = new Hono();
    app.get("/", (c) => c.text("plain HTTP"));
    app.get("/ws", websocket(() => ({ onMessage: (ws, data, isText) => ws.write(data, isText) })));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
        port = info.port;
        resolve();
      });
      attachment = attach(server, app.fetch);
    });
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("upgrades through the Hono app and returns { stats, shutdown }, not the server", async () => {
    assert.deepEqual(Object.keys(attachment).sort(), ["shutdown", "stats"]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await once(ws, "open");
    ws.send("ping");
    const [data] = await once<Buffer>(ws, "message");
    assert.equal(data.toString(), "ping");
    assert.equal(attachment.stats.open, 1);

    const closing = once<number | Buffer>(ws, "close");
    await attachment.shutdown({ reason: "bye", timeoutMs: 2000 });
    const [code, reason] = await closing;
    assert.deepEqual([code, String(reason)], [1001, "bye"]);
    assert.equal(attachment.stats.open, 0);
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await res.text(), "plain HTTP", "the server keeps serving after shutdown");
  });

  test("refuses an HTTP/2 server with a TypeError: it has no 'upgrade' event", () => {
    const fetch = () => new Response("unused");
    for (const h2 of [createHttp2Server(), createSecureServer()]) {
      assert.throws(() => attach(h2, fetch), {
        name: "TypeError",
        message: /HTTP\/2 server has no 'upgrade' event/,
      });
    }
  });
});

/**
 * permessage-deflate with the `ws` client against the engine: its default offer, and
 * client_no_context_takeover with small windows; compression on the wire is measured
 * from the raw socket, and bombs are refused within maxMsgSize and bounded memory.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { after, before, describe, test } from "node:test";
import { deflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { RawClient } from "../_client.ts";
import { broadcast } from "../../../src/core/topics.ts";
import { startDeflateServer } from "./_server.ts";

let ctx: Awaited<ReturnType<typeof startDeflateServer>>;
before(async () => (ctx = await startDeflateServer()));
after(() => ctx.server.shutdown());

const json = (i: number) =>
  JSON.stringify({
    id: i,
    user: "alice",
    room: "general",
    items: Array.from({ length: 40 }, (_, k) => ({ k, name: `item-${k}`, on: k % 2 === 0 })),
  });

async function open(
  options: WebSocket.ClientOptions,
  query = "",
): Promise<{ ws: WebSocket; header: string | undefined; wire: () => number }> {
  const ws = new WebSocket(ctx.url + query, options);
  let header: string | undefined;
  ws.once("upgrade", (res: IncomingMessage) => {
    header = res.headers["sec-websocket-extensions"] as string | undefined;
  });
  await once(ws, "open");
  // Bytes read from the server since the handshake.
  const socket = (ws as unknown as { _socket: import("node:net").Socket })._socket;
  const start = socket.bytesRead;
  return { ws, header, wire: () => socket.bytesRead - start };
}

async function echo(ws: WebSocket, data: string): Promise<string> {
  const reply = once(ws, "message");
  ws.send(data);
  return String((await reply)[0]);
}

describe("permessage-deflate with the ws client", () => {
  test("default offer: negotiated, echoes shrink on the wire to under half", async () => {
    const { ws, header, wire } = await open({ perMessageDeflate: true });
    assert.equal(
      header,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
    assert.equal(ws.extensions, "permessage-deflate");
    let sent = 0;
    for (let i = 0; i < 50; i++) {
      const m = json(i);
      sent += m.length;
      assert.equal(await echo(ws, m), m);
    }
    assert.ok(wire() <= sent / 2, `${wire()} bytes on the wire for ${sent}`);
    ws.close();
    await once(ws, "close");
  });

  test("client_no_context_takeover and small windows", async () => {
    const { ws, header } = await open({
      perMessageDeflate: {
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 9,
      },
    });
    assert.equal(
      header,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; " +
        "server_max_window_bits=10; client_max_window_bits=9",
    );
    for (const m of [json(1), "é".repeat(5000), "x"]) assert.equal(await echo(ws, m), m);
    ws.close();
    await once(ws, "close");
  });

  test("server context takeover (option): ws inflates 100 echoes with its kept window", async () => {
    const pmd = encodeURIComponent(JSON.stringify({ serverContextTakeover: true }));
    const stateless = await open({ perMessageDeflate: true });
    const { ws, header, wire } = await open({ perMessageDeflate: true }, `?pmd=${pmd}`);
    assert.equal(header, "permessage-deflate; client_no_context_takeover");
    for (let i = 0; i < 100; i++) {
      assert.equal(await echo(ws, json(i)), json(i));
      assert.equal(await echo(stateless.ws, json(i)), json(i));
    }
    // Each message refers back to the previous ones: smaller than on their own.
    assert.ok(wire() < stateless.wire() * 0.8, `${wire()} vs ${stateless.wire()} bytes`);
    // A client that forbids it gets no context takeover.
    const refused = await open(
      { perMessageDeflate: { serverNoContextTakeover: true } },
      `?pmd=${pmd}`,
    );
    assert.equal(
      refused.header,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
    // A broadcast is compressed against this connection's own history too.
    const got = once(ws, "message");
    broadcast(null, json(200));
    assert.equal(String((await got)[0]), json(200));
    assert.equal(await echo(ws, json(201)), json(201));
    for (const w of [ws, stateless.ws, refused.ws]) w.close();
  });

  test("server_max_window_bits=8 is declined: no extension, the connection works", async () => {
    const { ws, header } = await open({ perMessageDeflate: { serverMaxWindowBits: 8 } });
    assert.equal(header, undefined);
    assert.equal(await echo(ws, json(2)), json(2));
    ws.close();
    await once(ws, "close");
  });

  test("off for an upgrade: no extension", async () => {
    const { ws, header } = await open({ perMessageDeflate: true }, "?pmd=false");
    assert.equal(header, undefined);
    assert.equal(await echo(ws, json(3)), json(3));
    ws.close();
    await once(ws, "close");
  });

  test("write(..., { compress: false }) and the threshold send plain frames", async () => {
    const c = await RawClient.connect(
      ctx.server.port,
      "Sec-WebSocket-Extensions: permessage-deflate\r\n",
    );
    c.send(1, json(4));
    assert.equal((await c.read()).rsv, 4);
    c.send(1, "short");
    assert.equal((await c.read()).rsv, 0); // under the 1024-byte threshold
    c.destroy();
    // The server echoes with write(data, isText, { compress: false }).
    const { ws, header, wire } = await open({ perMessageDeflate: true }, "?plain=1");
    assert.ok(header?.startsWith("permessage-deflate"));
    assert.equal(await echo(ws, json(4)), json(4));
    assert.ok(wire() > json(4).length, `${wire()} bytes: sent plain`);
    ws.close();
    await once(ws, "close");
  });

  test("a broadcast is compressed for deflate receivers, plain for the others", async () => {
    const a = await open({ perMessageDeflate: true });
    const b = await open({ perMessageDeflate: true });
    const c = await open({ perMessageDeflate: false });
    const got = [a, b, c].map(({ ws }) => once(ws, "message"));
    const m = json(5);
    assert.equal(broadcast(null, m), 3);
    for (const p of got) assert.equal(String((await p)[0]), m);
    assert.ok(a.wire() < m.length / 2 && b.wire() < m.length / 2);
    assert.ok(c.wire() > m.length);
    for (const { ws } of [a, b, c]) ws.close();
  });
});

describe("permessage-deflate bombs", () => {
  test("4 connections each send 64 MiB of zeros in one frame: 1009, RSS < 32 MB", async () => {
    const bomb = deflateRawSync(Buffer.alloc(64 << 20), { finishFlush: 2 }).subarray(0, -4);
    assert.ok(bomb.length < 70_000);
    const clients = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          RawClient.connect(ctx.server.port, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
      ),
    );
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    for (const c of clients) c.send(2, bomb, { rsv: 4 });
    for (const c of clients) await c.expectClose(1009);
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 32 << 20, `RSS grew by ${grown} bytes`);
    for (const c of clients) c.destroy();
  });
});

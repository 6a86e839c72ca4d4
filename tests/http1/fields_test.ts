// Fields that span several lines, over real TCP: `Connection` is one list across all its
// field lines (RFC 9110 section 5.3), as the fast upgrade parser reads it too.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RequestHead } from "../../src/adapters/http1_head.ts";
import { parseResponses, raw, resolvers, startHttp1 } from "./_harness.ts";

test("Connection: close on a second field line ends the connection after the response", {
  timeout: 5000,
}, async () => {
  const server = await startHttp1();
  try {
    const out = await raw(
      server.port,
      "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
      { timeoutMs: 1500 },
    );
    assert.equal(parseResponses(out.text).length, 1);
    assert.match(out.text, /\r\nconnection: close\r\n/i);
    assert.ok(out.closed, "the server closed after the response");
  } finally {
    await server.close();
  }
});

test(
  "Connection: Upgrade on a second field line makes a WebSocket upgrade",
  { timeout: 5000 },
  async () => {
    const got = resolvers<RequestHead>();
    const server = await startHttp1({ onUpgrade: (head) => got.resolve(head) });
    try {
      const client = raw(
        server.port,
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n" +
          "Connection: Upgrade\r\n\r\n",
        { timeoutMs: 300 },
      );
      assert.equal((await got.promise).target, "/ws");
      await client;
    } finally {
      await server.close();
    }
  },
);

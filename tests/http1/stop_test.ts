// A stopping server's HTTP/1.1 connections (Http1Connection.stop), over real TCP: an idle
// one ends at once; one answering a request ends after that response, which says so.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import type { Http1Connection } from "../../src/adapters/http1_connection.ts";
import { serveHttp1Socket } from "../../src/adapters/http1_net.ts";
import { resolveHttp1Options } from "../../src/adapters/http1_options.ts";
import { GET, raw, resolvers, sleep } from "./_harness.ts";

test("stop: an idle connection ends at once, a busy one after its response, with Connection: close", async () => {
  const release = resolvers<void>();
  const settings = resolveHttp1Options({
    handler: async () => {
      await release.promise;
      return new Response("late");
    },
    onError: () => {},
  });
  const connections: Http1Connection[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.push(serveHttp1Socket(socket, settings));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const busy = raw(port, GET("/slow"), { timeoutMs: 3000 });
    const idle = raw(port, [], { timeoutMs: 3000 });
    for (let i = 0; i < 100 && connections.length < 2; i++) await sleep(10);
    await sleep(50); // the busy one's request has reached its handler
    const stoppedAt = performance.now();
    for (const connection of connections) connection.stop();
    const idleOut = await idle;
    assert.ok(idleOut.closed, "the idle connection ended");
    assert.equal(idleOut.text, "");
    assert.ok(performance.now() - stoppedAt < 1000, "at once, not at a timeout");
    release.resolve();
    const busyOut = await busy;
    assert.match(busyOut.text, /^HTTP\/1\.1 200 /);
    assert.match(busyOut.text, /\r\nconnection: close\r\n/i);
    assert.ok(busyOut.text.endsWith("late"), busyOut.text);
    assert.ok(busyOut.closed, "the busy connection ended after its response");
  } finally {
    server.close();
  }
});

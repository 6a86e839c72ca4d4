/**
 * Whether the fast upgrade path (src/adapters/node_fast_upgrade.ts) is installed on this
 * runtime's `node:http`, and that an upgrade is answered either way: run by `deno test`
 * (Deno's node:http is Node's: the path is taken) and `bun test` (Bun parses HTTP
 * natively: the path turns itself off and `node:http`'s upgrade event serves).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect } from "node:net";
import { takeUpgradesFirst } from "../../src/adapters/node_fast_upgrade.ts";

const UPGRADE = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const TEAPOT = "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

function firstLine(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.once("data", (chunk) => {
      resolve(String(chunk).split("\r\n")[0]);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/**
 * Starts a `node:http` server with the fast path, sends an upgrade and a plain request.
 *
 * @param expectInstalled Whether the path must be taken on this runtime.
 */
export async function fastPathScenario(expectInstalled: boolean): Promise<void> {
  const server = createServer((_request, response) => response.end("plain"));
  const seen = { fast: 0, http: 0 };
  const installed = takeUpgradesFirst(server, (socket) => {
    seen.fast++;
    socket.end(TEAPOT);
  });
  server.on("upgrade", (_request, socket) => {
    seen.http++;
    socket.end(TEAPOT);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    assert.equal(installed, expectInstalled);
    assert.equal(await firstLine(port, UPGRADE), "HTTP/1.1 418 I'm a teapot");
    assert.deepEqual(seen, expectInstalled ? { fast: 1, http: 0 } : { fast: 0, http: 1 });
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), "plain", "other requests still reach node:http");
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

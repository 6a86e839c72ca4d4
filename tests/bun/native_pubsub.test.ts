/** On Bun, topics go through Bun's own pub/sub: one server.publish per publish (`bun test`). */
import { expect, test } from "bun:test";
import { publish, Websocket } from "../../mod.ts";
import { serve } from "../../src/adapters/bun.ts";

test("topics on Bun use Bun's native publish, and excludeSelf uses ws.publish", async () => {
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    transport: "native",
    onRequest: (req) =>
      Websocket.upgrade(req, {
        onOpen: (ws) => void ws.subscribe("t"),
        onMessage: (ws, data) => ws.publish("t", data, true, { excludeSelf: true }),
      }),
  });
  const raw = server.raw as { publish: (...args: unknown[]) => number };
  const original = raw.publish.bind(raw);
  let nativePublishes = 0;
  raw.publish = (...args: unknown[]) => (nativePublishes++, original(...args));
  const open = () =>
    new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
      ws.onopen = () => resolve(ws);
    });
  const [a, b] = [await open(), await open()];
  const got: string[] = [];
  a.onmessage = (e) => got.push(`a:${e.data}`);
  b.onmessage = (e) => got.push(`b:${e.data}`);
  publish("t", "from-server");
  a.send("from-a");
  const deadline = Date.now() + 3000;
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(got.sort()).toEqual(["a:from-server", "b:from-a", "b:from-server"]);
  expect(nativePublishes).toBe(1);
  a.close();
  b.close();
  await server.shutdown({ timeoutMs: 500 });
}, 10_000);

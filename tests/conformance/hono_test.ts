import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ask, closed, connect, nextMessage, rawUpgrade, startExample, target } from "./_harness.ts";

describe(`Hono routes on ${target}`, { timeout: 60_000 }, () => {
  let port = 0;
  let stop = () => {};
  before(async () => ({ port, stop } = await startExample("examples/hono.ts")));
  after(() => stop());

  test("ordinary routes and middleware work next to the WebSocket route", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), "Hello from Hono and wsx!");
    assert.equal(res.headers.get("x-served-by"), "wsx+hono");
  });

  test("middleware can refuse an upgrade, and so can the route", async () => {
    const noToken = await rawUpgrade(port, "/ws/echo");
    assert.equal(noToken.status, 401);
    assert.match(noToken.head, /www-authenticate: Bearer/i);
    noToken.socket.destroy();
    const refused = await rawUpgrade(port, "/ws/refuse?token=x");
    assert.equal(refused.status, 403);
    refused.socket.destroy();
  });

  test("the route upgrades with udata from the context; the handle keeps its identity", async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/ws/echo?token=alice`);
    assert.equal((await nextMessage(ws)).data.toString(), "hello alice");
    assert.equal(await ask(ws, "ping"), "ping");
    const [name, messages, uuid] = (await ask(ws, "whoami")).split(":");
    assert.equal(name, "alice");
    assert.equal(messages, "2", "udata mutated in one event is seen in the next");
    assert.ok(Number(uuid) > 0);
    const bytes = new Uint8Array([1, 2, 3]);
    const reply = nextMessage(ws);
    ws.send(bytes);
    assert.deepEqual(new Uint8Array((await reply).data), bytes);
    const done = closed(ws);
    ws.close(4000, "bye");
    assert.equal((await done).code, 4000);
  });

  test("each and count reach the connections of Hono routes", async () => {
    const a = await connect(`ws://127.0.0.1:${port}/ws/echo?token=a`);
    const b = await connect(`ws://127.0.0.1:${port}/ws/echo?token=b`);
    await nextMessage(a);
    await nextMessage(b);
    const counted = await (await fetch(`http://127.0.0.1:${port}/count`)).json();
    assert.ok(counted.count >= 2);
    const got = nextMessage(b);
    a.send("broadcast");
    assert.equal((await got).data.toString(), "from a");
    a.close();
    b.close();
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import {
  ask,
  closed,
  connect,
  type Fixture,
  nextMessage,
  startFixture,
  target,
} from "./_harness.ts";

/** Messages that arrive within `ms`. */
async function drain(ws: WebSocket, ms = 300): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push((await nextMessage(ws, ms)).data.toString());
    } catch {
      return got;
    }
  }
}

describe(`topics on ${target}`, { timeout: 60_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("publish reaches the subscribers of its topic only, excludeSelf leaves the sender out", async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => connect(fx.url("/ws/cmd"))));
    assert.equal(await ask(a, "sub red"), "sub:true");
    assert.equal(await ask(a, "sub red"), "sub:false");
    assert.equal(await ask(b, "sub red"), "sub:true");
    assert.equal(await ask(c, "sub blue"), "sub:true");
    assert.equal(await ask(c, "issub red"), "issub:false");
    a.send("pub red hello");
    assert.deepEqual(await drain(a), ["hello"]);
    assert.deepEqual(await drain(b), ["hello"]);
    assert.deepEqual(await drain(c), [], "topic isolation");
    a.send("pubx red again");
    assert.deepEqual(await drain(a), []);
    assert.deepEqual(await drain(b), ["again"]);
    assert.equal(await ask(b, "unsub red"), "unsub:true");
    await fetch(fx.http("/publish?topic=red&text=server"));
    assert.deepEqual(await drain(a), ["server"], "the server publishes too");
    assert.deepEqual(await drain(b), []);
    for (const ws of [a, b, c]) ws.close();
  });

  test("binary payloads pass intact", async () => {
    const [a, b] = await Promise.all([0, 1].map(() => connect(fx.url("/ws/cmd"))));
    await ask(b, "sub bin");
    const got = nextMessage(b);
    a.send("pubbin bin");
    const { data, isBinary } = await got;
    assert.equal(isBinary, true);
    assert.deepEqual([...data], Array.from({ length: 256 }, (_, i) => i));
    a.close();
    b.close();
  });

  test("subscriptions end with the connection", async () => {
    const a = await connect(fx.url("/ws/cmd"));
    const b = await connect(fx.url("/ws/cmd"));
    await ask(a, "sub gone");
    const done = closed(a);
    a.close();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 100));
    b.send("pub gone nobody");
    assert.deepEqual(await drain(b), []);
    assert.equal(await ask(b, "sub gone"), "sub:true", "a fresh subscription starts a new set");
    b.close();
  });

  test("broadcast sends to every other connection", async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => connect(fx.url("/ws/cmd"))));
    const reply = nextMessage(a);
    a.send("bcast x");
    assert.match((await reply).data.toString(), /^bcast:\d+$/);
    assert.deepEqual(await drain(b), ["all:x"]);
    assert.deepEqual(await drain(c), ["all:x"]);
    for (const ws of [a, b, c]) ws.close();
  });
});

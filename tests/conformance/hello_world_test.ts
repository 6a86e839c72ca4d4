import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { closed, connect, denoNative, nextMessage, startExample, target } from "./_harness.ts";

describe(`the seed's Hello World on ${target}`, { timeout: 60_000 }, () => {
  let port = 0;
  let stop = () => {};
  before(
    async () => ({ port, stop } = await startExample("examples/hello_world.ts", {
      WS_TIMEOUT: "1",
      WS_MAX_MSG_SIZE: "1000",
      WS_PER_MESSAGE_DEFLATE: "1",
    })),
  );
  after(() => stop());

  test("HTTP answers Hello World! and upgraded connections echo", async () => {
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "Hello World!");
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const reply = nextMessage(ws);
    ws.send("echo me");
    assert.equal((await reply).data.toString(), "echo me");
    ws.close();
  });

  test("WS_MAX_MSG_SIZE and WS_TIMEOUT from the environment reach the global settings", async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    const pinged = new Promise((resolve) => ws.once("ping", resolve));
    await pinged;
    const done = closed(ws);
    ws.send(new Uint8Array(1001));
    assert.equal((await done).code, 1009);
  });

  test("WS_PER_MESSAGE_DEFLATE=1 turns permessage-deflate on (Deno's native server cannot)", async () => {
    const ws = await connect(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
    assert.equal(ws.extensions, denoNative ? "" : "permessage-deflate");
    const text = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i })));
    const reply = nextMessage(ws);
    ws.send(text);
    assert.equal((await reply).data.toString(), text);
    ws.close();
  });
});

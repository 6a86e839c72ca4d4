import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type WebSocket from "ws";
import {
  closed,
  connect,
  type Fixture,
  newId,
  nextMessage,
  startFixture,
  target,
  transport,
} from "./_harness.ts";

// Whether the connection's transport streams (`capabilities.streaming`, in /ws/stream's
// answers): wsx's engine must; the runtimes' native servers do not, and hand over
// messages whole, within maxMsgSize.
async function streamingOf(ws: WebSocket): Promise<boolean> {
  const reply = nextMessage(ws);
  ws.send(new Uint8Array(200));
  const { streaming } = JSON.parse((await reply).data.toString());
  assert.equal(streaming, transport === "engine", `capabilities.streaming on ${target}`);
  return streaming;
}

describe(`onStream and streamWhen on ${target}`, { timeout: 60_000 }, () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
    await fx.post("/settings", { maxMsgSize: 10_000 });
  });
  after(() => fx.stop());

  test("streamWhen leaves small messages to onMessage and gives large ones to onStream", async () => {
    const ws = await connect(fx.url(`/ws/stream?id=${newId()}`));
    const small = nextMessage(ws);
    ws.send("tiny");
    assert.equal((await small).data.toString(), "tiny");
    const streams = await streamingOf(ws);
    const large = nextMessage(ws);
    ws.send(new Uint8Array(5000));
    const got = JSON.parse((await large).data.toString());
    assert.deepEqual([got.isText, got.size, got.streaming], [false, 5000, streams]);
    // Without streaming, the message is one chunk: it arrived whole.
    if (!streams) assert.equal(got.chunks, 1);
    const fragmented = nextMessage(ws);
    ws.send("ab", { fin: false });
    ws.send("cd", { fin: true });
    const answer = (await fragmented).data.toString();
    if (streams) {
      // The engine sees the first frame (fin false) and streams both fragments.
      assert.deepEqual(JSON.parse(answer), { isText: true, size: 4, chunks: 2, streaming: true });
    } else {
      // The runtime assembled the message first: streamWhen saw 4 bytes, fin true.
      assert.equal(answer, "abcd");
    }
    ws.close();
  });

  test(
    "a streamed message is bounded by maxStreamSize; without streaming, by maxMsgSize (1009)",
    async () => {
      const id = newId();
      const ws = await connect(fx.url(`/ws/stream?id=${id}`));
      if (await streamingOf(ws)) {
        const reply = nextMessage(ws);
        ws.send(new Uint8Array(50_000));
        assert.equal(JSON.parse((await reply).data.toString()).size, 50_000);
        ws.close();
        return;
      }
      const done = closed(ws);
      ws.send(new Uint8Array(50_000));
      assert.equal((await done).code, 1009);
      assert.equal((await fx.waitEvent(id, "close")).code, 1009);
    },
  );
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  closed,
  connect,
  type Fixture,
  newId,
  nextMessage,
  startFixture,
  target,
} from "./_harness.ts";

describe(`maxMsgSize and settings on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
    await fx.post("/settings", { maxMsgSize: 1000 });
  });
  after(() => fx.stop());

  test("a message of exactly maxMsgSize bytes is delivered", async () => {
    const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
    const reply = nextMessage(ws);
    ws.send(new Uint8Array(1000));
    assert.equal((await reply).data.length, 1000);
    const text = nextMessage(ws);
    ws.send("t".repeat(1000));
    assert.equal((await text).data.length, 1000);
    ws.close();
  });

  for (const kind of ["binary", "text"] as const) {
    test(`a ${kind} message one byte over maxMsgSize closes with 1009 and onClose reports 1009`, async () => {
      const id = newId();
      const ws = await connect(fx.url(`/ws/echo?id=${id}`));
      const done = closed(ws);
      ws.send(kind === "binary" ? new Uint8Array(1001) : "t".repeat(1001));
      const { code, reason } = await done;
      assert.equal(code, 1009);
      assert.ok(reason.length > 0, "the close frame carries a reason");
      const event = await fx.waitEvent(id, "close");
      assert.equal(event.code, 1009);
      assert.equal(fx.eventsOf(id).filter((e) => e.type === "message").length, 0);
      const stats = (await fx.get("/stats")).body;
      assert.ok(stats.oversize >= 1, `stats.oversize ${stats.oversize}`);
      assert.ok(
        stats.closedByCode["1009"] >= 1,
        `stats.closedByCode ${JSON.stringify(stats.closedByCode)}`,
      );
    });
  }

  test("a peer's own close 1009 with the oversize reason's words is not counted as oversize", async () => {
    const before = (await fx.get("/stats")).body.oversize;
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    const done = closed(ws);
    // The words of the error table's 1009 reason, sent by the peer: the server counts
    // oversize closes by the error's code, never by the reason's text.
    ws.close(1009, "Message too big: larger than maxMsgSize");
    await done;
    assert.equal((await fx.waitEvent(id, "close")).code, 1009);
    assert.equal((await fx.get("/stats")).body.oversize, before);
  });

  test("fragments that add up past maxMsgSize close with 1009", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    const done = closed(ws);
    ws.send(new Uint8Array(600), { binary: true, fin: false });
    ws.send(new Uint8Array(401), { binary: true, fin: true });
    assert.equal((await done).code, 1009);
    assert.equal((await fx.waitEvent(id, "close")).code, 1009);
  });

  test("fragments that add up to exactly maxMsgSize are delivered whole", async () => {
    const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
    const reply = nextMessage(ws);
    ws.send(new Uint8Array(600).fill(1), { binary: true, fin: false });
    ws.send(new Uint8Array(400).fill(2), { binary: true, fin: true });
    const got = await reply;
    assert.equal(got.data.length, 1000);
    assert.equal(got.data[0], 1);
    assert.equal(got.data[999], 2);
    ws.close();
  });

  test("a change of maxMsgSize applies to messages received after it", async () => {
    const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
    await fx.post("/settings", { maxMsgSize: 2000 });
    try {
      const reply = nextMessage(ws);
      ws.send(new Uint8Array(1500));
      assert.equal((await reply).data.length, 1500);
      await fx.post("/settings", { maxMsgSize: 1000 });
      const done = closed(ws);
      ws.send(new Uint8Array(1500));
      assert.equal((await done).code, 1009);
    } finally {
      await fx.post("/settings", { maxMsgSize: 1000 });
    }
  });

  test("every documented maxMsgSize up to 2^53-1 works, set while serving or before the start", async () => {
    const ws = await connect(fx.url(`/ws/echo?id=${newId()}`));
    try {
      for (const size of [2 ** 31 - 1, 2 ** 32, 2 ** 51, Number.MAX_SAFE_INTEGER]) {
        const res = await fx.post("/settings", { maxMsgSize: size });
        assert.deepEqual([res.status, res.body.maxMsgSize], [200, size]);
        // The connection that was open, and one opened after the change, still echo.
        const late = await connect(fx.url(`/ws/echo?id=${newId()}`));
        for (const client of [ws, late]) {
          const reply = nextMessage(client);
          client.send(new Uint8Array(1500));
          assert.equal((await reply).data.length, 1500, `echo under maxMsgSize ${size}`);
        }
        late.close();
      }
    } finally {
      ws.close();
      await fx.post("/settings", { maxMsgSize: 1000 });
    }
    const started = await startFixture({
      WSX_FIXTURE_SETTINGS: JSON.stringify({ maxMsgSize: Number.MAX_SAFE_INTEGER }),
    });
    try {
      const client = await connect(started.url("/ws/echo"));
      const reply = nextMessage(client);
      client.send("started with the largest maxMsgSize");
      assert.equal((await reply).data.toString(), "started with the largest maxMsgSize");
      client.close();
    } finally {
      await started.stop();
    }
  });

  test("invalid settings throw TypeError or RangeError naming the setting and the allowed values", async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ maxMsgSize: 0 }, "RangeError", /maxMsgSize.*integer from 1/],
      [{ maxMsgSize: 1.5 }, "RangeError", /maxMsgSize/],
      [{ maxMsgSize: "big" }, "TypeError", /maxMsgSize/],
      [{ timeout: 256 }, "RangeError", /timeout.*0 to 255/],
      [{ timeout: -1 }, "RangeError", /timeout.*0 to 255/],
      [{ timeout: null }, "TypeError", /timeout/],
      [{ colour: 1 }, "TypeError", /Unknown setting "colour"/],
    ];
    for (const [body, name, message] of cases) {
      const res = await fx.post("/settings", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.name, name, JSON.stringify(body));
      assert.match(res.body.message, message);
    }
    const ok = await fx.post("/settings", { timeout: 0 });
    assert.equal(ok.body.timeout, 0);
    await fx.post("/settings", { timeout: 40 });
  });
});

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
import net from "node:net";
import WebSocket from "ws";

describe(`ordering and closing on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("no message reaches onMessage before an async onOpen settles", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/slow-open?id=${id}`));
    const first = nextMessage(ws);
    ws.send("m1");
    ws.send("m2");
    assert.equal((await first).data.toString(), "opening");
    const echoes = [
      (await nextMessage(ws)).data.toString(),
      (await nextMessage(ws)).data.toString(),
    ];
    assert.deepEqual(echoes, ["m1", "m2"]);
    // The server's log comes over the fixture's pipe, the echoes over the socket: wait
    // for the log to hold both messages before reading its order.
    const types = await fx.waitFor(
      () => {
        const seen = fx.eventsOf(id).map((e) => e.type);
        return seen.filter((t) => t === "message").length >= 2 ? seen : undefined;
      },
      5000,
      "both message events",
    );
    assert.deepEqual(types.slice(0, 4), ["open", "open-done", "message", "message"]);
    ws.close();
  });

  test("a client close reaches onClose once with its code and reason", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    const done = closed(ws);
    ws.close(4001, "client bye");
    await done;
    const event = await fx.waitEvent(id, "close");
    assert.equal(event.code, 4001);
    assert.equal(event.reason, "client bye");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fx.eventsOf(id).filter((e) => e.type === "close").length, 1);
    assert.equal(fx.eventsOf(id).filter((e) => e.type === "open").length, 1);
  });

  test("a close without a code reaches onClose as 1005", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    ws.close();
    assert.equal((await fx.waitEvent(id, "close")).code, 1005);
  });

  test("a server close sends its code and reason and onClose reports them", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/cmd?id=${id}`));
    const done = closed(ws);
    ws.send("close 4002 server bye");
    assert.deepEqual(await done, { code: 4002, reason: "server bye" });
    const event = await fx.waitEvent(id, "close");
    assert.equal(event.code, 4002);
    assert.equal(event.reason, "server bye");
  });

  test("onClose never runs inside close(): it follows once close() has returned", async () => {
    const inMessage = newId();
    const ws = await connect(fx.url(`/ws/cmd?id=${inMessage}`));
    const done = closed(ws);
    ws.send("close 4002 from onMessage");
    assert.equal((await done).code, 4002);
    await fx.waitEvent(inMessage, "close");
    assert.deepEqual(fx.eventsOf(inMessage).map((e) => e.type), [
      "open",
      "write-after-close",
      "close",
    ]);

    const inOpen = newId();
    const client = new WebSocket(fx.url(`/ws/close-in-open?id=${inOpen}`));
    const code = await new Promise((resolve) => client.once("close", resolve));
    assert.equal(code, 4100);
    const event = await fx.waitEvent(inOpen, "close");
    assert.deepEqual([event.code, event.reason], [4100, "closed in onOpen"]);
    assert.deepEqual(fx.eventsOf(inOpen).map((e) => e.type), [
      "open",
      "after-close-in-open",
      "close",
    ]);
  });

  test("a dropped TCP connection reaches onClose as 1006", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    await fx.waitEvent(id, "open");
    ws.terminate();
    assert.equal((await fx.waitEvent(id, "close")).code, 1006);
  });

  test("a handler that throws closes that connection with 1011, and others go on", async () => {
    const id = newId();
    const other = await connect(fx.url(`/ws/echo?id=${newId()}`));
    const ws = await connect(fx.url(`/ws/throw?id=${id}`));
    const done = closed(ws);
    ws.send("boom");
    assert.equal((await done).code, 1011);
    assert.equal((await fx.waitEvent(id, "close")).code, 1011);
    const reply = nextMessage(other);
    other.send("still here");
    assert.equal((await reply).data.toString(), "still here");
    other.close();
  });

  test("a client that vanishes mid-handshake does not disturb the server", async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(fx.port, "127.0.0.1", () => {
        socket.write("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n");
        socket.destroy();
        resolve();
      });
    });
    const res = await fetch(fx.http("/"));
    assert.equal(await res.text(), "Hello World!");
  });
});

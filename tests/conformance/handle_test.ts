import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import http from "node:http";
import WebSocket from "ws";
import {
  ask,
  closed,
  connect,
  type Fixture,
  newId,
  nextMessage,
  startFixture,
  target,
} from "./_harness.ts";

describe(`connection handle on ${target}`, { timeout: 120_000 }, () => {
  let fx: Fixture;
  before(async () => fx = await startFixture());
  after(() => fx.stop());

  test("udata starts from the upgrade settings; setUdata returns the old value", async () => {
    const ws = await connect(fx.url(`/ws/cmd?tag=first`));
    assert.equal(await ask(ws, "udata"), "first");
    assert.equal(await ask(ws, "setudata second"), "old:first");
    assert.equal(await ask(ws, "udata"), "second");
    assert.equal(await ask(ws, "facil"), "facil:true:second");
    assert.equal(await ask(ws, "server"), "true");
    ws.close();
  });

  test("uuids are unique over 10,000 connections and never reused", async () => {
    const seen = new Set<string>();
    const total = 10_000;
    const batch = 250;
    for (let start = 0; start < total; start += batch) {
      const ids = await Promise.all(Array.from({ length: batch }, async () => {
        const ws = await connect(fx.url("/ws/cmd"));
        const uuid = await ask(ws, "uuid");
        const done = closed(ws);
        ws.close();
        await done;
        return uuid;
      }));
      for (const id of ids) seen.add(id);
    }
    assert.equal(seen.size, total);
  });

  test("every callback of a connection gets the same handle object", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/echo?id=${id}`));
    ws.send("a");
    await nextMessage(ws);
    ws.close();
    const event = await fx.waitEvent(id, "close");
    assert.equal(event.same, true);
    assert.ok(fx.eventsOf(id).filter((e) => e.type === "message").every((e) => e.same === true));
  });

  test("write sends an ArrayBuffer, a DataView or another typed array as its bytes", async () => {
    const ws = await connect(fx.url("/ws/cmd"));
    ws.send("shapes");
    const [ab, view, u16, all, wrong] = [
      await nextMessage(ws),
      await nextMessage(ws),
      await nextMessage(ws),
      await nextMessage(ws),
      await nextMessage(ws),
    ];
    assert.deepEqual([ab.isBinary, ab.data.toString()], [false, "hi"]);
    assert.deepEqual([view.isBinary, view.data.toString()], [true, "there"]);
    assert.deepEqual([u16.isBinary, [...u16.data]], [true, [0x68, 0x69]]);
    assert.deepEqual([...all.data], Array.from({ length: 64 }, (_, i) => i));
    assert.match(wrong.data.toString(), /^TypeError: Cannot send message: data must be a string/);
    ws.close();
  });

  test('an empty text or binary message is sent, and write says "sent"', async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/cmd?id=${id}`));
    ws.send("empty");
    const got = [await nextMessage(ws), await nextMessage(ws), await nextMessage(ws)];
    assert.deepEqual(got.map((m) => [m.isBinary, m.data.length]), [
      [false, 0],
      [true, 0],
      [true, 0],
    ]);
    const event = await fx.waitEvent(id, "empty-written");
    assert.deepEqual(event.results, ["sent", "sent", "sent"]);
    ws.close();
  });

  test("write after close reports failure without throwing", async () => {
    const id = newId();
    const ws = await connect(fx.url(`/ws/cmd?id=${id}`));
    const done = closed(ws);
    ws.send("close 4001 going");
    assert.deepEqual(await done, { code: 4001, reason: "going" });
    assert.equal((await fx.waitEvent(id, "write-after-close")).result, "closed");
  });

  test("close with a forbidden code throws RangeError naming the allowed codes", async () => {
    const ws = await connect(fx.url("/ws/cmd"));
    assert.match(
      await ask(ws, "bad-close 1005"),
      /^RangeError: Invalid close code 1005: expected 1000-1003/,
    );
    assert.match(await ask(ws, "bad-close 999"), /^RangeError/);
    ws.close();
  });

  test("headers and several cookies from the upgrade settings reach the 101 response", async () => {
    const ws = new WebSocket(fx.url("/ws/headers"));
    const opened = new Promise((resolve) => ws.once("open", resolve));
    const headers = await new Promise<Record<string, string | string[] | undefined>>(
      (resolve, reject) => {
        ws.once("upgrade", (res) => resolve(res.headers));
        ws.once("error", reject);
      },
    );
    assert.equal(headers["x-wsx-test"], "yes");
    assert.deepEqual(headers["set-cookie"], ["a=1; HttpOnly", "b=2; Path=/"]);
    await opened;
    ws.close();
  });

  test("the subprotocol hook picks an offered protocol, or none", async () => {
    const offered = await connect(fx.url("/ws/protocol"), {}, ["chat.v1", "chat.v2"]);
    assert.equal(offered.protocol, "chat.v2");
    assert.equal(await ask(offered, "?"), "protocol:chat.v2");
    offered.close();
    const notOffered = new WebSocket(fx.url("/ws/protocol"), ["chat.v1"]);
    const outcome = await new Promise<string>((resolve) => {
      notOffered.once("open", () => resolve(`open:${notOffered.protocol}`));
      notOffered.once("error", (e) => resolve(`error:${e.message}`));
    });
    // RFC 6455 4.1: a client that offered protocols fails the connection when none is chosen.
    assert.match(outcome, /^error:Server sent no subprotocol|^open:$/);
    notOffered.terminate();
  });

  test("a request that is not a WebSocket handshake gets a clear HTTP error", async () => {
    const plain = await rawGet(fx.port, "/ws/echo", {});
    assert.equal(plain.status, 400);
    const badVersion = await rawGet(fx.port, "/ws/echo", {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "8",
    });
    assert.equal(badVersion.status, 426);
    assert.equal(badVersion.headers["sec-websocket-version"], "13");
    const badKey = await rawGet(fx.port, "/ws/echo", {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "short",
      "sec-websocket-version": "13",
    });
    assert.equal(badKey.status, 400);
  });
});

/** A GET over node:http (fetch refuses upgrade headers), answered by status and headers. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, headers: res.headers });
    });
    // A 101 would arrive here instead of as a response.
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: 101, headers: res.headers });
    });
    req.on("error", reject);
    req.end();
  });
}

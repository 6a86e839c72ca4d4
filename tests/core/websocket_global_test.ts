import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { WebSocketConnection } from "../../src/core/connection.ts";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import { Websocket } from "../../src/core/websocket.ts";
import { ManualClock, RecordingTransport } from "./_fakes.ts";

const made: ConnectionDriver<unknown>[] = [];

function open(): { ws: WebSocketConnection<unknown>; transport: RecordingTransport } {
  const transport = new RecordingTransport();
  const driver = new ConnectionDriver<unknown>({
    handlers: {},
    udata: undefined,
    group: new ServerGroup(null),
    heartbeat: new Heartbeat(new ManualClock()),
  });
  made.push(driver);
  driver.bind(transport);
  driver.open();
  return { ws: driver.handle, transport };
}

/** The handle's methods: what the README promises as functions of the global object. */
function handleMethods(): string[] {
  const proto = WebSocketConnection.prototype;
  return Object.getOwnPropertyNames(proto).filter((name) => {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
    return name !== "constructor" && typeof descriptor.value === "function";
  }).sort();
}

describe("the global Websocket object", () => {
  afterEach(() => {
    for (const driver of made.splice(0)) driver.closed(1006, "");
  });

  test("has every method of the handle as a function, publish being the server-side one", () => {
    const methods = handleMethods();
    assert.ok(methods.length >= 10, `found the handle's methods: ${methods.join(", ")}`);
    const record = Websocket as unknown as Record<string, unknown>;
    const missing = methods.filter((name) => typeof record[name] !== "function");
    assert.deepEqual(missing, [], "README: every method but publish is a global function");
  });

  test("Websocket.publish takes a topic, not a handle: the server-side publish", async () => {
    const { ws, transport } = open();
    Websocket.subscribe(ws, "news");
    Websocket.publish("news", "hello", true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(transport.sent, [["hello", true]]);
  });

  test("subscribe, isSubscribed and unsubscribe take the handle first", () => {
    const { ws } = open();
    assert.equal(Websocket.subscribe(ws, "room"), true);
    assert.equal(Websocket.subscribe(ws, "room"), false, "already subscribed");
    assert.equal(ws.isSubscribed("room"), true);
    assert.equal(Websocket.isSubscribed(ws, "room"), true);
    assert.equal(Websocket.unsubscribe(ws, "room"), true);
    assert.equal(Websocket.unsubscribe(ws, "room"), false, "no longer subscribed");
    assert.equal(ws.isSubscribed("room"), false);
  });

  test("terminate cuts the connection without a close frame", () => {
    const { ws, transport } = open();
    Websocket.terminate(ws);
    assert.deepEqual(transport.log, ["terminate"]);
  });
});

describe("the seed's names", () => {
  test("are the canonical functions of mod.ts, not copies of them", async () => {
    const mod = await import("../../mod.ts");
    assert.equal(mod.Websocket.upgrade, mod.upgrade);
    assert.equal(mod.Websocket.configure, mod.configure);
    assert.equal(mod.Websocket.each, mod.each);
    assert.equal(mod.Websocket.count, mod.count);
    assert.equal(mod.Websocket.broadcast, mod.broadcast);
    assert.equal(mod.Websocket.publish, mod.publish);
    assert.equal(mod.Websocket.clusterCount, mod.clusterCount);
  });

  test("a setting assigned through Websocket is the one configure and settings see", async () => {
    const { configure, resetSettings, settings, Websocket } = await import("../../mod.ts");
    try {
      Websocket.maxMsgSize = 4096;
      assert.equal(settings.maxMsgSize, 4096);
      configure({ maxMsgSize: 8192 });
      assert.equal(Websocket.maxMsgSize, 8192);
      assert.throws(() => (Websocket.maxMsgSize = 0), RangeError);
      assert.equal(settings.maxMsgSize, 8192);
    } finally {
      resetSettings();
    }
  });

  test("mod.ts exports no seam internal", async () => {
    const mod: Record<string, unknown> = await import("../../mod.ts");
    for (const name of ["bindRequest", "ServerGroup", "ConnectionDriver", "planUpgrade"]) {
      assert.equal(name in mod, false, name);
    }
  });
});

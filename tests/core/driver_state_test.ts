import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { capture } from "../../src/core/driver_state.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import {
  heartbeat as sharedHeartbeat,
  openConnections,
  registry,
} from "../../src/core/registry.ts";
import { resetSettings, settings } from "../../src/core/settings.ts";
import type { WebSocketConnection } from "../../src/core/connection.ts";
import { ManualClock, RecordingTransport } from "./_fakes.ts";

const made: ConnectionDriver<unknown>[] = [];

function make(group = new ServerGroup(null), heartbeat?: Heartbeat) {
  const transport = new RecordingTransport();
  const opened: WebSocketConnection<unknown>[] = [];
  const driver = new ConnectionDriver<unknown>({
    handlers: { onOpen: (ws) => void opened.push(ws) },
    udata: null,
    group,
    heartbeat,
  });
  made.push(driver);
  driver.bind(transport);
  return { driver, transport, opened };
}

describe("connection driver state", () => {
  afterEach(() => {
    for (const driver of made.splice(0)) driver.closed(1006, "");
    resetSettings();
  });

  test("connections of one server share the captured settings until a setting changes", () => {
    const group = new ServerGroup(null);
    const heartbeat = new Heartbeat(new ManualClock());
    const first = capture(group, heartbeat, settings);
    assert.equal(capture(group, heartbeat, settings), first);
    assert.ok(Object.isFrozen(first));
    settings.timeout = 7;
    const second = capture(group, heartbeat, settings);
    assert.notEqual(second, first);
    assert.equal(second.timeoutMs, 7000);
    assert.equal(first.timeoutMs, 40000, "earlier connections keep what they captured");
    assert.notEqual(capture(group, new Heartbeat(new ManualClock()), settings), second);
    assert.notEqual(capture(new ServerGroup(null), heartbeat, settings), second);
  });

  test("the handle is made on first use and is the same object ever after", () => {
    const { driver, opened } = make(undefined, new Heartbeat(new ManualClock()));
    driver.open();
    assert.equal(opened.length, 1);
    assert.equal(driver.handle, opened[0]);
    assert.equal(driver.handle, driver.handle);
    assert.equal(driver.protocol, "");
  });

  test("lastHeardAt is the open time, then the tick after a frame, in epoch ms", () => {
    const clock = new ManualClock();
    clock.time = 1_700_000_000_123; // far beyond small-integer range, like Date.now()
    const { driver } = make(undefined, new Heartbeat(clock));
    assert.equal(driver.lastHeardAt, 0, "never heard before it opens");
    clock.time += 5;
    driver.open();
    assert.equal(driver.lastHeardAt, 1_700_000_000_128);
    clock.advance(2);
    assert.equal(driver.lastHeardAt, 1_700_000_000_128, "silence keeps the time");
    driver.heard();
    assert.equal(driver.lastHeardAt, clock.time, "heard now");
    clock.advance(1);
    assert.equal(driver.lastHeardAt, 1_700_000_003_128);
  });

  test("the ping round trip is measured in ms on epoch-sized clocks", () => {
    settings.timeout = 2;
    const clock = new ManualClock();
    clock.time = 1_700_000_000_000;
    const { driver, transport } = make(undefined, new Heartbeat(clock));
    driver.open();
    clock.advance(2);
    assert.deepEqual(transport.log, ["ping"]);
    clock.time += 42;
    driver.pong();
    assert.equal(driver.pingRoundTripMs, 42);
  });

  test("the process-wide heartbeat visits the registry's set and skips drivers with their own", () => {
    settings.timeout = 1;
    const own = make(undefined, new Heartbeat(new ManualClock()));
    own.driver.open();
    const shared = make(); // the process-wide heartbeat
    shared.driver.open();
    assert.ok(openConnections.has(own.driver) && openConnections.has(shared.driver));
    assert.equal(openConnections.size, registry.count());
    sharedHeartbeat.tick();
    sharedHeartbeat.tick();
    assert.deepEqual(own.transport.log, [], "not ticked by a heartbeat that is not its own");
    shared.driver.closed(1000, "");
    assert.equal(openConnections.has(shared.driver), false);
    assert.equal(registry.count(), 1);
  });
});

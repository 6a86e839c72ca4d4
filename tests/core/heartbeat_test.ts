import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import { resetSettings, settings } from "../../src/core/settings.ts";
import { ManualClock, RecordingTransport } from "./_fakes.ts";

function open(
  clock: ManualClock,
  onClose?: (code: number, reason: string) => void,
  heartbeat: Heartbeat = new Heartbeat(clock),
) {
  const transport = new RecordingTransport();
  const driver = new ConnectionDriver({
    handlers: { onClose: (_ws, code, reason) => onClose?.(code, reason) },
    udata: null,
    group: new ServerGroup(null),
    heartbeat,
  });
  driver.bind(transport);
  driver.open();
  return { driver, transport, heartbeat };
}

describe("heartbeat", () => {
  afterEach(() => resetSettings());

  test("one shared tick runs only while connections are open", () => {
    const clock = new ManualClock();
    const heartbeat = new Heartbeat(clock);
    assert.equal(clock.running, 0, "no timer before a connection opens");
    const a = open(clock, undefined, heartbeat), b = open(clock, undefined, heartbeat);
    assert.equal(clock.running, 1, "one timer for two connections");
    a.driver.closed(1000, "");
    assert.equal(clock.running, 1, "still one connection open");
    b.driver.closed(1000, "");
    assert.equal(clock.running, 0, "the tick stops with the last connection");
  });

  test("a silent connection is pinged once the timeout has passed, not before", () => {
    settings.timeout = 5;
    const clock = new ManualClock();
    const { transport } = open(clock);
    clock.advance(4);
    assert.deepEqual(transport.log, []);
    clock.advance(1);
    assert.deepEqual(transport.log, ["ping"]);
  });

  test("any inbound frame restarts the silence count", () => {
    settings.timeout = 5;
    const clock = new ManualClock();
    const { driver, transport } = open(clock);
    clock.advance(4);
    driver.heard();
    clock.advance(4);
    assert.deepEqual(transport.log, []);
    driver.message("x", true);
    clock.advance(5);
    assert.deepEqual(transport.log, []);
    clock.advance(1);
    assert.deepEqual(transport.log, ["ping"]);
  });

  test("writes are not signs of life", () => {
    settings.timeout = 2;
    const clock = new ManualClock();
    const { driver, transport } = open(clock);
    for (let i = 0; i < 3; i++) {
      driver.write("out", true);
      clock.advance(1);
    }
    assert.ok(transport.log.includes("ping"));
  });

  test("no frame after the ping within pongTimeout terminates and onClose says why", () => {
    settings.timeout = 2;
    settings.pongTimeout = 3;
    const clock = new ManualClock();
    const closes: Array<[number, string]> = [];
    const { driver, transport } = open(clock, (code, reason) => closes.push([code, reason]));
    clock.advance(2);
    assert.deepEqual(transport.log, ["ping"]);
    clock.advance(2);
    assert.deepEqual(transport.log, ["ping"]);
    clock.advance(1);
    assert.deepEqual(transport.log, ["ping", "terminate"]);
    driver.closed(1006, "");
    assert.equal(closes.length, 1);
    assert.equal(closes[0][0], 1006);
    assert.match(closes[0][1], /^Ping timeout/);
    assert.equal(driver.group.stats.pingTimeouts, 1);
  });

  test("a ping that throws is reported and leaves the connection in the heartbeat: its pong timeout still ends it", () => {
    settings.timeout = 2;
    settings.pongTimeout = 3;
    const clock = new ManualClock();
    const { transport } = open(clock);
    transport.ping = () => {
      transport.log.push("ping");
      throw new Error("ping failed");
    };
    const reported: unknown[] = [];
    setErrorReporter((error) => reported.push(error));
    clock.advance(2);
    assert.deepEqual(reported.map((e) => (e as Error).message), ["ping failed"]);
    clock.advance(3);
    assert.deepEqual(transport.log, ["ping", "terminate"]);
    setErrorReporter(undefined);
  });

  test("a pong keeps the connection and measures the round trip", () => {
    settings.timeout = 2;
    const clock = new ManualClock();
    const { driver, transport } = open(clock);
    clock.advance(2);
    clock.time += 150;
    driver.pong();
    assert.equal(driver.pingRoundTripMs, 150);
    clock.advance(3);
    assert.equal(transport.log.filter((l) => l === "terminate").length, 0);
  });

  test("each connection keeps the timeout in force when it opened", () => {
    settings.timeout = 2;
    const clock = new ManualClock();
    const first = open(clock);
    settings.timeout = 10;
    const second = open(clock);
    clock.advance(3);
    assert.deepEqual(first.transport.log, ["ping"]);
    assert.deepEqual(second.transport.log, []);
    assert.equal(first.driver.timeoutSeconds, 2);
    assert.equal(second.driver.timeoutSeconds, 10);
  });

  test("timeout 0 never pings", () => {
    settings.timeout = 0;
    const clock = new ManualClock();
    const { transport } = open(clock);
    clock.advance(300);
    assert.deepEqual(transport.log, []);
  });
});

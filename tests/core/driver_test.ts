import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { count, each } from "../../src/core/each.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import { Websocket } from "../../src/core/websocket.ts";
import { resetSettings, settings } from "../../src/core/settings.ts";
import type { WebSocketHandlers } from "../../src/types.ts";
import { FULL, ManualClock, RecordingTransport } from "./_fakes.ts";

const made: ConnectionDriver<unknown>[] = [];

function make<U>(handlers: WebSocketHandlers<U>, udata: U, group = new ServerGroup(null)) {
  const transport = new RecordingTransport();
  const driver = new ConnectionDriver<U>({
    handlers,
    udata,
    group,
    heartbeat: new Heartbeat(new ManualClock()),
  });
  made.push(driver as ConnectionDriver<unknown>);
  driver.bind(transport);
  return { driver, transport };
}

describe("connection driver", () => {
  afterEach(() => {
    // The transport is a recorder: report the end of every connection it was asked to close.
    for (const driver of made.splice(0)) driver.closed(1006, "");
    resetSettings();
    setErrorReporter(undefined);
  });

  test("onClose runs exactly once per onOpen and never without it", () => {
    const calls: string[] = [];
    const opened = make({
      onOpen: () => void calls.push("open"),
      onClose: (_w, c) => void calls.push(`close ${c}`),
    }, 0);
    opened.driver.open();
    opened.driver.closed(1000, "");
    opened.driver.closed(1006, "");
    const never = make({ onClose: () => void calls.push("never") }, 0);
    never.driver.closed(1006, "");
    assert.deepEqual(calls, ["open", "close 1000"]);
  });

  test("a message over maxMsgSize is not delivered and closes with 1009", () => {
    settings.maxMsgSize = 4;
    const got: unknown[] = [];
    const { driver, transport } = make({ onMessage: (_w, d) => void got.push(d) }, 0);
    driver.open();
    driver.message("abcd", true);
    driver.message("é€", true); // 5 UTF-8 bytes in 2 UTF-16 units
    assert.deepEqual(got, ["abcd"]);
    assert.match(transport.log[0], /^close 1009 Message too big/);
    driver.closed(1009, ""); // the transport finishes the close
    assert.equal(driver.group.stats.oversize, 1);
    assert.equal(driver.group.stats.closedByCode[1009], 1);
  });

  test("a transport that enforces maxMsgSize itself gets no second check from the core", () => {
    settings.maxMsgSize = 4;
    const got: unknown[] = [];
    const transport = new RecordingTransport({ ...FULL, enforcesMaxMsgSize: true });
    const driver = new ConnectionDriver<number>({
      handlers: { onMessage: (_w, d) => void got.push(d) },
      udata: 0,
      group: new ServerGroup(null),
      heartbeat: new Heartbeat(new ManualClock()),
    });
    made.push(driver as ConnectionDriver<unknown>);
    driver.bind(transport);
    driver.open();
    // The engine refuses what is over the limit before the message is whole: what reaches
    // the driver was within the setting when it arrived (a lowered setting applies next).
    driver.message("abcdef", true);
    assert.deepEqual(got, ["abcdef"]);
    assert.deepEqual(transport.log, []);
    assert.equal(driver.group.stats.oversize, 0);
  });

  test("a throwing handler is reported and closes that connection with 1011", () => {
    const reported: string[] = [];
    setErrorReporter((_e, where) => reported.push(where));
    const { driver, transport } = make({
      onMessage: () => {
        throw new Error("bug");
      },
    }, 0);
    driver.open();
    driver.message("x", true);
    assert.deepEqual(reported, ["onMessage"]);
    assert.match(transport.log[0], /^close 1011/);
  });

  test("the server's close code and reason win over the peer's echo", () => {
    let seen: [number, string] | undefined;
    const { driver } = make({ onClose: (_w, c, r) => void (seen = [c, r]) }, 0);
    driver.open();
    driver.handle.close(4000, "bye");
    driver.closed(4000, "");
    assert.deepEqual(seen, [4000, "bye"]);
  });

  test("write reports closed after close, and dropped over the cap with the drop policy", () => {
    settings.maxBufferedBytes = 1024;
    settings.backpressure = "drop";
    const { driver, transport } = make({}, 0);
    driver.open();
    transport.bufferedAmount = 1000;
    assert.equal(driver.handle.write(new Uint8Array(100)), "dropped");
    assert.equal(driver.handle.write(new Uint8Array(10)), "sent");
    driver.handle.close();
    assert.equal(driver.handle.write("late"), "closed");
    assert.equal(driver.group.stats.droppedWrites, 1);
  });

  test("each skips the originator, survives a throwing task and finishes once", async () => {
    const group = new ServerGroup(null);
    const drivers = Array.from({ length: 5 }, () => make({}, 0, group).driver);
    drivers.forEach((d) => d.open());
    assert.equal(count(), 5);
    setErrorReporter(() => {});
    const visited: number[] = [];
    let finished = 0;
    const ran = await each(
      drivers[0].handle,
      (ws) => {
        visited.push(ws.getUuid());
        if (visited.length === 2) throw new Error("task bug");
      },
      null,
      () => finished++,
    );
    assert.equal(ran, 4);
    assert.equal(finished, 1);
    assert.ok(!visited.includes(drivers[0].uuid));
    drivers.forEach((d) => d.closed(1000, ""));
    assert.equal(count(), 0);
  });

  test("the Websocket object broadcasts and publishes like the topics module", async () => {
    const group = new ServerGroup(null);
    const made3 = Array.from({ length: 3 }, () => make({}, 0, group));
    made3.forEach(({ driver }) => driver.open());
    const [a, b, c] = made3;
    assert.equal(Websocket.broadcast(a.driver.handle, "hi"), 2);
    assert.deepEqual([a, b, c].map((m) => m.transport.sent.length), [0, 1, 1]);
    assert.equal(b.driver.handle.subscribe("room"), true);
    Websocket.publish("room", Uint8Array.of(7), false);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(b.transport.sent.at(-1), [Uint8Array.of(7), false]);
    assert.equal(c.transport.sent.length, 1);
    assert.equal(await Websocket.clusterCount(), 3);
  });

  test("each over 100,000 connections yields to the event loop between slices", async () => {
    const group = new ServerGroup(null);
    const drivers = Array.from({ length: 100_000 }, () => make({}, 0, group).driver);
    drivers.forEach((d) => d.open());
    // A timer that should fire every 5 ms: the most CPU time the process spent between
    // two of its ticks is the longest stall. CPU time, not wall time: on a loaded machine
    // the scheduler may take the core away for longer than any slice runs.
    let last = process.cpuUsage();
    let longest = 0;
    const probe = setInterval(() => {
      const used = process.cpuUsage(last);
      longest = Math.max(longest, (used.user + used.system) / 1000);
      last = process.cpuUsage();
    }, 5);
    let sum = 0;
    const ran = await each(null, (ws) => {
      // About a microsecond of work per connection, like a small write.
      for (let i = 0; i < 200; i++) sum += ws.getUuid() & i;
    }, null);
    clearInterval(probe);
    assert.equal(ran, 100_000);
    assert.ok(sum > 0);
    assert.ok(
      longest < 100,
      `the event loop was blocked for ${longest.toFixed(1)} ms of CPU at most`,
    );
  });

  test("each over no connection still finishes, asynchronously", async () => {
    let finished = 0;
    const done = each(null, () => {}, 1, () => finished++);
    assert.equal(finished, 0);
    assert.equal(await done, 0);
    assert.equal(finished, 1);
  });
});

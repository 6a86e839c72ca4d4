import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Clock } from "../../src/core/clock.ts";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { Heartbeat } from "../../src/core/heartbeat.ts";
import { setErrorReporter } from "../../src/core/report.ts";
import { resetSettings, settings } from "../../src/core/settings.ts";
import { Wheel } from "../../src/core/wheel.ts";
import { FULL, ManualClock, RecordingTransport } from "./_fakes.ts";

// Real time, a real repeating timer: what the wheel meets outside tests.
const realClock: Clock = {
  now: () => performance.now(),
  every(ms, fn) {
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

describe("Wheel", () => {
  test("a visit that throws is reported, and the items after it are still visited", async () => {
    const reported: unknown[] = [];
    setErrorReporter((error) => reported.push(error));
    const seen: string[] = [];
    const wheel = new Wheel<string>(realClock, (item) => {
      seen.push(item);
      if (item === "b") throw new Error("b failed");
    }, { intervalMs: 20 });
    const at = performance.now() + 10;
    for (const item of ["a", "b", "c"]) wheel.scheduleAt(item, at);
    await sleep(100);
    setErrorReporter(undefined);
    assert.deepEqual(seen, ["a", "b", "c"]);
    assert.deepEqual(reported.map((e) => (e as Error).message), ["b failed"]);
    assert.equal(wheel.size, 0);
  });

  test("an item is visited at its time or within one interval after, never before", async () => {
    const seen: Array<[string, number]> = [];
    const wheel = new Wheel<string>(realClock, (item) => seen.push([item, performance.now()]), {
      intervalMs: 40,
    });
    const start = performance.now();
    wheel.scheduleAt("a", start + 100);
    wheel.scheduleAt("b", start + 30);
    await sleep(300);
    assert.deepEqual(seen.map(([item]) => item), ["b", "a"]);
    const [[, b], [, a]] = seen;
    assert.ok(b - start >= 30 - 5 && b - start <= 30 + 40 + 30, `b after ${b - start} ms`);
    assert.ok(a - start >= 100 - 5 && a - start <= 100 + 40 + 30, `a after ${a - start} ms`);
    assert.equal(wheel.size, 0);
  });

  test("an unscheduled item is never visited, and the timer runs only while needed", () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const wheel = new Wheel<string>(clock, (item) => seen.push(item));
    const a = wheel.scheduleAt("a", clock.now() + 2000);
    wheel.scheduleAt("b", clock.now() + 2000);
    assert.equal(clock.running, 1, "one timer for both");
    wheel.unschedule("a", a);
    clock.advance(3);
    assert.deepEqual(seen, ["b"]);
    assert.equal(clock.running, 0, "nothing waits: no timer");
    const stoppedAt = wheel.beat;
    wheel.pin();
    assert.equal(clock.running, 1, "pinned: the beats go on");
    clock.advance(2);
    assert.equal(wheel.beat, stoppedAt + 2);
    wheel.unpin();
    assert.equal(clock.running, 0);
  });

  test("a visit that schedules for a beat already come waits for the next beat", () => {
    const clock = new ManualClock();
    const seen: Array<[string, number]> = [];
    const wheel: Wheel<string> = new Wheel<string>(clock, (item, _now, w) => {
      seen.push([item, w.beat]);
      if (item === "again") w.schedule("later", w.beat);
    });
    wheel.schedule("again", 1);
    clock.advance(1);
    clock.advance(1);
    assert.deepEqual(seen, [["again", 1], ["later", 2]]);
  });

  test("2,000 items due together are visited in slices of a few ms with the loop running between", async () => {
    let slices = 0, longest = 0, sliceStart = 0, inSlice = false, visited = 0;
    const wheel = new Wheel<number>(realClock, () => {
      if (!inSlice) {
        // A slice is one synchronous run: it ends when the microtasks after it run.
        inSlice = true;
        slices++;
        sliceStart = cpuMs();
        queueMicrotask(() => inSlice = false);
      }
      visited++;
      spin(50); // what a ping or a socket's destroy costs, about
      // CPU time, not wall time: a loaded machine may pause the process within a slice.
      longest = Math.max(longest, cpuMs() - sliceStart);
    }, { intervalMs: 20, sliceMs: 2 });
    const due = performance.now() + 10;
    for (let i = 0; i < 2000; i++) wheel.scheduleAt(i, due);
    const started = performance.now();
    while (visited < 2000 && performance.now() - started < 5000) await sleep(5);
    assert.equal(visited, 2000);
    assert.ok(slices >= 20, `${slices} slices for about 100 ms of visits`);
    assert.ok(longest < 10, `the longest slice ran ${longest.toFixed(1)} ms`);
  });

  test("visits that leave work for the loop's next turn get fewer a slice: slice and aftermath stay short", async () => {
    // Each visit costs 20 us and leaves 200 us for the loop (a destroyed socket's close
    // callbacks, say): a 1 ms slice alone would leave 10 ms behind it. The hold of one
    // loop turn is counted from the work done in it, not timed: a loaded machine may
    // pause the process, and the runtime's own threads add CPU time, neither a hold.
    let visited = 0, aftermaths = 0, turnUs = 0, longestUs = 0;
    // Slices yield with an immediate, as on Node.js: the turn between two is the loop's work.
    const wheel = new Wheel<number>(realClock, () => {
      visited++;
      spin(20);
      turnUs += 20;
      setImmediate(() => (spin(200), turnUs += 200, aftermaths++));
    }, { intervalMs: 20, sliceMs: 1, holdMs: 2.5, defer: setImmediate });
    const probe = setInterval(() => {
      longestUs = Math.max(longestUs, turnUs);
      turnUs = 0;
    }, 1);
    try {
      const due = performance.now() + 10;
      for (let i = 0; i < 600; i++) wheel.scheduleAt(i, due);
      const started = performance.now();
      while (aftermaths < 600 && performance.now() - started < 10_000) await sleep(5);
    } finally {
      clearInterval(probe);
    }
    assert.equal(visited, 600);
    assert.ok(longestUs <= 5000, `one turn of the loop did ${longestUs / 1000} ms of work`);
  });
});

test("a loop busy with other work does not slow a sweep to a visit a turn", async () => {
  // Every turn of the loop carries 8 ms of other connections' work: to the pace it looks
  // like aftermath, yet each slice keeps a quarter of its budget's visits.
  let visited = 0;
  const wheel = new Wheel<number>(realClock, () => (visited++, spin(20)), {
    intervalMs: 20,
    defer: setImmediate,
  });
  let busy = true;
  const load = () => {
    spin(8000);
    if (busy) setImmediate(load);
  };
  try {
    // A calm sweep first: the pace learns what a quiet turn costs.
    for (let i = 0; i < 200; i++) wheel.scheduleAt(i, performance.now() + 10);
    while (visited < 200) await sleep(5);
    setImmediate(load);
    const started = performance.now();
    for (let i = 0; i < 600; i++) wheel.scheduleAt(1000 + i, performance.now() + 10);
    while (visited < 800 && performance.now() - started < 10_000) await sleep(5);
    const took = performance.now() - started;
    assert.equal(visited, 800);
    // A visit a turn would take 600 turns of 8 ms: about 5 s.
    assert.ok(took < 2500, `600 visits took ${took.toFixed(0)} ms on the busy loop`);
  } finally {
    busy = false;
  }
});

describe("Heartbeat visits only the connections that fall due", () => {
  function openMany(count: number, timeout: number, clock: ManualClock) {
    settings.timeout = timeout;
    const heartbeat = new Heartbeat(clock);
    const reads = { capabilities: 0 };
    const drivers: ConnectionDriver<null>[] = [];
    for (let i = 0; i < count; i++) {
      const transport = new RecordingTransport();
      Object.defineProperty(transport, "capabilities", {
        get: () => (reads.capabilities++, FULL),
      });
      const driver = new ConnectionDriver({
        handlers: {},
        udata: null,
        group: new ServerGroup(null),
        heartbeat,
      });
      driver.bind(transport);
      driver.open();
      drivers.push(driver);
    }
    return { heartbeat, drivers, reads };
  }

  test("connections with timeout 0 wait in no bucket and are never visited", () => {
    const clock = new ManualClock();
    const { heartbeat, drivers, reads } = openMany(1000, 0, clock);
    try {
      assert.equal(heartbeat.size, 0);
      const before = reads.capabilities;
      clock.advance(10);
      assert.equal(reads.capabilities, before, "no visit");
      assert.equal(clock.running, 1, "the beats go on (lastHeardAt reads them)");
    } finally {
      for (const driver of drivers) driver.closed(1006, "");
      resetSettings();
    }
    assert.equal(clock.running, 0);
  });

  test("a connection heard every second is visited once per timeout, not every second", async () => {
    const clock = new ManualClock();
    const { heartbeat, drivers, reads } = openMany(100, 5, clock);
    try {
      const before = reads.capabilities;
      for (let second = 0; second < 20; second++) {
        for (const driver of drivers) driver.heard();
        clock.advance(1);
        // A sweep's slices yield the loop between them: let it finish within the second.
        while (heartbeat.sweeping) await sleep(1);
      }
      const visits = (reads.capabilities - before) / drivers.length;
      assert.ok(visits >= 3 && visits <= 5, `${visits} visits each in 20 s with timeout 5`);
    } finally {
      for (const driver of drivers) driver.closed(1006, "");
      resetSettings();
    }
  });

  test("a pongTimeout longer than the timeout: a late answer restarts the silence count", () => {
    const clock = new ManualClock();
    settings.pongTimeout = 10;
    const { drivers: [driver] } = openMany(1, 2, clock);
    const transport = driver.transport as RecordingTransport;
    try {
      clock.advance(2);
      assert.deepEqual(transport.log, ["ping"]);
      clock.advance(1);
      driver.heard(); // in beat 3: the next ping is due 2 s after the tick that follows
      clock.advance(2);
      assert.deepEqual(transport.log, ["ping"]);
      clock.advance(1);
      assert.deepEqual(transport.log, ["ping", "ping"]);
      clock.advance(9);
      assert.deepEqual(transport.log, ["ping", "ping"]);
      clock.advance(1);
      assert.deepEqual(transport.log, ["ping", "ping", "terminate"]);
    } finally {
      driver.closed(1006, "");
      resetSettings();
    }
  });
});

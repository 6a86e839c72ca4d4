// The deadlines of wsx's HTTP/1.1 connections on one wheel (src/adapters/http1_timers.ts),
// driven by a clock moved by hand; tests/http1/limits_test.ts has them on real sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Deadline, Http1Timers } from "../../src/adapters/http1_timers.ts";
import { ManualClock } from "../core/_fakes.ts";

function setup() {
  const clock = new ManualClock();
  const timers = new Http1Timers(clock, 250);
  const fired: number[] = [];
  const deadline = new Deadline(timers);
  const started = clock.time;
  const fire = () => fired.push(clock.time - started);
  // Moves time on and runs the beats that came, as the wheel's timer would.
  const wait = (ms: number) => {
    for (let left = ms; left > 0; left -= 250) {
      clock.time += Math.min(250, left);
      timers.wheel.tick();
    }
  };
  return { clock, timers, deadline, fired, fire, wait };
}

describe("HTTP/1.1 deadlines on one wheel", () => {
  test("a deadline fires once its time has passed, within a beat, and once", () => {
    const { deadline, fired, fire, wait } = setup();
    deadline.set(1000, fire);
    wait(750);
    assert.deepEqual(fired, []);
    wait(2000);
    assert.equal(fired.length, 1);
    assert.ok(fired[0] >= 1000 && fired[0] <= 1250, `fired at ${fired[0]}`);
  });

  test("a deadline set later moves without firing at the old time, still one item", () => {
    const { timers, deadline, fired, fire, wait } = setup();
    deadline.set(1000, fire);
    deadline.set(3000, fire);
    assert.equal(timers.size, 1);
    wait(1500);
    assert.deepEqual(fired, []);
    assert.equal(timers.size, 1, "put back for its new beat");
    wait(2000);
    assert.equal(fired.length, 1);
    assert.ok(fired[0] >= 3000 && fired[0] <= 3250, `fired at ${fired[0]}`);
  });

  test("a deadline set earlier fires at the earlier time", () => {
    const { deadline, fired, fire, wait } = setup();
    deadline.set(5000, fire);
    deadline.set(500, fire);
    wait(1000);
    assert.equal(fired.length, 1);
    assert.ok(fired[0] >= 500 && fired[0] <= 750, `fired at ${fired[0]}`);
    wait(5000);
    assert.equal(fired.length, 1, "the first time is gone");
  });

  test("a cleared deadline never fires and leaves the wheel at its beat", () => {
    const { clock, timers, deadline, fired, fire, wait } = setup();
    deadline.set(1000, fire);
    deadline.clear();
    wait(2000);
    assert.deepEqual(fired, []);
    assert.equal(timers.size, 0);
    assert.equal(clock.running, 0, "the wheel's timer stops with nothing in it");
  });

  test("a stopped deadline leaves the wheel at once, and the wheel's timer stops", () => {
    const { clock, timers, deadline, fired, fire, wait } = setup();
    deadline.set(60_000, fire);
    assert.equal(clock.running, 1);
    deadline.stop();
    assert.equal(timers.size, 0);
    assert.equal(clock.running, 0);
    wait(1000);
    assert.deepEqual(fired, []);
  });

  test("a deadline set on a wheel that stopped long ago falls due at its time", () => {
    const { clock, deadline, fired, fire, wait } = setup();
    deadline.set(500, fire);
    wait(1000);
    // The wheel stopped with nothing left; an hour later it starts again.
    clock.time += 3_600_000;
    const before = fired.length;
    const again = clock.time;
    deadline.set(1000, () => fired.push(clock.time - again));
    wait(1500);
    assert.equal(fired.length, before + 1);
    assert.ok(fired[before] >= 1000 && fired[before] <= 1250, `fired at ${fired[before]}`);
  });
});

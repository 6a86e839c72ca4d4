import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { GapTracker, MAX_ORIGINS, ORIGIN_IDLE_MS } from "../../src/pubsub/_gaps.ts";

describe("GapTracker", () => {
  test("the first number is a baseline; a jump counts the numbers skipped", () => {
    const gaps = new GapTracker();
    assert.equal(gaps.see("a", "t", 41, 0), 0);
    assert.equal(gaps.see("a", "t", 42, 0), 0);
    assert.equal(gaps.see("a", "t", 50, 0), 7);
    assert.equal(gaps.see("a", "u", 9, 0), 0, "each topic has its own baseline");
    assert.equal(gaps.see("b", "t", 3, 0), 0, "each origin too");
  });

  test("the counter wraps at 2^32 without a false gap", () => {
    const gaps = new GapTracker();
    gaps.see("a", "t", 2 ** 32 - 1, 0);
    assert.equal(gaps.see("a", "t", 0, 0), 0);
    assert.equal(gaps.see("a", "t", 3, 0), 2);
  });

  test("a step back or a repeat is a new baseline, not a gap", () => {
    const gaps = new GapTracker();
    gaps.see("a", "t", 100, 0);
    assert.equal(gaps.see("a", "t", 1, 0), 0, "a counter that restarted");
    assert.equal(gaps.see("a", "t", 1, 0), 0);
    assert.equal(gaps.see("a", "t", 4, 0), 2);
  });

  test("forgetTopic starts a new baseline for that topic only", () => {
    const gaps = new GapTracker();
    gaps.see("a", "t", 1, 0);
    gaps.see("a", "u", 1, 0);
    gaps.forgetTopic("t");
    assert.equal(gaps.see("a", "t", 10, 0), 0);
    assert.equal(gaps.see("a", "u", 10, 0), 8);
  });

  test("idle origins are forgotten; the followed origins stay bounded", () => {
    const gaps = new GapTracker();
    gaps.see("old", "t", 1, 0);
    gaps.see("new", "t", 1, ORIGIN_IDLE_MS);
    gaps.sweep(ORIGIN_IDLE_MS + 1);
    assert.equal(gaps.size, 1);
    assert.equal(gaps.see("old", "t", 5, ORIGIN_IDLE_MS + 2), 0, "forgotten: a new baseline");
    assert.equal(gaps.see("new", "t", 5, ORIGIN_IDLE_MS + 2), 3);
    for (let i = 0; i < MAX_ORIGINS * 2; i++) gaps.see(`o${i}`, "t", 1, 0);
    assert.equal(gaps.size, MAX_ORIGINS);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  GapTracker,
  MAX_ORIGINS,
  MAX_PAIRS,
  MAX_TOPICS_PER_ORIGIN,
  ORIGIN_IDLE_MS,
} from "../../src/pubsub/_gaps.ts";

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

  test("clear starts a new baseline for every origin and topic", () => {
    const gaps = new GapTracker();
    gaps.see("a", "t", 1, 0);
    gaps.see("b", "u", 1, 0);
    gaps.clear();
    assert.deepEqual([gaps.size, gaps.pairs], [0, 0]);
    assert.equal(gaps.see("a", "t", 10, 0), 0);
    assert.equal(gaps.see("b", "u", 10, 0), 0);
    assert.equal(gaps.see("a", "t", 12, 0), 1);
  });

  test("topics per origin stay bounded: the oldest is forgotten first", () => {
    const gaps = new GapTracker({ topicsPerOrigin: 3 });
    for (const topic of ["t1", "t2", "t3", "t4"]) gaps.see("a", topic, 1, 0);
    assert.equal(gaps.pairs, 3);
    assert.equal(gaps.see("a", "t1", 5, 0), 0, "t1 was forgotten: a new baseline");
    assert.equal(gaps.see("a", "t4", 5, 0), 3, "t4 is still followed");
  });

  test("pairs stay bounded across origins: the longest-silent origin gives up its oldest topic", () => {
    const gaps = new GapTracker({ topicsPerOrigin: 4, pairs: 6 });
    for (const topic of ["t1", "t2", "t3"]) gaps.see("old", topic, 1, 0);
    for (const topic of ["t1", "t2", "t3"]) gaps.see("new", topic, 1, 1);
    gaps.see("new", "t4", 1, 2);
    assert.equal(gaps.pairs, 6);
    assert.equal(gaps.see("new", "t1", 3, 3), 1, "the recent origin kept its topics");
    assert.equal(gaps.see("old", "t2", 3, 3), 1);
    assert.equal(gaps.see("old", "t1", 9, 3), 0, "the silent origin's oldest went first");
    for (let i = 0; i < 20; i++) gaps.see(`o${i}`, "t", 1, 4);
    assert.ok(gaps.pairs <= 6 && gaps.size <= 6, `${gaps.pairs} pairs, ${gaps.size} origins`);
  });

  test("the default bounds hold many origins times many topics to MAX_PAIRS", () => {
    assert.ok(MAX_PAIRS < MAX_ORIGINS * MAX_TOPICS_PER_ORIGIN);
    const gaps = new GapTracker({ topicsPerOrigin: 100, pairs: 5000 });
    for (let o = 0; o < 100; o++) for (let t = 0; t < 100; t++) gaps.see(`o${o}`, `t${t}`, 1, 0);
    assert.equal(gaps.pairs, 5000);
  });

  test("forgetting the last topic of an origin forgets the origin", () => {
    const gaps = new GapTracker();
    gaps.see("a", "t", 1, 0);
    gaps.see("b", "t", 1, 0);
    gaps.see("b", "u", 1, 0);
    gaps.forgetTopic("t");
    assert.deepEqual([gaps.size, gaps.pairs], [1, 1]);
  });
});

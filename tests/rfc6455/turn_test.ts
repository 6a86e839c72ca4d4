/**
 * TurnQueue: work put off to the end of the event loop's turn (`setImmediate`, as the
 * Node.js engine schedules it).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { TurnQueue } from "../../src/rfc6455/turn.ts";

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));

test("TurnQueue runs what a turn added once, in order, after that turn", async () => {
  const seen: string[] = [];
  let runs = 0;
  const turn = new TurnQueue<string>((item) => void seen.push(item), (run) => {
    runs++;
    setImmediate(run);
  });
  turn.add("a");
  turn.add("b");
  turn.add("c");
  assert.deepEqual(seen, [], "nothing runs within the turn");
  assert.equal(turn.size, 3);
  await turnEnd();
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.equal(runs, 1, "one scheduled run for the whole turn");
  assert.equal(turn.size, 0);
  turn.add("d");
  await turnEnd();
  assert.deepEqual(seen, ["a", "b", "c", "d"]);
  assert.equal(runs, 2);
});

test("TurnQueue keeps running the other items when one throws", async () => {
  const seen: number[] = [];
  const turn = new TurnQueue<number>((item) => {
    if (item === 2) throw new Error("broken connection");
    seen.push(item);
  }, setImmediate);
  for (let i = 1; i <= 4; i++) turn.add(i);
  await turnEnd();
  assert.deepEqual(seen, [1, 3, 4]);
});

test("TurnQueue puts items added while it runs into the next run", async () => {
  const seen: string[] = [];
  const turn: TurnQueue<string> = new TurnQueue<string>((item) => {
    seen.push(item);
    if (item === "first") turn.add("later");
  }, setImmediate);
  turn.add("first");
  await turnEnd();
  assert.deepEqual(seen, ["first"]);
  await turnEnd();
  assert.deepEqual(seen, ["first", "later"]);
});

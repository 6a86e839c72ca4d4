/**
 * TurnQueue: work put off to the end of the event loop's turn (`setImmediate`, as the
 * Node.js engine schedules it).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { type TurnOptions, TurnQueue } from "../../src/rfc6455/turn.ts";

const turnEnd = () => new Promise<void>((resolve) => setImmediate(resolve));
const clock = { ms: 0 };
const node: TurnOptions = { schedule: setImmediate, now: () => clock.ms, budgetMs: 1 };

test("TurnQueue runs what a turn added once, in order, after that turn", async () => {
  const seen: string[] = [];
  let runs = 0;
  const turn = new TurnQueue<string>((item) => void seen.push(item), {
    ...node,
    schedule: (run) => {
      runs++;
      setImmediate(run);
    },
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
  }, node);
  for (let i = 1; i <= 4; i++) turn.add(i);
  await turnEnd();
  assert.deepEqual(seen, [1, 3, 4]);
});

test("TurnQueue puts items added while it runs into the next run", async () => {
  const seen: string[] = [];
  const turn: TurnQueue<string> = new TurnQueue<string>((item) => {
    seen.push(item);
    if (item === "first") turn.add("later");
  }, node);
  turn.add("first");
  await turnEnd();
  assert.deepEqual(seen, ["first"]);
  await turnEnd();
  assert.deepEqual(seen, ["first", "later"]);
});

test("TurnQueue runs at once when the oldest item has waited its budget", async () => {
  const seen: string[] = [];
  const turn = new TurnQueue<string>((item) => void seen.push(item), node);
  clock.ms = 100;
  turn.add("a", turn.due()); // the first chunk's handlers start at 100
  clock.ms = 100.5;
  turn.add("b", turn.due());
  assert.deepEqual(seen, [], "within the budget: still waiting");
  clock.ms = 101;
  turn.due();
  assert.deepEqual(seen, ["a", "b"], "a slow turn does not hold replies past the budget");
  turn.add("c", 101);
  clock.ms = 101.5;
  turn.due();
  assert.deepEqual(seen, ["a", "b"], "the next batch has a budget of its own");
  await turnEnd();
  assert.deepEqual(seen, ["a", "b", "c"]);
});

test("TurnQueue counts an item added without due() from when it was added", () => {
  const seen: string[] = [];
  const turn = new TurnQueue<string>((item) => void seen.push(item), node);
  clock.ms = 200;
  turn.due(); // an earlier chunk that replied nothing
  clock.ms = 300;
  turn.add("greeting"); // the 101, added outside any chunk
  clock.ms = 300.5;
  turn.due();
  assert.deepEqual(seen, [], "not counted from the stale due() at 200");
  clock.ms = 301;
  turn.due();
  assert.deepEqual(seen, ["greeting"]);
});

test("TurnQueue is lone while nothing waits and the last run had at most one item", async () => {
  const turn = new TurnQueue<string>(() => {}, node);
  assert.equal(turn.lone, true, "a new queue");
  turn.add("a");
  assert.equal(turn.lone, false, "something waits in this turn");
  await turnEnd();
  assert.equal(turn.lone, true, "the last run had one item");
  turn.add("b");
  turn.add("c");
  await turnEnd();
  assert.equal(turn.lone, false, "the last run had two: the next turn is likely loaded too");
  turn.add("d");
  await turnEnd();
  assert.equal(turn.lone, true);
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Losses, RedisLossError } from "../../src/pubsub/_loss.ts";

describe("Losses", () => {
  test("a lost subscription names up to three topics and carries them all", () => {
    const reported: Error[] = [];
    const losses = new Losses((error) => reported.push(error), 1000);
    losses.subscriptionLost("the connection ended", ["only"]);
    losses.subscriptionLost("the connection ended", ["a", 'b "quoted"', "c", "d", "e"]);
    assert.deepEqual(reported.map((e) => e.message), [
      'Lost the Redis subscription to topic "only" (the connection ended): messages on it ' +
      "may have been lost, from the last one received until it is subscribed again",
      'Lost the Redis subscription to topics "a", "b \\"quoted\\"", "c" and 2 more ' +
      "(the connection ended): messages on them may have been lost, from the last one " +
      "received until it is subscribed again",
    ]);
    const last = reported[1] as RedisLossError;
    assert.ok(last instanceof RedisLossError);
    assert.deepEqual(
      [last.kind, last.count, last.topics],
      ["subscription-lost", 0, ["a", 'b "quoted"', "c", "d", "e"]],
    );
    assert.ok(Object.isFrozen(last.topics));
    assert.equal(losses.counts.subscriptionsLost, 2);
  });
});

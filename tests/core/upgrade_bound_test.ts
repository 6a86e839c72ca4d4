import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ServerGroup } from "../../src/core/group.ts";
import {
  callBound,
  isUpgradedResponse,
  upgrade,
  upgradedResponse,
  type UpgradePlan,
  type Upgrader,
} from "../../src/core/upgrade.ts";

const HANDSHAKE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

// An adapter side that answers every upgrade with the placeholder and keeps the plans.
class RecordingUpgrader implements Upgrader {
  readonly group = new ServerGroup(null);
  readonly accepted: Array<UpgradePlan<unknown>> = [];
  accept<U>(_request: Request, plan: UpgradePlan<U>): Response {
    this.accepted.push(plan as UpgradePlan<unknown>);
    return upgradedResponse();
  }
}

const request = () => new Request("http://127.0.0.1/", { headers: HANDSHAKE });
const settings = { onMessage: () => {} };

describe("callBound", () => {
  test("a handler that upgrades before it returns reaches its adapter", () => {
    const upgrader = new RecordingUpgrader();
    const response = callBound(request(), upgrader, (req) => upgrade(req, settings));
    assert.equal(isUpgradedResponse(response), true);
    assert.equal(upgrader.accepted.length, 1);
  });

  test("once a synchronous handler returned, its request is no longer tied to the adapter", () => {
    const req = request();
    callBound(req, new RecordingUpgrader(), () => new Response("not now"));
    assert.throws(() => upgrade(req, settings), TypeError);
  });

  test("a handler that returns a promise can upgrade after an await", async () => {
    const upgrader = new RecordingUpgrader();
    const response = await callBound(request(), upgrader, async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return upgrade(req, settings);
    });
    assert.equal(isUpgradedResponse(response), true);
    assert.equal(upgrader.accepted.length, 1);
  });

  test("nested calls restore the outer request, and a throwing handler unties its own", () => {
    const outer = request(), inner = request();
    const outerUpgrader = new RecordingUpgrader(), innerUpgrader = new RecordingUpgrader();
    callBound(outer, outerUpgrader, (req) => {
      assert.throws(() =>
        callBound(inner, innerUpgrader, () => {
          throw new Error("boom");
        }), /boom/);
      return upgrade(req, settings);
    });
    assert.equal(outerUpgrader.accepted.length, 1);
    assert.throws(() => upgrade(inner, settings), TypeError);
  });
});

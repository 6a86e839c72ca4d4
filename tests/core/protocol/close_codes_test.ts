import assert from "node:assert/strict";
import { test } from "node:test";
import { isApplicationCode, isValidWireCode } from "../../../src/core/protocol/close_codes.ts";

test("isValidWireCode follows RFC 6455 section 7.4 and the IANA registry", () => {
  const valid = new Set<number>();
  for (let c = 1000; c <= 1003; c++) valid.add(c);
  for (let c = 1007; c <= 1014; c++) valid.add(c);
  for (let c = 3000; c <= 4999; c++) valid.add(c);
  for (let c = 0; c <= 65535; c++) assert.equal(isValidWireCode(c), valid.has(c), `${c}`);
  assert.equal(isValidWireCode(1000.5), false);
  assert.equal(isValidWireCode(NaN), false);
});

test("isApplicationCode allows 1000 and 3000-4999 only", () => {
  assert.equal(isApplicationCode(1000), true);
  assert.equal(isApplicationCode(3000), true);
  assert.equal(isApplicationCode(4999), true);
  for (const c of [999, 1001, 1002, 1011, 2999, 5000, 1000.1]) {
    assert.equal(isApplicationCode(c), false, `${c}`);
  }
});

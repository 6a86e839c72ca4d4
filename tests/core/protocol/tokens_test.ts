import assert from "node:assert/strict";
import { test } from "node:test";
import {
  FIELD_VALUE,
  listElements,
  listsToken,
  TCHAR,
  TOKEN,
  TRIMMED_FIELD_VALUE,
  trimOws,
} from "../../../src/core/protocol/tokens.ts";

test("TOKEN takes RFC 9110 tchars only", () => {
  assert.equal(TOKEN.test("Sec-WebSocket-Protocol"), true);
  assert.equal(TOKEN.test("!#$%&'*+-.^_`|~09az"), true);
  for (const bad of ["", "a b", "a:b", "a,b", 'a"b', "é", "a\r\nb", "(x)"]) {
    assert.equal(TOKEN.test(bad), false, JSON.stringify(bad));
  }
  assert.equal(TCHAR.test("~"), true);
  assert.equal(TCHAR.test("@"), false);
});

test("FIELD_VALUE refuses CR, LF, NUL and non-ASCII; TRIMMED_FIELD_VALUE also edge whitespace", () => {
  assert.equal(FIELD_VALUE.test("a=1; Path=/\t"), true);
  for (const bad of ["a\rb", "a\nb", "a\0b", "é"]) assert.equal(FIELD_VALUE.test(bad), false);
  assert.equal(TRIMMED_FIELD_VALUE.test("keep-alive, Upgrade"), true);
  assert.equal(TRIMMED_FIELD_VALUE.test(""), true);
  assert.equal(TRIMMED_FIELD_VALUE.test(" x"), false);
  assert.equal(TRIMMED_FIELD_VALUE.test("x\t"), false);
});

test("lists are split on commas, trimmed of OWS, empty elements dropped", () => {
  assert.equal(trimOws(" \t13\t "), "13");
  assert.equal(trimOws("x ab y", 1, 5), "ab");
  assert.deepEqual(listElements(" chat ,, \tsuperchat\t,"), ["chat", "superchat"]);
  assert.equal(listsToken("keep-alive,\tUPGRADE ,x", "upgrade"), true);
  assert.equal(listsToken("upgrades", "upgrade"), false);
  assert.equal(listsToken(null, "upgrade"), false);
  assert.equal(listsToken("Upgrade", "upgrade"), true);
  assert.equal(listsToken("WebSocket", "websocket"), true);
  assert.equal(listsToken(" upgrade,", "upgrade"), true);
  assert.equal(listsToken("upgrad", "upgrade"), false);
  assert.equal(listsToken("up grade", "upgrade"), false);
  assert.equal(listsToken("upgrad\u00c9", "upgrade"), false);
  assert.equal(listsToken("", "upgrade"), false);
  assert.equal(listsToken(",,", "upgrade"), false);
});

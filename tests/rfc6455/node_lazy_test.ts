// The lazy stand-ins for undici's objects on the Node.js upgrade path
// (src/adapters/node_headers.ts, node_lazy.ts, requestUrl in node_request.ts): each must
// answer exactly as the full object (or the URL parser) would.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { headersFrom, lazyHeaders } from "../../src/adapters/node_headers.ts";
import { lazyEmptyResponse } from "../../src/adapters/node_lazy.ts";
import { requestUrl } from "../../src/adapters/node_request.ts";

const RAW = [
  ...["Host", "h", "X-A", "1", "x-a", "2", "Cookie", "a=1", "cookie", "b=2"],
  ...["Spaced", " y ", "Empty", "", "Bad Name", "dropped", "Latin", "\xe9t\xe9", "Nul", "a\0b"],
];

function answer(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    return `throws ${(error as Error).name}: ${(error as Error).message}`;
  }
}

describe("lazy Headers", () => {
  const names = ["host", "X-A", "x-a", "cookie", "spaced", "empty", "latin", "nul", "missing"];
  for (const name of [...names, "Bad Name", "", "é"]) {
    test(`get(${JSON.stringify(name)}) and has() answer as undici's Headers`, () => {
      const lazy = lazyHeaders(RAW), full = headersFrom(RAW);
      assert.equal(answer(() => lazy.get(name)), answer(() => full.get(name)));
      assert.equal(answer(() => lazy.has(name)), answer(() => full.has(name)));
      const fresh = lazyHeaders(RAW);
      assert.equal(answer(() => fresh.has(name)), answer(() => full.has(name)), "has() first");
    });
  }

  test("iterates, copies and changes as undici's Headers", () => {
    const lazy = lazyHeaders(RAW), full = headersFrom(RAW);
    assert.ok(lazy instanceof Headers);
    assert.equal(Object.prototype.toString.call(lazy), "[object Headers]");
    assert.deepEqual([...lazy], [...full]);
    assert.deepEqual([...new Headers(lazy)], [...full]);
    assert.equal(new Request("http://h/", { headers: lazy }).headers.get("x-a"), "1, 2");
    assert.equal(new Response(null, { headers: lazy }).headers.get("cookie"), "a=1; b=2");
    lazy.set("x-a", "9");
    lazy.append("x-b", "3");
    lazy.delete("host");
    assert.equal(lazy.get("x-a"), "9");
    assert.equal(lazy.get("x-b"), "3");
    assert.equal(lazy.has("host"), false);
  });
});

describe("lazy placeholder Response", () => {
  test("behaves as new Response() once looked into", async () => {
    const response = lazyEmptyResponse();
    assert.ok(response instanceof Response);
    assert.equal(response.status, 200);
    assert.equal(response.body, null);
    response.headers.set("x-a", "1");
    assert.equal(new Response(response.body, response).headers.get("x-a"), "1");
    assert.equal(response.clone().headers.get("x-a"), "1");
    assert.equal(await response.text(), "");
  });
});

describe("requestUrl without the URL parser", () => {
  const viaParser = (target: string, host: string, secure: boolean): string => {
    try {
      const url = new URL(`${secure ? "https" : "http"}://${host}${target}`);
      return url.username || url.password ? "refused" : url.href;
    } catch {
      return "refused";
    }
  };
  const hosts = [
    ...["localhost", "127.0.0.1", "127.0.0.1:8080", "127.1", "0x7f.0.0.1", "01.2.3.4"],
    ...["1.2.3.4:80", "1.2.3.4:443", "256.1.1.1", "a.1", "foo.09", "1e3.com", "A.B", "a..b"],
    ...["a.b.", "xn--abc.com", "a.xn--p1ai", "a--b.c", "x:0", "x:65535", "x:65536", "x:080"],
    ...["[::1]:9", "u@h", "h:1:2", "a b"],
  ];
  const targets = [
    ...["/", "/a/b?c=d", "/a/./b", "/a/../b", "/.", "/a/..?x", "/a.b/c.d", "/..x", "/%2e/"],
    ...["/'", "/?'", "/a b", "/a|b", "/~_-!$&()*+,;=:@", "//x", "/a?b?c", "/x#y", "/é", "/`"],
  ];
  test("gives what the URL parser gives, for every host and target in the table", () => {
    for (const host of hosts) {
      for (const target of targets) {
        for (const secure of [false, true]) {
          const expected = viaParser(target, host, secure);
          // Twice: the second call of a canonical pair answers from the last one.
          for (let i = 0; i < 2; i++) {
            const got = answer(() => requestUrl(target, ["Host", host], secure));
            assert.equal(
              typeof got === "string" && got.startsWith("throws") ? "refused" : got,
              expected,
            );
          }
        }
      }
    }
  });
});

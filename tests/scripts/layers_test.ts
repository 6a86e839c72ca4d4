import assert from "node:assert/strict";
import { test } from "node:test";
import { breaches, cycles } from "../../scripts/layers.mjs";

const ENTRY_POINTS = ["mod.ts", "src/serve.ts", "src/adapters/node.ts"];

function check(graph: Record<string, string[]>): string[] {
  return breaches(Object.keys(graph), ENTRY_POINTS, (file: string) => graph[file] ?? []);
}

test("cycles finds every cycle, also through type-only edges, and none in a tree", () => {
  const graph = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a", "d"]],
    ["d", []],
    ["e", ["e"]],
  ]);
  assert.deepEqual(cycles(graph), [["a", "b", "c"], ["e"]]);
  assert.deepEqual(cycles(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), []);
});

test("the layering check names each breach and passes a clean tree", () => {
  assert.deepEqual(
    check({
      "src/core/a.ts": ["src/core/b.ts"],
      "src/core/b.ts": ["src/errors.ts"],
      "src/rfc6455/p.ts": ["src/core/a.ts"],
      "src/adapters/node.ts": ["src/rfc6455/p.ts", "src/pubsub/x.ts"],
      "examples/e.ts": ["mod.ts", "src/adapters/node.ts"],
    }),
    [],
  );
  const found = check({
    "src/core/a.ts": ["src/core/b.ts", "src/rfc6455/p.ts"],
    "src/core/b.ts": ["src/core/a.ts", "src/runtime.ts"],
    "src/rfc6455/p.ts": ["src/adapters/node.ts"],
    "src/adapters/node.ts": ["src/pubsub/_x.ts"],
    "tests/pubsub/x_test.ts": ["src/pubsub/_x.ts"],
    "examples/e.ts": ["src/core/a.ts"],
  });
  assert.deepEqual(
    found.sort(),
    [
      "a private module is imported from outside its folder: src/adapters/node.ts imports src/pubsub/_x.ts",
      "an example imports an internal module: examples/e.ts imports src/core/a.ts",
      "import cycle: src/core/a.ts -> src/core/b.ts",
      "the core imports an outer layer: src/core/a.ts imports src/rfc6455/p.ts",
      "the core imports an outer layer: src/core/b.ts imports src/runtime.ts",
      "the engine imports an outer layer: src/rfc6455/p.ts imports src/adapters/node.ts",
    ].sort(),
  );
});

/** The fast upgrade path on Bun's node:http (`bun test`). */
import { test } from "bun:test";
import { fastPathScenario } from "../interop/_fast_path.ts";

test("the fast upgrade path turns itself off on Bun's node:http; upgrades still work", () =>
  fastPathScenario(false));

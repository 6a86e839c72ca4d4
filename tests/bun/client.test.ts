/** Bun's own WebSocket client against the fixture server on every runtime (`bun test`, scoped by bunfig.toml). */
import { test } from "bun:test";
import { interop, SERVERS } from "../interop/_scenario.ts";

for (const runtime of Object.keys(SERVERS)) {
  test(
    `Bun's WebSocket client talks to the wsx server on ${runtime}`,
    () => interop(runtime, "bun"),
    30_000,
  );
}

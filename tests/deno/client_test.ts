/** Deno's own WebSocket client against the fixture server on every runtime (`deno test -A tests/deno/`). */
import { interop, SERVERS } from "../interop/_scenario.ts";

for (const runtime of Object.keys(SERVERS)) {
  Deno.test(`Deno's WebSocket client talks to the wsx server on ${runtime}`, () =>
    interop(runtime, "deno"));
}

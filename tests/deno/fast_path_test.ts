/** The fast upgrade path on Deno's node:http (`deno test -A tests/deno/`). */
import { fastPathScenario } from "../interop/_fast_path.ts";

Deno.test("the fast upgrade path is taken on Deno's node:http", () => fastPathScenario(true));

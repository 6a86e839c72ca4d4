// Compiles the C load generator with the system compiler into bench/.build/.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BENCH } from "./children.mjs";

/** Builds bench/client/loadgen.c; returns the binary's path and the compiler's name. */
export function buildLoadgen() {
  const dir = join(BENCH, ".build");
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, "loadgen");
  const source = join(BENCH, "client", "loadgen.c");
  try {
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-o", binary, source], {
      stdio: ["ignore", "inherit", "pipe"],
    });
  } catch (error) {
    throw new Error(
      `Cannot build the load generator with "cc -O2": ${error.stderr?.toString() ?? error.message}`,
    );
  }
  const compiler = execFileSync("cc", ["--version"]).toString().split("\n")[0];
  return { binary, compiler };
}

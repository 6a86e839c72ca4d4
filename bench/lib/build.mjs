// Compiles the C load generator and the broadcast receivers with the system compiler
// into bench/.build/.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { BENCH } from "./children.mjs";

function compile(source, binary) {
  try {
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-o", binary, source], {
      stdio: ["ignore", "inherit", "pipe"],
    });
  } catch (error) {
    throw new Error(
      `Cannot build ${source} with "cc -O2": ${error.stderr?.toString() ?? error.message}`,
    );
  }
}

/**
 * Builds bench/client/loadgen.c and bench/pubsub/receivers.c; returns the binaries'
 * paths and the compiler's name.
 */
export function buildLoadgen() {
  const dir = join(BENCH, ".build");
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, "loadgen");
  const receivers = join(dir, "receivers");
  compile(join(BENCH, "client", "loadgen.c"), binary);
  compile(join(BENCH, "pubsub", "receivers.c"), receivers);
  const compiler = execFileSync("cc", ["--version"]).toString().split("\n")[0];
  return { binary, receivers, compiler };
}

#!/usr/bin/env node
// Builds the npm package: compiles mod.ts and src/ with TypeScript (tsconfig.build.json)
// into dist/ as ES modules with .d.ts files, then checks that every entry point of the
// exports map is there. Usage: node scripts/build.mjs (npm run build)
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const TIMEOUT_MS = 120_000;

// Subpath -> compiled file, as in package.json "exports". The Hono helper is built only
// when its source exists.
const entryPoints = {
  ".": "mod",
  "./node": "src/adapters/node",
  "./bun": "src/adapters/bun",
  "./deno": "src/adapters/deno",
  "./serve": "src/serve",
  "./hono": "src/integrations/hono",
  "./redis": "src/pubsub/redis",
};

function tsc() {
  return new Promise((resolve, reject) => {
    const child = spawn(`${root}node_modules/.bin/tsc`, ["-p", "tsconfig.build.json"], {
      cwd: root,
      stdio: "inherit",
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tsc did not finish within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`tsc failed (${code ?? signal}): see the errors above`));
    });
  });
}

const started = Date.now();
rmSync(`${root}dist`, { recursive: true, force: true });
try {
  await tsc();
} catch (error) {
  console.error(`Build failed: ${error.message}`);
  process.exit(1);
}

const missing = [];
for (const [subpath, file] of Object.entries(entryPoints)) {
  if (subpath === "./hono" && !existsSync(`${root}${file}.ts`)) continue;
  for (const ext of [".js", ".d.ts"]) {
    if (!existsSync(`${root}dist/${file}${ext}`)) missing.push(`dist/${file}${ext} (${subpath})`);
  }
}
if (missing.length > 0) {
  console.error(`Build failed: missing entry points: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`Built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);

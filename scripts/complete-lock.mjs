// After `npm install` changes package-lock.json, run `node scripts/complete-lock.mjs
// package-lock.json`: it adds lock entries for the optional Deno platform packages that a
// registry (or a mirror of one) did not serve, so that `npm ci` sees a complete lock and
// skips them as foreign platforms. The entries have the shape `npm install` itself writes
// (`dev: true`, no `resolved`), so a later `npm install` leaves the lock as it is.
import { readFileSync, writeFileSync } from "node:fs";
const file = process.argv[2];
const lock = JSON.parse(readFileSync(file, "utf8"));
const platforms = {
  "@deno/darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "@deno/darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "@deno/linux-arm64-glibc": { os: ["linux"], cpu: ["arm64"] },
  "@deno/win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "@deno/win32-x64": { os: ["win32"], cpu: ["x64"] },
};
const version = lock.packages["node_modules/deno"].optionalDependencies["@deno/linux-x64-glibc"];
for (const [name, { os, cpu }] of Object.entries(platforms)) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = { version, cpu, dev: true, license: "MIT", optional: true, os };
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");

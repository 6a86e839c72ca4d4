// After `npm install` changes package-lock.json, run `node scripts/complete-lock.mjs
// package-lock.json`: it adds lock entries for the optional Deno platform packages that
// our registry mirror does not serve, so that `npm ci` sees a complete lock and skips them
// as foreign platforms.
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
  const base = name.split("/")[1];
  lock.packages[key] = {
    version,
    resolved: `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`,
    cpu,
    license: "MIT",
    optional: true,
    os,
  };
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");

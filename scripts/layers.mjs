#!/usr/bin/env node
// The layering rules of src/, checked on the import graph (issue 11, point 5):
// - no import cycle anywhere in src/ (type-only imports count: a cycle of types is a
//   cycle a reader has to hold in their head all the same);
// - src/core/ (and mod.ts) import nothing from an outer layer: adapters/, rfc6455/ (the
//   engine), pubsub/, cluster/, integrations/, or the runtime-detecting src/serve.ts and
//   src/runtime.ts;
// - the engine (src/rfc6455/) imports no adapter, pub/sub, cluster or integration;
// - a `_`-prefixed module of src/ is imported only from its own folder (tests mirror
//   src/, so tests/<dir>/ may import src/<dir>/_x.ts); the `_` helpers of tests/ (shared
//   harnesses, never run as tests) serve the whole of tests/;
// - examples/ import only the package's entry points (deno.json "exports").
// Usage: node scripts/layers.mjs [--graph]   (exits 1 and names every breach)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const rel = (abs) => relative(root, abs).replaceAll("\\", "/");

function walk(dir) {
  const out = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) out.push(...walk(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

// Static imports and re-exports (single or multi-line), and dynamic `import("...")`.
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Relative `.ts` imports of one file, as paths from the repository root. */
export function importsOf(file) {
  const text = readFileSync(join(root, file), "utf8").replace(/^\s*\/\/.*$/gm, "");
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith(".")) out.push(rel(resolve(root, dirname(file), spec)));
  }
  return out;
}

/** Every cycle's members (strongly connected components of more than one file). */
export function cycles(graph) {
  const index = new Map(), low = new Map(), stack = [], on = new Set(), found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const OUTER = ["src/adapters/", "src/rfc6455/", "src/pubsub/", "src/cluster/", "src/integrations/"];
const RUNTIME_FILES = ["src/serve.ts", "src/runtime.ts"];

/**
 * The breaches of the layering rules, one sentence each.
 * `imports` maps a file to its imports (the files' own on disk unless given).
 */
export function breaches(files, entryPoints, imports = importsOf) {
  const out = [];
  const graph = new Map(files.map((f) => [f, imports(f)]));
  for (const scc of cycles(new Map([...graph].filter(([f]) => f.startsWith("src/"))))) {
    out.push(`import cycle: ${scc.join(" -> ")}`);
  }
  for (const [file, imports] of graph) {
    for (const target of imports) {
      const edge = `${file} imports ${target}`;
      const core = file.startsWith("src/core/") || file === "mod.ts";
      if (core && (OUTER.some((o) => target.startsWith(o)) || RUNTIME_FILES.includes(target))) {
        out.push(`the core imports an outer layer: ${edge}`);
      }
      const engineBan = OUTER.filter((o) => o !== "src/rfc6455/");
      if (file.startsWith("src/rfc6455/") && engineBan.some((o) => target.startsWith(o))) {
        out.push(`the engine imports an outer layer: ${edge}`);
      }
      if (target.startsWith("src/") && target.split("/").pop().startsWith("_")) {
        const own = dirname(target);
        const mirror = own.replace(/^src(\/|$)/, "tests$1");
        const from = dirname(file);
        if (from !== own && from !== mirror) {
          out.push(`a private module is imported from outside its folder: ${edge}`);
        }
      }
      if (
        file.startsWith("examples/") && target.startsWith("src/") && !entryPoints.includes(target)
      ) {
        out.push(`an example imports an internal module: ${edge}`);
      }
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const entryPoints = Object.values(deno.exports).map((p) => p.replace(/^\.\//, ""));
  const files = ["mod.ts", ...walk("src"), ...walk("tests"), ...walk("examples")];
  if (process.argv.includes("--graph")) {
    for (const f of files) console.log(f, "->", importsOf(f).join(" "));
  }
  const found = breaches(files, entryPoints);
  for (const b of found) console.log(b);
  console.log(`${files.length} files, ${found.length} breaches of the layering rules`);
  process.exit(found.length === 0 ? 0 : 1);
}

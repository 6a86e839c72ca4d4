/**
 * The npm package as a Node.js user gets it: build, `npm pack`, install the tarball into a
 * fresh project, then run a plain `.mjs` Hello World (no tsx) and type-check a `.ts` user,
 * and every `ts`/`js` block of the README with the checker of the runtime it names.
 *
 *   node --import tsx --test tests/package/pack_test.ts
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import WebSocket from "ws";
import { readmeSnippets, type Snippet, writeSnippets } from "./_snippets.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
const tsc = join(root, "node_modules", ".bin", "tsc");
const deno = join(root, "node_modules", ".bin", "deno");
// What a reader installs next to the package for the README's snippets: the optional
// peers and the runtimes' types, at the versions this repository is tested with.
const SNIPPET_DEPS = ["hono", "@hono/node-server", "ioredis", "@types/node", "@types/bun"];
// A Node.js user's strict NodeNext project, and a Bun user's as `bun init` writes it
// (skipLibCheck: bun-types and @types/node 20 disagree on a few globals).
const NODE_TSC = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext"];
const BUN_TSC = ["--noEmit", "--strict", "--target", "esnext", "--lib", "esnext", "--skipLibCheck"];
const NAME = "@wsx/wsx";
const SUBPATHS = [NAME, ...["node", "bun", "deno", "serve", "hono"].map((s) => `${NAME}/${s}`)];

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Runs a command to completion; rejects with its output on failure or after `timeoutMs`. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const child = track(spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] }));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => stdout += chunk);
  child.stderr!.on("data", (chunk) => stderr += chunk);
  return new Promise((resolve, reject) => {
    const what = `${cmd} ${args.join(" ")}`;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`Timed out after ${timeoutMs / 1000} s: ${what}\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`Failed (${code ?? signal}): ${what}\n${stdout}${stderr}`));
    });
  });
}

const HELLO = `import { Websocket } from "@wsx/wsx";
import { serve } from "@wsx/wsx/node";

const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  onRequest(request) {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return Websocket.upgrade(request, { onMessage: (ws, data, isText) => ws.write(data, isText) });
    }
    return new Response("Hello World!");
  },
});
console.log("READY " + server.port);
`;

const SUBPATH_CHECK = `const kinds = {};
for (const name of ${JSON.stringify(SUBPATHS)}) {
  const m = await import(name);
  kinds[name] = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]));
}
console.log(JSON.stringify(kinds));
`;

const TYPES_CHECK = `import { Websocket, type WebSocketConnection, type WsxServer } from "@wsx/wsx";
import { serve } from "@wsx/wsx/node";

type User = { name: string };
const server: WsxServer = await serve({
  port: 0,
  onRequest: (request: Request) =>
    Websocket.upgrade<User>(request, {
      udata: { name: "guest" },
      onMessage(ws: WebSocketConnection<User>, data: string | Uint8Array) {
        ws.write(\`\${ws.getUdata().name}: \${String(data)}\`);
      },
    }),
});
await server.shutdown({ timeoutMs: 1000 });
`;

/** Starts `node hello.mjs` and waits for its port. */
function startHello(cwd: string): Promise<{ child: ChildProcess; port: number }> {
  const child = track(
    spawn(process.execPath, ["hello.mjs"], { cwd, stdio: ["ignore", "pipe", "pipe"] }),
  );
  let output = "";
  child.stderr!.on("data", (chunk) => output += chunk);
  return new Promise((resolve, reject) => {
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`hello.mjs ${why}:\n${output}`));
    };
    const timer = setTimeout(() => fail("printed no port within 15 s"), 15_000);
    child.once("exit", (code, signal) => started || fail(`exited early (${code ?? signal})`));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output += `${line}\n`;
      if (started || !line.startsWith("READY ")) return;
      started = true;
      clearTimeout(timer);
      resolve({ child, port: Number(line.slice(6)) });
    });
  });
}

function echo(url: string, message: string | Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("No echo within 5 s"));
    }, 5000);
    ws.once("open", () => ws.send(message));
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      ws.close();
      resolve({ data, isBinary });
    });
    ws.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe("the npm package", { timeout: 300_000 }, () => {
  let work = "";
  let project = "";
  let tarball = "";

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "wsx-pack-"));
    project = join(work, "project");
    await mkdir(project);
  });

  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the build compiles mod.ts and src/ into dist/ with declarations", async () => {
    await run(process.execPath, ["scripts/build.mjs"], root, 120_000);
    for (const file of ["mod.js", "mod.d.ts", "src/adapters/node.js", "src/serve.d.ts"]) {
      assert.ok(existsSync(join(root, "dist", file)), `dist/${file} exists`);
    }
  });

  test("npm pack ships dist/, README.md and LICENSE and nothing else", async () => {
    // The build ran above: skip a prepack script that would run it again.
    const out = await run(
      "npm",
      ["pack", "--json", "--ignore-scripts", "--pack-destination", work],
      root,
      60_000,
    );
    const [info] = JSON.parse(out) as [{ filename: string; files: { path: string }[] }];
    tarball = join(work, info.filename);
    const paths = info.files.map((f) => f.path);
    for (const path of ["package.json", "README.md", "LICENSE", "dist/mod.js", "dist/mod.d.ts"]) {
      assert.ok(paths.includes(path), `the tarball has ${path}`);
    }
    const stray = paths.filter((p) =>
      !/^(dist\/.*\.js|dist\/.*\.d\.ts|README\.md|LICENSE)$/.test(p)
    );
    assert.deepEqual(stray, ["package.json"], "only dist/, README.md and LICENSE are shipped");
  });

  test("the tarball installs into a fresh project", async () => {
    const pkg = { name: "wsx-pack-check", private: true, type: "module" };
    await writeFile(join(project, "package.json"), JSON.stringify(pkg, null, 2));
    await run("npm", ["install", ...NPM_FLAGS, tarball], project, 120_000);
    assert.ok(existsSync(join(project, "node_modules", "@wsx", "wsx", "dist", "mod.js")));
  });

  test("every subpath of the exports map loads in plain Node.js", async () => {
    await writeFile(join(project, "subpaths.mjs"), SUBPATH_CHECK);
    const kinds = JSON.parse(await run(process.execPath, ["subpaths.mjs"], project, 20_000));
    assert.equal(kinds[NAME].Websocket, "object");
    assert.equal(kinds[NAME].upgrade, "function");
    assert.equal(kinds[NAME].each, "function");
    for (const adapter of ["node", "bun", "deno", "serve"].map((s) => `${NAME}/${s}`)) {
      assert.equal(kinds[adapter].serve, "function", `${adapter} exports serve`);
    }
    assert.equal(kinds[`${NAME}/hono`].websocket, "function");
  });

  test("a Hello World .mjs serves HTTP and echoes over WebSocket", async () => {
    await writeFile(join(project, "hello.mjs"), HELLO);
    const { child, port } = await startHello(project);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      assert.equal(await res.text(), "Hello World!");
      const text = await echo(`ws://127.0.0.1:${port}/`, "ping");
      assert.deepEqual([text.data.toString(), text.isBinary], ["ping", false]);
      const binary = await echo(`ws://127.0.0.1:${port}/`, Buffer.from([0, 1, 2, 255]));
      assert.deepEqual([[...binary.data], binary.isBinary], [[0, 1, 2, 255], true]);
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("the declarations type-check a TypeScript user (NodeNext)", async () => {
    await writeFile(join(project, "check.ts"), TYPES_CHECK);
    await run(
      join(root, "node_modules", ".bin", "tsc"),
      [
        "--noEmit",
        "--strict",
        ...["--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext"],
        ...["--types", "node", "--typeRoots", join(root, "node_modules", "@types")],
        "check.ts",
      ],
      project,
      60_000,
    );
  });

  describe("the README's code blocks, pasted into the project", () => {
    let snippets: Snippet[] = [];

    before(async () => {
      snippets = readmeSnippets(await readFile(join(root, "README.md"), "utf8"));
      const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
      const deps = SNIPPET_DEPS.map((name) => `${name}@${pkg.devDependencies[name]}`);
      await run("npm", ["install", ...NPM_FLAGS, ...deps], project, 120_000);
    });

    test("every ts and js block names its runtime, and each runtime has some", () => {
      for (const runtime of ["node", "bun", "deno"]) {
        assert.ok(snippets.some((s) => s.runtime === runtime), `a "${runtime}" block`);
      }
    });

    test("the node blocks type-check with @types/node (strict, NodeNext)", async () => {
      const files = await writeSnippets(snippets, "node", join(project, "readme-node"));
      const args = [...NODE_TSC, "--types", "node", "--allowJs", "--checkJs", ...files];
      await run(tsc, args, project, 120_000);
    });

    test("the bun blocks type-check with @types/bun", async () => {
      const files = await writeSnippets(snippets, "bun", join(project, "readme-bun"));
      const args = [...BUN_TSC, "--module", "preserve", "--types", "bun", ...files];
      await run(tsc, [...args, "--moduleResolution", "bundler"], project, 120_000);
    });

    test("the deno blocks pass deno check, from JSR's sources and from npm", async () => {
      // jsr:@wsx/wsx serves the files deno.json exports: map the names to them.
      const config = JSON.parse(await readFile(join(root, "deno.json"), "utf8"));
      const imports: Record<string, string> = { ...config.imports };
      for (const [subpath, file] of Object.entries<string>(config.exports)) {
        imports[`@wsx/wsx${subpath.slice(1)}`] = pathToFileURL(join(root, file)).href;
      }
      const jsr = { imports, nodeModulesDir: "manual" };
      await writeFile(join(project, "deno.json"), JSON.stringify(jsr, null, 2));
      const fromJsr = await writeSnippets(snippets, "deno", join(project, "readme-deno"));
      await run(deno, ["check", ...fromJsr], project, 120_000);
      // npm:@wsx/wsx: the same names resolve to the installed package.
      const dir = join(project, "readme-deno-npm");
      const fromNpm = await writeSnippets(snippets, "deno", dir);
      await writeFile(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
      await run(deno, ["check", ...fromNpm], dir, 120_000);
    });
  });
});

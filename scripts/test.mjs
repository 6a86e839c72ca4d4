#!/usr/bin/env node
// The whole suite, as `npm test` runs it: quality gates, unit tests, the shared
// conformance suite against a real server on Deno, Bun and Node, and each runtime's own
// WebSocket client. Prints a summary per runtime and a closing "N passed, N failed".
// Usage: node scripts/test.mjs [--only=gates,unit,deno,deno-native,bun,bun-native,node]
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const deno = bin("deno");
const bun = bin("bun");
const files = (dir, suffix = "_test.ts") =>
  readdirSync(`${root}${dir}`).filter((f) => f.endsWith(suffix)).sort().map((f) => `${dir}/${f}`);
const nodeTest = (
  paths,
  flags = [],
) => [process.execPath, [...flags, "--import", "tsx", "--test", "--test-reporter=tap", ...paths]];
// Node 20 has its own WebSocket client (undici's) behind a flag; the interop tests use it.
const nodeWebSocket = globalThis.WebSocket === undefined &&
    process.allowedNodeEnvironmentFlags.has("--experimental-websocket")
  ? ["--experimental-websocket"]
  : [];
const testDirs = readdirSync(`${root}tests`, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "testdata").map((d) => `tests/${d.name}`);
const entryPoints = [
  "mod.ts",
  "src/adapters/deno.ts",
  "src/adapters/bun.ts",
  "src/adapters/node.ts",
  "src/serve.ts",
  "src/integrations/hono.ts",
  "src/pubsub/redis.ts",
];

const phases = [
  { group: "gates", name: "deno fmt --check", cmd: [deno, ["fmt", "--check"]] },
  { group: "gates", name: "deno lint", cmd: [deno, ["lint"]] },
  {
    group: "gates",
    name: "deno check",
    // tests/bun is written for Bun's own runner (bun:test) and checked by Bun.
    cmd: [deno, [
      "check",
      "mod.ts",
      "src/",
      "examples/",
      ...testDirs.filter((d) => d !== "tests/bun"),
    ]],
  },
  {
    group: "gates",
    name: "core is runtime-free (tsc, ESNext + DOM libs only)",
    cmd: [bin("tsc"), ["-p", "tsconfig.core.json"]],
  },
  {
    group: "gates",
    name: "layering: no import cycle, core and engine import no outer layer (scripts/layers.mjs)",
    cmd: [process.execPath, [`${root}scripts/layers.mjs`]],
  },
  { group: "gates", name: "deno doc --lint", cmd: [deno, ["doc", "--lint", ...entryPoints]] },
  {
    group: "gates",
    name: "deno publish --dry-run",
    cmd: [deno, ["publish", "--dry-run", "--allow-dirty"]],
  },
  {
    group: "unit",
    name:
      "core, RFC 6455 engine, Node adapter parts, HTTP/1.1 server and scripts unit tests (node:test)",
    cmd: nodeTest(
      [
        ...files("tests/core"),
        ...files("tests/core/protocol"),
        ...files("tests/adapters"),
        ...files("tests/http1"),
        ...files("tests/rfc6455"),
        ...files("tests/rfc6455/deflate"),
        ...files("tests/scripts"),
      ],
      nodeWebSocket,
    ),
    parse: "tap",
  },
  // wsx's engine on every runtime (groups deno, bun, node), and the native servers of
  // Deno and Bun (groups deno-native, bun-native).
  ...[
    ["deno", "engine"],
    ["deno", "native"],
    ["bun", "engine"],
    ["bun", "native"],
    ["node", "engine"],
  ].map(([rt, transport]) => ({
    group: transport === "native" ? `${rt}-native` : rt,
    name: transport === "native"
      ? `conformance suite against ${rt}'s native WebSocket server`
      : `conformance suite against wsx's engine on ${rt}`,
    cmd: nodeTest(files("tests/conformance")),
    env: { WSX_RUNTIME: rt, WSX_TRANSPORT: transport },
    parse: "tap",
  })),
  {
    group: "pubsub",
    name: "pub/sub across processes: RedisEngine and serve({ processes }) on a real redis-server",
    cmd: nodeTest(files("tests/pubsub")),
    parse: "tap",
  },
  ...["deno", "bun", "node"].map((rt) => ({
    group: rt,
    name: `chat demo in headless Chromium against a ${rt} server`,
    cmd: nodeTest(["tests/e2e/chat_test.ts"]),
    env: { WSX_RUNTIME: rt },
    parse: "tap",
  })),
  ...["deno", "bun", "node"].map((rt) => ({
    group: rt,
    name: `1 GiB upload streamed into a hash (examples/upload.ts) on the engine under ${rt}`,
    cmd: nodeTest(["tests/e2e/upload_test.ts"]),
    env: { WSX_RUNTIME: rt },
    parse: "tap",
  })),
  {
    group: "package",
    name: "npm package: build, pack, install, run with plain node; README blocks type-checked",
    cmd: nodeTest(["tests/package/pack_test.ts"]),
    parse: "tap",
  },
  {
    group: "deno",
    name: "Deno's WebSocket client (deno test)",
    cmd: [deno, ["test", "-A", "tests/deno/"]],
    parse: "deno",
  },
  { group: "bun", name: "Bun's WebSocket client (bun test)", cmd: [bun, ["test"]], parse: "bun" },
  // The HTTP/1.1 server's tests (node:test) under the other runtimes' own runners.
  {
    group: "deno",
    name: "HTTP/1.1 server over node:net on Deno (deno test)",
    cmd: [deno, ["test", "-A", "tests/http1/"]],
    parse: "deno",
  },
  {
    group: "bun",
    name: "HTTP/1.1 server over node:net on Bun (bun test)",
    cmd: [bun, ["test", "./tests/http1/"]],
    parse: "bun",
  },
];

const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");

function run(phase) {
  return new Promise((resolve) => {
    const [cmd, args] = phase.cmd;
    const started = Date.now();
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...phase.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => out += c);
    child.stderr.on("data", (c) => out += c);
    child.on("close", (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 }));
  });
}

function count(phase, result) {
  const num = (re) => Number(result.out.match(re)?.[1] ?? NaN);
  let passed, failed;
  if (phase.parse === "tap") [passed, failed] = [num(/^# pass (\d+)/m), num(/^# fail (\d+)/m)];
  else if (phase.parse === "deno") [passed, failed] = [num(/(\d+) passed/), num(/(\d+) failed/)];
  else if (phase.parse === "bun") {
    [passed, failed] = [num(/^\s*(\d+) pass/m), num(/^\s*(\d+) fail/m)];
  } else [passed, failed] = result.code === 0 ? [1, 0] : [0, 1];
  // A runner that crashed or printed no count fails the phase.
  if (Number.isNaN(passed) || Number.isNaN(failed)) [passed, failed] = [0, 1];
  if (result.code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

function failureDetail(phase, out) {
  if (phase.parse !== "tap") return out.split("\n").slice(-60).join("\n");
  const lines = out.split("\n");
  const keep = [];
  lines.forEach((line, i) => {
    if (/^\s*not ok /.test(line)) {
      keep.push(...lines.slice(i, i + 25).filter((l) => !/^\s+at /.test(l)));
    }
  });
  return (keep.length ? keep : lines.slice(-60)).join("\n");
}

const summary = new Map();
let passed = 0, failed = 0;
for (const phase of phases) {
  if (only && !only.includes(phase.group)) continue;
  const result = await run(phase);
  const c = count(phase, result);
  passed += c.passed;
  failed += c.failed;
  const row = summary.get(phase.group) ?? { passed: 0, failed: 0 };
  row.passed += c.passed;
  row.failed += c.failed;
  summary.set(phase.group, row);
  const mark = c.failed === 0 ? "ok  " : "FAIL";
  console.log(
    `${mark} [${phase.group}] ${phase.name}: ${c.passed} passed, ${c.failed} failed (${
      result.seconds.toFixed(1)
    } s)`,
  );
  if (c.failed > 0) console.log(failureDetail(phase, result.out).replace(/^/gm, "     | "));
}

console.log("\nSummary per runtime:");
for (const [group, row] of summary) {
  console.log(
    `  ${group.padEnd(11)} ${String(row.passed).padStart(5)} passed ${
      String(row.failed).padStart(4)
    } failed`,
  );
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

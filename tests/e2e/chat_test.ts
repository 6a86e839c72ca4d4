/**
 * End to end: the chat demo (examples/chat/) on each runtime, driven by headless Chromium
 * through playwright-core. Two pages join as alice and bob, talk both ways, and one leaves.
 *
 *   node --import tsx --test tests/e2e/chat_test.ts          # deno, bun and node
 *   WSX_RUNTIME=bun node --import tsx --test tests/e2e/chat_test.ts
 *
 * Chromium comes from the system (Debian's `chromium` package, /usr/bin/chromium, or
 * CHROMIUM_PATH); without it the suite fails rather than skips.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

type Runtime = "deno" | "bun" | "node";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const CHROMIUM_MISSING = `Chromium not found at ${CHROMIUM}: install it ` +
  "(Debian: apt-get install -y chromium) or set CHROMIUM_PATH";
const STEP_MS = 10_000;
const root = fileURLToPath(new URL("../../", import.meta.url));
const serverFile = fileURLToPath(new URL("../../examples/chat/server.ts", import.meta.url));

const ALL: readonly Runtime[] = ["deno", "bun", "node"];
const selected = process.env.WSX_RUNTIME;
if (selected !== undefined && !ALL.includes(selected as Runtime)) {
  throw new TypeError(`Invalid WSX_RUNTIME: expected "deno", "bun" or "node", got "${selected}"`);
}
const runtimes: readonly Runtime[] = selected ? [selected as Runtime] : ALL;

// The documented start commands (package.json: start, start:deno, start:bun).
function commandFor(rt: Runtime): [string, string[]] {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  switch (rt) {
    case "deno":
      return [bin("deno"), ["run", "--allow-net", "--allow-env", "--allow-read", serverFile]];
    case "bun":
      return [bin("bun"), ["run", serverFile]];
    case "node":
      return [process.execPath, ["--import", "tsx", serverFile]];
  }
}

// Last line of defence: no server outlives the test process, whatever failed.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface ChatServer {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  kill(): Promise<void>;
}

/** Starts the chat server on 127.0.0.1 and a free port, and waits for its banner. */
function startChat(rt: Runtime): Promise<ChatServer> {
  const [cmd, args] = commandFor(rt);
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  child.stderr!.on("data", (chunk) => output += chunk);
  const server = (url: string): ChatServer => ({
    child,
    url,
    output: () => output,
    async kill() {
      child.kill("SIGKILL");
      await exited(child, 5000);
    },
  });
  return new Promise((resolve, reject) => {
    let started = false;
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`Chat server on ${rt} ${why}:\n${output}`));
    };
    const timer = setTimeout(() => fail("printed no banner within 30 s"), 30_000);
    child.once("exit", (code, signal) => started || fail(`exited early (${code ?? signal})`));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output += `${line}\n`;
      const port = /^Chat on http:\/\/localhost:(\d+)\/$/.exec(line)?.[1];
      if (started || port === undefined) return;
      started = true;
      clearTimeout(timer);
      resolve(server(`http://127.0.0.1:${port}/`));
    });
  });
}

/** Waits until the page's message list has an `<li>` whose text is exactly `line`. */
async function waitForLine(page: Page, line: string): Promise<void> {
  try {
    await page.waitForFunction(
      (text) =>
        [...document.querySelectorAll("#messages li")].some((li) => li.textContent === text),
      line,
      { timeout: STEP_MS },
    );
  } catch (error) {
    const lines = await page.locator("#messages li").allTextContents();
    throw new Error(`No line "${line}" on the page; it shows ${JSON.stringify(lines)}`, {
      cause: error,
    });
  }
}

async function joinAs(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#join");
  await waitForLine(page, `${name} joined`);
  assert.equal(await page.isEnabled("#send"), true, "the send button is enabled after joining");
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#send");
}

async function nameCookie(context: BrowserContext, url: string) {
  return (await context.cookies(url)).find((c) => c.name === "chat_name");
}

test(`Chromium is installed at ${CHROMIUM}`, () => {
  assert.ok(existsSync(CHROMIUM), CHROMIUM_MISSING);
});

for (const rt of runtimes) {
  describe(`chat demo on ${rt}, in Chromium`, { timeout: 120_000 }, () => {
    let server: ChatServer | undefined;
    let context: BrowserContext | undefined;
    let profile: string | undefined;
    let alice: Page;
    let bob: Page;
    const pageErrors: string[] = [];
    // The Sec-WebSocket-Extensions of every 101 alice's page got, as Chromium saw it.
    const extensions: Array<string | undefined> = [];

    before(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(CHROMIUM_MISSING);
      server = await startChat(rt);
      profile = await mkdtemp(join(tmpdir(), "wsx-chat-chromium-"));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 30_000,
      });
      context.setDefaultTimeout(STEP_MS);
      context.on("weberror", (e) => pageErrors.push(String(e.error())));
      alice = await context.newPage();
      const cdp = await context.newCDPSession(alice);
      await cdp.send("Network.enable");
      cdp.on("Network.webSocketHandshakeResponseReceived", (event) => {
        const headers = event.response.headers as Record<string, string>;
        const name = Object.keys(headers).find((n) =>
          n.toLowerCase() === "sec-websocket-extensions"
        );
        extensions.push(name === undefined ? undefined : headers[name]);
      });
      bob = await context.newPage();
    });

    after(async () => {
      await context?.close().catch(() => {});
      await server?.kill();
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    test("serves the page and refuses an invalid name with 400", async () => {
      const page = await fetch(server!.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await page.text(), /id="messages"/);
      const refused = await fetch(new URL("/ws?name=no%20spaces", server!.url));
      assert.equal(refused.status, 400);
      await refused.body?.cancel();
    });

    test("alice and bob join, each gets the chat_name cookie, alice sees bob join", async () => {
      await joinAs(alice, server!.url, "alice");
      const cookie = await nameCookie(context!, server!.url);
      assert.equal(cookie?.value, "alice", "chat_name is set when alice joins");
      assert.equal(cookie?.path, "/");
      assert.equal(cookie?.sameSite, "Lax");
      await joinAs(bob, server!.url, "bob");
      assert.equal((await nameCookie(context!, server!.url))?.value, "bob");
      await waitForLine(alice, "bob joined");
    });

    test("permessage-deflate is negotiated where the runtime can (README)", () => {
      // The chat server turns perMessageDeflate on, and each runtime's default transport
      // negotiates it: wsx's engine (Node.js, Deno) and Bun's native server both answer
      // Chromium's offer with the two no_context_takeover parameters. (Deno's native
      // server, not the default, has no permessage-deflate: see the README.)
      const expected = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
      assert.equal(extensions.length, 1, "alice's page opened one WebSocket");
      const got = extensions[0]?.split(";").map((p) => p.trim()).sort().join("; ");
      assert.equal(got, expected?.split("; ").sort().join("; "));
    });

    test("messages reach both pages, both ways, as text", async () => {
      await say(alice, "hello bob");
      await waitForLine(bob, "alice: hello bob");
      await waitForLine(alice, "alice: hello bob");
      await say(bob, "hi alice <b>not bold</b>");
      await waitForLine(alice, "bob: hi alice <b>not bold</b>");
      await waitForLine(bob, "bob: hi alice <b>not bold</b>");
      assert.equal(await alice.locator("#messages b").count(), 0, "no markup from other users");
      assert.equal(await alice.inputValue("#text"), "", "the input is cleared after sending");
    });

    test("bob closes his page and alice sees him leave", async () => {
      await bob.close();
      await waitForLine(alice, "bob left");
      assert.deepEqual(pageErrors, [], "no script errors on the pages");
    });

    test("the server stops on SIGTERM", async () => {
      server!.child.kill("SIGTERM");
      assert.equal(
        await exited(server!.child, STEP_MS),
        true,
        `still running:\n${server!.output()}`,
      );
    });
  });
}

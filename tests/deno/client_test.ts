/**
 * Deno's own WebSocket client against the fixture server on every runtime.
 * Run by `deno test -A tests/deno/`.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const bin = (name: string) => new URL(`node_modules/.bin/${name}`, root).pathname;
const fixture = new URL("tests/conformance/fixture_server.ts", root).pathname;

const commands: Record<string, [string, string[]]> = {
  deno: [bin("deno"), ["run", "-A", fixture]],
  bun: [bin("bun"), ["run", fixture]],
  node: ["node", ["--import", "tsx", fixture]],
};

async function withServer(runtime: string, fn: (port: number) => Promise<void>): Promise<void> {
  const [cmd, args] = commands[runtime];
  const child = new Deno.Command(cmd, { args, cwd: root.pathname, stdout: "piped", stderr: "null" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let port = 0;
  while (port === 0) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`fixture on ${runtime} exited`);
    buffered += value;
    const match = buffered.match(/READY \{"port":(\d+)\}/);
    if (match) port = Number(match[1]);
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  try {
    await fn(port);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await drain.catch(() => {});
  }
}

function open(url: string): Promise<{ ws: WebSocket; next: () => Promise<MessageEvent> }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const queue: MessageEvent[] = [];
  const waiters: ((e: MessageEvent) => void)[] = [];
  ws.onmessage = (e) => {
    const waiter = waiters.shift();
    if (waiter) waiter(e);
    else queue.push(e);
  };
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<MessageEvent>((resolve) => waiters.push(resolve));
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ ws, next });
    ws.onerror = () => reject(new Error("connection failed"));
  });
}

for (const runtime of Object.keys(commands)) {
  Deno.test(`Deno's WebSocket client talks to the wsx server on ${runtime}`, async () => {
    await withServer(runtime, async (port) => {
      const { ws, next } = await open(`ws://127.0.0.1:${port}/ws/echo`);
      for (const size of [0, 125, 126, 65536]) {
        ws.send("x".repeat(size));
        assert.equal((await next()).data, "x".repeat(size));
        const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
        ws.send(bytes);
        assert.deepEqual(new Uint8Array((await next()).data as ArrayBuffer), bytes);
      }
      const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
      ws.close(4000, "deno bye");
      const event = await closed;
      assert.equal(event.code, 4000);

      const cmd = await open(`ws://127.0.0.1:${port}/ws/cmd`);
      const serverClosed = new Promise<CloseEvent>((resolve) => cmd.ws.onclose = resolve);
      cmd.ws.send("close 4003 from server");
      const byServer = await serverClosed;
      assert.equal(byServer.code, 4003);
      assert.equal(byServer.reason, "from server");
    });
  });
}

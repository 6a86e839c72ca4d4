/**
 * The runtime's own WebSocket client (Bun's, Deno's) against a server: prints one JSON
 * line with the extension it negotiated and whether a JSON message came back intact.
 * Usage: `<runtime> _runtime_client.ts PORT`.
 */

const g = globalThis as { Deno?: { args: string[] }; process?: { argv: string[] } };
const port = g.Deno ? g.Deno.args[0] : g.process!.argv[2];
const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});
const message = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, name: "item" })));
const echoed = new Promise((resolve) => (ws.onmessage = (event) => resolve(event.data)));
ws.send(message);
console.log(JSON.stringify({ extensions: ws.extensions, echoed: (await echoed) === message }));
ws.close();

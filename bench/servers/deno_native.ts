/**
 * Deno's own WebSocket server, with no wsx in it: `Deno.serve` and
 * `Deno.upgradeWebSocket`, echoing what arrives, as an application written for Deno
 * alone would. Run with `deno run -A --v8-flags=--expose-gc`.
 *
 * @module
 */

import { control } from "./_control.ts";

const sockets = new Set<WebSocket>();

const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request) => {
  // No idle pings: the other servers send none either (idle connections are measured).
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  socket.binaryType = "arraybuffer";
  socket.onopen = () => sockets.add(socket);
  socket.onmessage = (event) => socket.send(event.data);
  socket.onclose = () => sockets.delete(socket);
  socket.onerror = () => {};
  return response;
});

control({
  port: server.addr.port,
  info: { server: "deno-native" },
  connections: () => sockets.size,
  stop: async () => {
    for (const socket of sockets) socket.close();
    await server.shutdown();
  },
  broadcast: (message) => {
    for (const socket of sockets) socket.send(message);
  },
});

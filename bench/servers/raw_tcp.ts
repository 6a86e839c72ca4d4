/**
 * A raw TCP echo server on `node:net`: every chunk is written back unchanged, as it
 * arrives. It does no framing at all, so it shows what Node.js's socket layer costs a
 * naive echo (one write per chunk read); wsx's engine, which writes a turn's replies
 * after the turn's reads, can go below it.
 *
 * @module
 */

import { createServer, type Socket } from "node:net";
import { control } from "./_control.ts";

const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on("data", (chunk) => {
    // Stop reading while the write buffer is full, so nothing is buffered without bound.
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
  socket.on("error", () => socket.destroy());
  socket.on("close", () => sockets.delete(socket));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

control({
  port: (server.address() as { port: number }).port,
  info: { server: "raw-tcp" },
  connections: () => sockets.size,
  stop: () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
});

/**
 * A raw TCP echo server on `node:net`: every chunk is written back unchanged, as it
 * arrives. It does no framing at all, so it shows what Node.js's socket layer costs a
 * naive echo (one write per chunk read); wsx's engine, which writes a turn's replies
 * after the turn's reads, can go below it.
 *
 * A connection whose first chunk is an HTTP upgrade request (`GET `, the whole head in
 * that chunk, as the load generator sends it) is answered with a valid 101 instead,
 * with no other check: the floor of a WebSocket handshake on `node:net`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { control } from "./_control.ts";

// RFC 6455 section 4.2.2: the accept value is SHA-1 of the key and this GUID, in base64.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY = /\r\nsec-websocket-key:\s*([^\r\n]+)/i;

function answerUpgrade(socket: Socket, head: string): void {
  const key = KEY.exec(head)?.[1].trim() ?? "";
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
}

const sockets = new Set<Socket>();
const server = createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  let first = true;
  socket.on("data", (chunk) => {
    if (first) {
      first = false;
      if (chunk.length > 4 && chunk.toString("latin1", 0, 4) === "GET ") {
        return answerUpgrade(socket, chunk.toString("latin1"));
      }
    }
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

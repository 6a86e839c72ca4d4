/**
 * The floor of a WebSocket handshake on `Bun.listen`: a connection whose first chunk is
 * an upgrade request (`GET `) gets a valid 101 with no other check, and later chunks
 * are written back unchanged (no framing). What Bun's own TCP sockets cost per
 * connection, for comparison with wsx's engine on them (server `bunListenRaw`).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { control } from "./_control.ts";

interface RawSocket {
  data: { first: boolean };
  write(data: Uint8Array | string): number;
  terminate(): void;
}
interface BunListenApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: RawSocket): void;
      data(socket: RawSocket, chunk: Uint8Array): void;
      close(socket: RawSocket): void;
    };
  }): { port: number; stop(closeActive: boolean): void };
}

// RFC 6455 section 4.2.2: the accept value is SHA-1 of the key and this GUID, in base64.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const KEY = /\r\nsec-websocket-key:\s*([^\r\n]+)/i;
const Bun = (globalThis as unknown as { Bun: BunListenApi }).Bun;
const sockets = new Set<RawSocket>();

const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(socket) {
      socket.data = { first: true };
      sockets.add(socket);
    },
    data(socket, chunk) {
      if (socket.data.first) {
        socket.data.first = false;
        const head = new TextDecoder("latin1").decode(chunk);
        if (head.startsWith("GET ")) {
          const key = KEY.exec(head)?.[1].trim() ?? "";
          const accept = createHash("sha1").update(key + GUID).digest("base64");
          socket.write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
          );
          return;
        }
      }
      // A naive echo; partial writes are not retried (the floor only).
      socket.write(chunk);
    },
    close(socket) {
      sockets.delete(socket);
    },
  },
});

control({
  port: listener.port,
  info: { server: "bun-listen-raw" },
  connections: () => sockets.size,
  stop: () => {
    listener.stop(true);
    return Promise.resolve();
  },
});

/**
 * Bun's own WebSocket server (uWebSockets), with no wsx in it: `Bun.serve` with a
 * `websocket` handler echoing what arrives, and `server.publish` for broadcasts, as an
 * application written for Bun alone would.
 *
 * @module
 */

import { control } from "./_control.ts";

// The few parts of Bun's API used here, declared locally instead of depending on @types/bun.
interface BunSocket {
  readonly data: { receiver: boolean };
  send(data: string | Uint8Array): number;
  subscribe(topic: string): void;
  close(): void;
}
interface BunServer {
  readonly port: number;
  upgrade(request: Request, options: { data: { receiver: boolean } }): boolean;
  publish(topic: string, data: string): number;
  stop(closeActive: boolean): Promise<void> | void;
}
interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      idleTimeout: number;
      open(ws: BunSocket): void;
      message(ws: BunSocket, data: string | Uint8Array): void;
      close(ws: BunSocket): void;
    };
  }): BunServer;
}

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
const TOPIC = "all";
let open = 0;

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(request, server) {
    // Broadcast receivers connect to /all and join the topic; echo and idle connections
    // do not, so that their memory is that of a plain echo server.
    const receiver = new URL(request.url).pathname === "/all";
    if (server.upgrade(request, { data: { receiver } })) return undefined;
    return new Response("WebSocket only", { status: 426 });
  },
  websocket: {
    // No idle timeout: the other servers close no idle connection either.
    idleTimeout: 0,
    open(ws) {
      open++;
      if (ws.data.receiver) ws.subscribe(TOPIC);
    },
    message(ws, data) {
      ws.send(data);
    },
    close() {
      open--;
    },
  },
});

control({
  port: server.port,
  info: { server: "bun-native" },
  connections: () => open,
  stop: async () => {
    await server.stop(true);
  },
  broadcast: (message) => void server.publish(TOPIC, message),
});

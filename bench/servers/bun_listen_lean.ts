/**
 * An experiment, not a server to ship: wsx's engine and connection driver on `Bun.listen`
 * with the least handshake around them. The key is read with a regular expression, the
 * 101 built and the driver and engine started directly: no `Request`, no request
 * handler, no `upgrade()` checks, no head timeouts. What the engine and the core's
 * connection cost per handshake on that binding, between `bunListenRaw` (the socket
 * alone) and `bunListen` (the full upgrade path). Server `bunListenLean`.
 *
 * @module
 */

import * as crypto from "node:crypto";
import { broadcast, type UpgradeSettings, Websocket } from "../../mod.ts";
import { ServerGroup } from "../../src/core/group.ts";
import { ConnectionDriver } from "../../src/core/driver.ts";
import { NodeWebSocket } from "../../src/rfc6455/socket.ts";
import { acceptValue, buildAcceptResponse } from "../../src/rfc6455/handshake.ts";
import { ListenSocket } from "../../src/adapters/bun_listen_socket.ts";
import type { BunSocketHandlers } from "../../src/adapters/bun_listen.ts";
import { control } from "./_control.ts";

interface BunListenApi {
  listen(options: {
    hostname: string;
    port: number;
    socket: BunSocketHandlers;
  }): { port: number; stop(closeActive: boolean): void };
}

Websocket.maxBufferedBytes = 64 * 1024 * 1024;
Websocket.maxMsgSize = 1024 * 1024;
Websocket.timeout = 0;

const KEY = /\r\nsec-websocket-key:\s*([^\r\n]+)/i;
type OneShotHash = (algorithm: string, data: string, encoding: string) => string;
const hash = (crypto as unknown as { hash: OneShotHash }).hash;
const sha1 = (input: string) => hash("sha1", input, "base64");
const echo: UpgradeSettings<undefined> = {
  onMessage: (ws, data, isText) => ws.write(data, isText),
};
const EMPTY = new Uint8Array(0);
const group = new ServerGroup(null);
const options = { limits: group.settings };
const Bun = (globalThis as unknown as { Bun: BunListenApi }).Bun;

function onFirstChunk(this: ListenSocket, chunk: Uint8Array): void {
  this.removeListener("data", onFirstChunk);
  const head = (chunk as Buffer).toString("latin1");
  const end = head.indexOf("\r\n\r\n");
  const key = KEY.exec(head)?.[1].trim();
  if (end < 0 || key === undefined) return void this.destroy();
  const driver = new ConnectionDriver<undefined>({ handlers: echo, udata: undefined, group });
  const rest = end + 4 === chunk.length ? EMPTY : chunk.subarray(end + 4);
  const engine = new NodeWebSocket(this as never, rest, driver, options);
  engine.greet(buildAcceptResponse(acceptValue(key, sha1), null, []));
  driver.bind(engine);
  driver.open();
  engine.start();
}

const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(raw) {
      const socket = new ListenSocket(raw, false);
      raw.data = socket;
      socket.on("data", onFirstChunk);
    },
    data: (socket, chunk) => socket.data?.received(chunk),
    drain: (socket) => socket.data?.drained(),
    end: (socket) => socket.data?.ended(),
    close: (socket) => socket.data?.closed(),
    error: (socket, error) => socket.data?.failed(error),
  },
});

control({
  port: listener.port,
  info: { server: "bun-listen-lean" },
  connections: () => group.stats.open,
  stop: () => {
    listener.stop(true);
    return Promise.resolve();
  },
  broadcast: (message) => void broadcast(null, message),
});

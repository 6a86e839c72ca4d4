/**
 * A real echo server for the engine tests: `node:http` upgrade, the handshake module,
 * then {@linkcode NodeWebSocket}. Listens on 127.0.0.1, port 0.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TransportEvents } from "../../src/core/transport.ts";
import { acceptValue, buildAcceptResponse } from "../../src/rfc6455/handshake.ts";
import { checkUpgrade, type HeaderGetter } from "../../src/core/protocol/handshake.ts";
import { buildRefusalResponse } from "../../src/core/protocol/responses.ts";
import { NodeWebSocket, type NodeWebSocketOptions } from "../../src/rfc6455/socket.ts";

/** What the server saw of one connection. */
export interface ServerSide {
  readonly ws: NodeWebSocket;
  /** Resolves with the `closed` event's code and reason. */
  readonly closed: Promise<[number, string]>;
  readonly pongs: number;
  readonly heard: number;
  readonly drains: number;
  /** How many times `closed` was reported: must end at exactly 1. */
  readonly closeCount: number;
}

/** A running echo server. */
export interface EchoServer {
  readonly port: number;
  readonly url: string;
  /** Server-side connections, in accept order. */
  readonly sides: ServerSide[];
  /** The live limits object; change `maxMsgSize` to test live reads. */
  readonly limits: { maxMsgSize: number };
  close(): Promise<void>;
}

/** How the echo server is set up. */
export interface EchoOptions {
  maxMsgSize?: number;
  maxFragments?: number;
  closeTimeoutMs?: number;
  /** Extra headers for the 101 response. */
  headers?: [string, string][];
  /** Replaces echo: called for each message. */
  onMessage?: (ws: NodeWebSocket, data: string | Uint8Array, isText: boolean) => void;
}

const sha1 = (s: string): string => createHash("sha1").update(s).digest("base64");

function headerGetter(req: IncomingMessage): HeaderGetter {
  return (name) => {
    const v = req.headers[name];
    return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
  };
}

/** Starts an echo server on 127.0.0.1, port 0. */
export async function startEchoServer(opts: EchoOptions = {}): Promise<EchoServer> {
  const limits = { maxMsgSize: opts.maxMsgSize ?? 1 << 20 };
  const options: NodeWebSocketOptions = {
    limits,
    maxFragments: opts.maxFragments,
    closeTimeoutMs: opts.closeTimeoutMs ?? 2000,
  };
  const sides: ServerSide[] = [];
  const sockets = new Set<Duplex>();
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Uint8Array) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const check = checkUpgrade(req.method ?? "", headerGetter(req));
    if (!check.ok) {
      socket.end(buildRefusalResponse(check.status, check.reason, check.headers));
      return;
    }
    const protocol = check.protocols[0] ?? null;
    socket.write(buildAcceptResponse(acceptValue(check.key, sha1), protocol, opts.headers));
    let resolveClosed!: (v: [number, string]) => void;
    const closed = new Promise<[number, string]>((r) => (resolveClosed = r));
    const side = {
      ws: null as unknown as NodeWebSocket,
      closed,
      pongs: 0,
      heard: 0,
      drains: 0,
      closeCount: 0,
    };
    const events: TransportEvents = {
      open() {},
      message(data, isText) {
        if (opts.onMessage) opts.onMessage(side.ws, data, isText);
        else side.ws.send(data, isText);
      },
      heard: () => void side.heard++,
      pong: () => void side.pongs++,
      drain: () => void side.drains++,
      closed(code, reason) {
        side.closeCount++;
        resolveClosed([code, reason]);
      },
    };
    side.ws = new NodeWebSocket(socket, head, events, options);
    sides.push(side);
    events.open();
    side.ws.start();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    sides,
    limits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The floor of `sweeps.mjs` (`SWEEP_SERVER=net`): a bare `node:net` server that answers
 * the handshake by hand and pings, cuts and closes its sockets on wsx's own timing wheels
 * (`src/core/wheel.ts`, with the heartbeat's and the close timeout's options), so that
 * its holds are what the sockets alone cost at the same pace: no HTTP parser, no driver,
 * no frame parser, no handlers. A frame whose payload is `close` gets a close frame (1000)
 * and the socket is cut 5 s later; any other frame counts as hearing from the peer.
 *
 * @module
 */

import { createServer, type Socket } from "node:net";
import { handshakeAnswer, unmask } from "./raw_ws.ts";

/** What the floor needs of wsx's `src/core/`. */
export interface FloorParts {
  // deno-lint-ignore no-explicit-any
  Wheel: new (clock: any, visit: (item: Peer, now: number) => void, options?: any) => {
    scheduleAt(item: Peer, time: number): number;
    schedule(item: Peer, beat: number): number;
    readonly beat: number;
  };
  // deno-lint-ignore no-explicit-any
  systemClock: any;
}

/** One socket of the floor. */
export interface Peer {
  socket: Socket;
  heardAt: number;
  pinged: boolean;
}

/** The floor's settings, as `configure` takes them (seconds). */
export interface FloorSettings {
  timeout?: number;
  pongTimeout?: number;
}

const PING = new Uint8Array([0x89, 0x00]);
const CLOSE = new Uint8Array([0x88, 0x02, 0x03, 0xe8]);

/**
 * Starts the floor on 127.0.0.1, port 0.
 *
 * @param parts wsx's wheel and clock, from the checkout measured.
 * @returns Its port, and `configure` for the settings of connections opened after it.
 * @example
 * ```ts ignore
 * const { Wheel } = await import("../../src/core/wheel.ts");
 * const { systemClock } = await import("../../src/core/clock.ts");
 * const floor = await serveFloor({ Wheel, systemClock });
 * floor.configure({ timeout: 20, pongTimeout: 1 });
 * ```
 */
export async function serveFloor(
  parts: FloorParts,
): Promise<{ port: number; configure(settings: FloorSettings): void }> {
  const { Wheel, systemClock } = parts;
  let timeoutMs = 40_000, pongMs = 40_000;
  const heartbeat = new Wheel(systemClock, (peer: Peer, now: number) => {
    if (peer.socket.destroyed) return;
    const silent = now - peer.heardAt;
    if (peer.pinged && silent >= pongMs) return void peer.socket.destroy();
    if (!peer.pinged && silent >= timeoutMs - 5) {
      peer.pinged = true;
      peer.socket.write(PING);
      // As wsx's heartbeat: the cut comes whole beats after the ping.
      return void heartbeat.schedule(peer, heartbeat.beat + Math.ceil(pongMs / 1000));
    }
    schedule(peer, peer.heardAt + (peer.pinged ? pongMs : timeoutMs));
  }, { intervalMs: 1000 });
  const schedule = (peer: Peer, time: number) => void heartbeat.scheduleAt(peer, time);
  // As the engine's close timeouts (src/rfc6455/socket_link.ts): Deno runs a chain of
  // immediates before any I/O, so a timer defers there.
  const deno = typeof (globalThis as { Deno?: unknown }).Deno === "object";
  const closing = new Wheel(systemClock, (peer: Peer) => peer.socket.destroy(), {
    intervalMs: 500,
    defer: deno ? (fn: () => void) => void setTimeout(fn, 0) : setImmediate,
  });

  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (head) => {
      socket.write(handshakeAnswer(head.toString("latin1")));
      const peer: Peer = { socket, heardAt: Date.now(), pinged: false };
      if (timeoutMs > 0) schedule(peer, peer.heardAt + timeoutMs);
      socket.on("data", (frame: Uint8Array) => {
        peer.heardAt = Date.now();
        peer.pinged = false;
        if (new TextDecoder().decode(unmask(frame).subarray(2)) !== "close") return;
        socket.write(CLOSE);
        closing.scheduleAt(peer, Date.now() + 5000);
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as { port: number }).port,
    configure(settings: FloorSettings): void {
      if (settings.timeout !== undefined) timeoutMs = settings.timeout * 1000;
      pongMs = (settings.pongTimeout || settings.timeout || 40) * 1000;
    },
  };
}

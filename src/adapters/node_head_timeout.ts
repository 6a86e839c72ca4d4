/**
 * Cuts off clients that take too long to send a request head (slowloris) or its body.
 * Node's own `headersTimeout` stops firing while keep-alive connections are open on the
 * server, and its check cuts every late socket in one go, so wsx sweeps the sockets still
 * waiting four times a second: one shared interval, running only while such sockets
 * exist. Those found late are cut at a pace, all within a fraction of a second but only
 * a few each millisecond: a cut leaves work for later turns of the event loop (the 408's
 * flush, the close, the `close` listeners), and thousands cut in one turn would leave
 * thousands for the next, stalling established connections. Each head is still cut
 * within about `handshakeTimeoutMs` + 1 s. On a TLS server the clock starts at the TCP
 * accept: a socket still in its TLS handshake is cut off without an answer (plain text
 * would mean nothing to a TLS client), a decrypted one gets its 408.
 *
 * @module
 */

import type { Socket } from "node:net";
import { rawRefusal, REFUSALS } from "../core/protocol/responses.ts";
import { detectRuntime } from "../runtime.ts";

// How often the waiting sockets are checked: a head is found late within this long.
const SWEEP_MS = 250;
// The heads found late in one sweep are cut within this long, spread evenly over it: a
// few at a time, so that each turn of the event loop (which also runs what the previous
// cuts left to do: their flushes, closes and 'close' listeners) stays short.
const SPREAD_MS = 300;
// Whatever the spread asks, one slice of cutting stops after this long.
const SLICE_MS = 1.5;
// How long a cut socket may take to flush its 408 and close before it is destroyed.
const LINGER_MS = 1000;

/**
 * The set of sockets waiting for a request head, with their deadlines.
 *
 * @example
 * ```ts
 * import { HeadTimeouts } from "./node_head_timeout.ts";
 * const heads = new HeadTimeouts(10_000);
 * ```
 */
export class HeadTimeouts {
  readonly #timeoutMs: number;
  readonly #secure: boolean;
  readonly #keepAliveMs: number;
  // Each waiting socket with its deadline.
  readonly #waiting = new Map<Socket, number>();
  // Those that served a response: past the deadline they are closed without a 408, which
  // a client reusing the connection at that moment would take for its answer.
  readonly #afterResponse = new WeakSet<Socket>();
  #timer: ReturnType<typeof setInterval> | undefined;
  // Found late and not cut yet: a cut comes up to SPREAD_MS later, and a head that
  // arrives meanwhile (done) takes the socket back, so that no 408 follows its answer.
  readonly #late = new Set<Socket>();
  // Sockets due to be cut, in the order they fell due; a slice takes from the front.
  #due: Socket[] = [];
  #dueAt = 0;
  // When the sockets in #due should all be cut, and when the last slice ran (performance.now()).
  #spreadEnd = 0;
  #lastSlice = 0;
  #slicing = false;
  // The 408, encoded once.
  readonly #refusal: Uint8Array = new TextEncoder().encode(rawRefusal(REFUSALS.headTimeout));
  // Node.js's plain sockets tell when a write has gone to the kernel (`writableLength`
  // back to 0 within the write); a TLS socket's or Deno's and Bun's node:net may still
  // hold it where a destroy would drop it.
  readonly #closeOnWrite: boolean;

  /**
   * @param timeoutMs How long a head may take, in ms.
   * @param secure A TLS server's sockets: those whose handshake is not done get no 408.
   * @param keepAliveMs How long the next head may take on a connection that served a
   * response (beyond the server's keep-alive timeout, which closes idle ones first).
   */
  constructor(timeoutMs: number, secure: boolean = false, keepAliveMs: number = timeoutMs) {
    this.#timeoutMs = timeoutMs;
    this.#secure = secure;
    this.#keepAliveMs = keepAliveMs;
    this.#closeOnWrite = !secure && detectRuntime() === "node";
  }

  /**
   * The socket now waits for a request head.
   *
   * @param socket A new connection, or one kept alive after a response.
   * @param afterResponse It served a response (keep-alive).
   */
  waiting(socket: Socket, afterResponse = false): void {
    if (socket.destroyed) return;
    // No close listener (a closure for the life of every connection): the sweep drops
    // sockets that closed meanwhile.
    this.#forgetLate(socket);
    if (afterResponse) this.#afterResponse.add(socket);
    const allowed = afterResponse ? this.#keepAliveMs : this.#timeoutMs;
    this.#waiting.set(socket, Date.now() + allowed);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /**
   * A TLS handshake completed: the decrypted socket waits for its head from when its TCP
   * socket started waiting.
   */
  moved(from: Socket | undefined, to: Socket): void {
    const deadline = from === undefined ? undefined : this.#waiting.get(from);
    if (from !== undefined) this.done(from);
    if (to.destroyed) return;
    this.#waiting.set(to, deadline ?? Date.now() + this.#timeoutMs);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /**
   * The head arrived and a body follows: the socket now waits for the body, which is
   * cut like a late head (408) when it takes longer than `withinMs`. `node:http`'s own
   * `requestTimeout` would cut every late one in one go.
   *
   * @param socket The request's socket.
   * @param withinMs How long the body may take, in ms.
   */
  readingBody(socket: Socket, withinMs: number): void {
    if (socket.destroyed) return;
    this.#late.delete(socket);
    this.#afterResponse.delete(socket);
    this.#waiting.set(socket, Date.now() + withinMs);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /**
   * The response to a request whose body is still arriving begins: a body late from
   * now on is cut without a 408, which would land inside that response.
   *
   * @param socket The request's socket.
   */
  answering(socket: Socket): void {
    if (this.#waiting.has(socket)) this.#afterResponse.add(socket);
  }

  /** The head (or the body) arrived, or the socket closed. */
  done(socket: Socket): void {
    this.#forgetLate(socket);
    this.#waiting.delete(socket);
  }

  // Every connection passes here twice, and there is rarely a late one: no lookup then.
  #forgetLate(socket: Socket): void {
    if (this.#late.size !== 0) this.#late.delete(socket);
  }

  /**
   * Destroys the waiting sockets `which` picks (at shutdown: the idle ones), and those
   * still in their TLS handshake (`node:http` has not seen them).
   */
  destroyWhere(which: (socket: Socket) => boolean): void {
    for (const socket of this.#waiting.keys()) {
      if (!which(socket) && !this.#handshaking(socket)) continue;
      this.done(socket);
      socket.destroy();
    }
    this.#stopWhenEmpty();
  }

  // The timer stops at a sweep (or at shutdown) rather than in `done`: a server taking
  // one handshake at a time would otherwise start and stop it for every connection.
  #stopWhenEmpty(): void {
    if (this.#waiting.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    // Those cut already leave the line (a flood that never lets the line empty must not
    // keep every socket it ever opened).
    const due = this.#due.slice(this.#dueAt);
    const waited = due.length;
    const now = Date.now();
    for (const [socket, deadline] of this.#waiting) {
      if (socket.destroyed) this.done(socket);
      else if (deadline <= now) {
        this.done(socket);
        this.#late.add(socket);
        due.push(socket);
      }
    }
    this.#due = due;
    this.#dueAt = 0;
    this.#stopWhenEmpty();
    if (due.length === waited) return;
    // Those found now are cut within SPREAD_MS, and those still in line before them too.
    this.#spreadEnd = performance.now() + SPREAD_MS;
    if (!this.#slicing) {
      this.#slicing = true;
      this.#lastSlice = performance.now();
      this.#cutSlice();
    }
  }

  // Cuts the share of the line that keeps the pace (everyone by #spreadEnd), then lets
  // the event loop run for a millisecond: what a cut leaves to do (the 408's flush, the
  // close, 'close' listeners) runs then, a slice's worth at a time.
  #cutSlice(): void {
    const due = this.#due;
    const from = this.#dueAt;
    const now = performance.now();
    // The next slice comes about as long after this one as this one after the last.
    const step = Math.max(1, now - this.#lastSlice);
    const left = this.#spreadEnd - now;
    const share = Math.ceil((due.length - from) * (left > step ? step / left : 1));
    this.#lastSlice = now;
    const until = Math.min(due.length, from + share);
    const stopAt = now + SLICE_MS;
    const cut: Socket[] = [];
    while (this.#dueAt < until) {
      const socket = due[this.#dueAt++];
      if (this.#cut(socket)) cut.push(socket);
      if ((this.#dueAt & 7) === 0 && performance.now() >= stopAt) break;
    }
    // Whatever the peers do next (one that never reads holds the 408 back), the slice's
    // sockets are gone in a second: one timer for the slice.
    if (cut.length > 0) setTimeout(destroyAll, LINGER_MS, cut).unref();
    if (this.#dueAt < due.length) setTimeout(() => this.#cutSlice(), 1).unref();
    else this.#slicing = false;
  }

  // Cuts a socket still late (its head did not come meanwhile); whether it did.
  #cut(socket: Socket): boolean {
    if (!this.#late.delete(socket) || socket.destroyed) return false;
    if (this.#handshaking(socket) || this.#afterResponse.has(socket)) {
      socket.destroy();
      return true;
    }
    if (socket.writable) this.#refuse(socket);
    else socket.destroySoon();
    return true;
  }

  // Sends the 408 and closes.
  #refuse(socket: Socket): void {
    if (this.#closeOnWrite) {
      socket.write(this.#refusal);
      // The 408 left at once (the common case): closing now sends it and a FIN, as
      // end() then destroySoon() would, without the shutdown request, its 'finish' and
      // the destroy they leave to the next turn of the event loop.
      if (socket.writableLength === 0) return void socket.destroy();
      socket.end();
    } else socket.end(this.#refusal);
    socket.destroySoon();
  }

  #handshaking(socket: Socket): boolean {
    return this.#secure && inTlsHandshake(socket);
  }
}

// A server-side TLS socket's `encrypted` flag is set from the start (Bun's wrapper,
// bun_tls_wrap.ts) or only on the socket that comes out of the handshake (Node.js, Deno);
// `_secureEstablished` only once the handshake is done (on both).
function inTlsHandshake(socket: Socket): boolean {
  const flags = socket as { encrypted?: boolean; _secureEstablished?: boolean };
  return flags.encrypted !== true || flags._secureEstablished === false;
}

function destroyAll(sockets: readonly Socket[]): void {
  for (const socket of sockets) socket.destroy();
}

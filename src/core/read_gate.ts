/**
 * The reading of one connection as its message streams (`inbound.ts`) see it: paused
 * while any of them holds more than its window unread, resumed when none does; timed,
 * so that a reader who never comes back ends the connection instead of hanging it; and
 * the list of streams still open, which end when the connection does.
 *
 * @module
 */

import type { WsxErrorCode } from "../errors.ts";
import type { WebSocketConnection } from "./connection.ts";
import type { Settings } from "./settings.ts";
import type { Transport } from "./transport.ts";

/**
 * The connection side streams need (its driver): the transport, to pause and resume
 * reading, the handle for `onStream`, and a way to close for a policy reason.
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import type { StreamOwner } from "./read_gate.ts";
 * declare const owner: StreamOwner;
 * owner.transport.pause?.();
 * ```
 */
export interface StreamOwner<U = unknown> {
  /** The connection's transport. */
  readonly transport: Transport;
  /** The connection's handle, given to `onStream`. */
  readonly handle: WebSocketConnection<U>;
  /** Closes the connection for a reason of the error table. */
  fail(code: WsxErrorCode): void;
  /** Reading stopped: the owner has {@linkcode ReadGate.holdsReading} checked every beat. */
  readingHeld?(): void;
}

/**
 * What a gate keeps of a stream: a way to end it when the connection closes.
 *
 * @example
 * ```ts
 * import type { GatedStream } from "./read_gate.ts";
 * const s: GatedStream = { interrupt: (code, reason) => console.log(code, reason) };
 * ```
 */
export interface GatedStream {
  /** The connection closes with this code and reason. */
  interrupt(code: number, reason: string): void;
}

/**
 * One connection's reading, shared by its streams. A connection makes one with its first
 * streamed message.
 *
 * @example
 * ```ts
 * import { ReadGate } from "./read_gate.ts";
 * import type { StreamOwner } from "./read_gate.ts";
 * declare const owner: StreamOwner;
 * const gate = new ReadGate(owner, { now: Date.now }, { streamTimeout: 30 });
 * gate.hold(); // owner.transport.pause()
 * gate.release(); // owner.transport.resume()
 * ```
 */
export class ReadGate {
  #owner: StreamOwner;
  #clock: { now(): number };
  #holds = 0;
  #since = 0; // when reading was paused
  #open = new Set<GatedStream>();
  #settings: Pick<Settings, "streamTimeout">;

  /**
   * @param owner The connection.
   * @param clock The clock pauses are timed with (the heartbeat's).
   * @param settings The server's settings (`streamTimeout`, read when a pause is checked).
   */
  constructor(
    owner: StreamOwner,
    clock: { now(): number },
    settings: Pick<Settings, "streamTimeout">,
  ) {
    this.#owner = owner;
    this.#clock = clock;
    this.#settings = settings;
  }

  /** A stream's window is full: reading stops (with the first hold). */
  hold(): void {
    if (this.#holds++ > 0) return;
    this.#since = this.#clock.now();
    this.#owner.transport.pause?.();
    this.#owner.readingHeld?.();
  }

  /** A stream's reader is back under its window: reading resumes (with the last release). */
  release(): void {
    if (--this.#holds === 0) this.#owner.transport.resume?.();
  }

  /**
   * Whether reading is paused for a reader (so the peer's silence is ours). Past
   * `streamTimeout` seconds, the connection is closed with `"stream-stalled"` (1011).
   *
   * @param now The clock's time.
   * @returns `true` while reading is paused for a reader, within the timeout.
   */
  holdsReading(now: number): boolean {
    if (this.#holds === 0) return false;
    if (now - this.#since < this.#settings.streamTimeout * 1000) return true;
    this.#owner.fail("stream-stalled");
    return false;
  }

  /**
   * Registers a stream that has not ended.
   *
   * @param stream The stream.
   */
  add(stream: GatedStream): void {
    this.#open.add(stream);
  }

  /**
   * Forgets a stream that ended.
   *
   * @param stream The stream.
   */
  delete(stream: GatedStream): void {
    this.#open.delete(stream);
  }

  /**
   * The connection closes: every stream still open ends (see `InboundStream.interrupt`),
   * and reading resumes so the closing handshake can complete.
   *
   * @param code The close code.
   * @param reason The close reason.
   */
  interrupt(code: number, reason: string): void {
    for (const stream of [...this.#open]) stream.interrupt(code, reason);
  }
}

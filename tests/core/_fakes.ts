/** A manual clock and a recording transport for core unit tests (the seam, not a socket). */
import type { Capabilities, Transport, WriteResult } from "../../src/core/transport.ts";
import type { Clock } from "../../src/core/clock.ts";

export class ManualClock implements Clock {
  time = 1_000_000;
  #fns = new Set<() => void>();
  now(): number {
    return this.time;
  }
  every(_ms: number, fn: () => void): () => void {
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }
  get running(): number {
    return this.#fns.size;
  }
  /** Moves time on by whole seconds, ticking once a second. */
  advance(seconds: number): void {
    for (let i = 0; i < seconds; i++) {
      this.time += 1000;
      for (const fn of this.#fns) fn();
    }
  }
}

export const FULL: Capabilities = {
  ping: true,
  inboundControlFrames: true,
  pongs: true,
  enforcesMaxMsgSize: false,
  runtimeKeepalive: false,
  headersOn101: true,
  streaming: true,
  abort: true,
};

export class RecordingTransport implements Transport {
  readonly capabilities: Capabilities;
  readonly sent: Array<[string | Uint8Array, boolean]> = [];
  readonly log: string[] = [];
  bufferedAmount = 0;
  readonly raw = null;
  constructor(capabilities: Capabilities = FULL) {
    this.capabilities = capabilities;
  }
  send(data: string | Uint8Array, isText: boolean): WriteResult {
    this.sent.push([data, isText]);
    return "sent";
  }
  close(code: number, reason: string): void {
    this.log.push(`close ${code} ${reason}`);
  }
  terminate(): void {
    this.log.push("terminate");
  }
  ping(): void {
    this.log.push("ping");
  }
  pause(): void {
    this.log.push("pause");
  }
  resume(): void {
    this.log.push("resume");
  }
}

/**
 * The connections of one server: its counters, whether it still accepts upgrades, and
 * its graceful shutdown.
 *
 * @module
 */

import type { Member } from "./member.ts";
import { type Settings, settings as globalSettings } from "./settings.ts";
import { createStats, type ServerStats } from "./stats.ts";

/**
 * How a server shuts down.
 *
 * @example
 * ```ts
 * import type { ShutdownOptions } from "./group.ts";
 * const opts: ShutdownOptions = { code: 1001, reason: "Deploying", timeoutMs: 5000 };
 * ```
 */
export interface ShutdownOptions {
  /** Close code sent to every connection. @default {1001} */
  readonly code?: number;
  /** Close reason. @default {"Server shutting down"} */
  readonly reason?: string;
  /** How long to wait for closing handshakes before terminating the rest, in ms. @default {10000} */
  readonly timeoutMs?: number;
}

// Below this many slots the array of connections is not compacted.
const MIN_COMPACTED = 64;
// The longest one slice of shutdown work may run before the event loop gets a turn.
const SLICE_MS = 2;
// Close frames per slice: each brings back the peer's close frame a moment later, and
// the runtime handles all the answers that arrive together in one go.
const CLOSES_PER_SLICE = 64;

/**
 * Runs `fn` on every item, yielding to the event loop every `SLICE_MS` or `perSlice`
 * items, whichever comes first.
 */
async function inSlices<T>(
  items: readonly T[],
  fn: (item: T) => void,
  perSlice = Infinity,
): Promise<void> {
  let stopAt = Date.now() + SLICE_MS, inSlice = 0;
  for (let i = 0; i < items.length; i++) {
    fn(items[i]);
    if (++inSlice >= perSlice || ((i & 15) === 15 && Date.now() >= stopAt)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      stopAt = Date.now() + SLICE_MS;
      inSlice = 0;
    }
  }
}

/**
 * The connections of one server.
 *
 * @example
 * ```ts
 * import { ServerGroup } from "./group.ts";
 * const group = new ServerGroup(null);
 * console.log(group.stats.open, group.accepting); // 0 true
 * ```
 */
export class ServerGroup {
  /** The runtime's server object. */
  raw: unknown;
  /** Counters. */
  readonly stats: ServerStats = createStats();
  /**
   * Publishes to every socket of this server subscribed to a topic through the runtime's
   * own pub/sub (Bun's `server.publish`), where the adapter offers it.
   */
  publishNative: ((topic: string, data: string | Uint8Array, isText: boolean) => void) | undefined;
  /** Origins allowed to upgrade, or undefined for any. */
  allowedOrigins: ReadonlySet<string> | undefined;
  /**
   * The settings its connections read: the server's own, else the global ones
   * (`serverSettings()`); a connection captures `timeout` and its kin when it opens and
   * reads `maxMsgSize` as messages arrive.
   */
  readonly settings: Readonly<Settings>;
  /** What the last connection captured of the settings at open (`driver_state.ts`), shared. */
  lastCaptured: unknown = undefined;
  // Open connections in the order they opened, each at its `groupSlot`: a removal empties
  // its slot, and the array is compacted once more than half of it is empty. (A Set that
  // grows to thousands rehashes as it grows: every handshake paid an add and a delete.)
  #slots: (Member | undefined)[] = [];
  #open = 0;
  #accepting = true;
  #emptied: (() => void) | undefined;

  /**
   * @param raw The runtime's server object.
   * @param settings The settings of its connections (the global ones by default).
   */
  constructor(raw: unknown, settings: Readonly<Settings> = globalSettings) {
    this.raw = raw;
    this.settings = settings;
  }

  /** Whether new upgrades are accepted (false once shutdown began). */
  get accepting(): boolean {
    return this.#accepting;
  }

  /** Connections open on this server. */
  get size(): number {
    return this.#open;
  }

  /** Adds an opened connection. */
  add(driver: Member): void {
    if (!this.#holds(driver)) {
      driver.groupSlot = this.#slots.length;
      this.#slots.push(driver);
      this.#open++;
    }
    this.stats.open++;
    this.stats.openedTotal++;
  }

  /** Removes a closed connection. */
  remove(driver: Member): void {
    if (!this.#holds(driver)) return;
    this.#slots[driver.groupSlot] = undefined;
    driver.groupSlot = -1;
    this.#open--;
    this.stats.open--;
    if (this.#open === 0) {
      this.#slots = [];
      this.#emptied?.();
    } else if (this.#slots.length > MIN_COMPACTED && this.#open < this.#slots.length / 2) {
      this.#compact();
    }
  }

  #holds(driver: Member): boolean {
    const slot = driver.groupSlot;
    return slot >= 0 && this.#slots[slot] === driver;
  }

  // The open connections, in the order they opened, at slots 0 to size - 1.
  #compact(): void {
    const open: Member[] = [];
    for (const driver of this.#slots) {
      if (driver === undefined) continue;
      driver.groupSlot = open.length;
      open.push(driver);
    }
    this.#slots = open;
  }

  // A copy of the open connections, in the order they opened.
  #members(): Member[] {
    const open: Member[] = [];
    for (const driver of this.#slots) if (driver !== undefined) open.push(driver);
    return open;
  }

  /**
   * Stops accepting upgrades, runs onShutdown and sends a close frame on every
   * connection, waits for the closing handshakes up to `timeoutMs`, then terminates the
   * rest. Resolves when no connection of this server is left.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const code = options.code ?? 1001;
    const reason = options.reason ?? "Server shutting down";
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#accepting = false;
    // Every onShutdown first, then every close frame: no onClose runs before the last
    // onShutdown. Both in slices, so thousands of connections never stall the loop.
    const members = this.#members();
    await inSlices(members, (driver) => driver.warnShutdown());
    await inSlices(members, (driver) => driver.shutdown(code, reason), CLOSES_PER_SLICE);
    if (await this.#waitEmpty(timeoutMs)) return;
    for (const driver of this.#members()) driver.terminate();
    if (await this.#waitEmpty(1000)) return;
    // A runtime that never reports the end of a terminated socket: finish it here.
    for (const driver of this.#members()) driver.closed(1006, "Terminated at shutdown");
  }

  #waitEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#open === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#emptied = undefined;
        resolve(false);
      }, timeoutMs);
      this.#emptied = () => {
        clearTimeout(timer);
        this.#emptied = undefined;
        resolve(true);
      };
    });
  }
}

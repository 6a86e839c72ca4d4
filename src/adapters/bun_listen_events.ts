/**
 * The listener part of a Node.js `EventEmitter` that wsx's engine and upgrade path use,
 * for `ListenSocket` (`bun_listen_socket.ts`): listeners are called with the socket as
 * `this`, as on Node.js, so one set of shared functions serves every connection.
 *
 * @module
 */

/**
 * A listener, called with the emitter as `this`.
 *
 * @example
 * ```ts
 * import type { Listener } from "./bun_listen_events.ts";
 * const log: Listener = function (chunk) {
 *   console.log(chunk);
 * };
 * ```
 */
// `this: never` takes listeners written for a subclass (`this: ListenSocket`).
// deno-lint-ignore no-explicit-any
export type Listener = (this: never, ...args: any[]) => void;

/**
 * One listener, several in an array, or none.
 *
 * @example
 * ```ts
 * import type { Listeners } from "./bun_listen_events.ts";
 * const none: Listeners = undefined;
 * ```
 */
export type Listeners = Listener | Listener[] | undefined;

/**
 * `on`, `once`, `removeListener`, `listenerCount` and `emit`. The three events every
 * connection listens to (`data`, `close`, `error`) are fields, with no object per
 * connection for them; the rare others (`drain` once a write was refused, `end`,
 * `finish`) are kept by name.
 *
 * @example
 * ```ts
 * import { SocketEvents } from "./bun_listen_events.ts";
 * const events = new SocketEvents();
 * events.on("close", () => console.log("closed"));
 * events.emit("close");
 * ```
 */
export class SocketEvents {
  /** The `data` listeners: a field of its own, read for every chunk. */
  protected dataListeners: Listeners = undefined;
  #close: Listeners = undefined;
  #error: Listeners = undefined;
  #other: Record<string, Listeners> | null = null;

  #get(event: string): Listeners {
    switch (event) {
      case "data":
        return this.dataListeners;
      case "close":
        return this.#close;
      case "error":
        return this.#error;
    }
    return this.#other?.[event];
  }

  #set(event: string, listeners: Listeners): void {
    switch (event) {
      case "data":
        return void (this.dataListeners = listeners);
      case "close":
        return void (this.#close = listeners);
      case "error":
        return void (this.#error = listeners);
    }
    (this.#other ??= {})[event] = listeners;
  }

  /** Adds a listener. */
  on(event: string, listener: Listener): this {
    const current = this.#get(event);
    if (current === undefined) this.#set(event, listener);
    else if (typeof current === "function") this.#set(event, [current, listener]);
    else current.push(listener);
    return this;
  }

  /** Adds a listener that runs once. */
  once(event: string, listener: Listener): this {
    const wrapper: Listener = function (this: SocketEvents, ...args) {
      this.removeListener(event, wrapper);
      Reflect.apply(listener, this, args);
    };
    return this.on(event, wrapper);
  }

  /** Removes a listener. */
  removeListener(event: string, listener: Listener): this {
    const current = this.#get(event);
    if (current === listener) this.#set(event, undefined);
    else if (current !== undefined && typeof current !== "function") {
      const at = current.indexOf(listener);
      if (at >= 0) current.splice(at, 1);
      if (current.length === 0) this.#set(event, undefined);
    }
    return this;
  }

  /** The number of listeners of an event. */
  listenerCount(event: string): number {
    const current = this.#get(event);
    return current === undefined ? 0 : typeof current === "function" ? 1 : current.length;
  }

  /** Calls the listeners of an event with `this` as the socket. */
  emit(event: string, ...args: unknown[]): boolean {
    const current = this.#get(event);
    if (current === undefined) return false;
    if (typeof current === "function") Reflect.apply(current, this, args);
    else for (const listener of current.slice()) Reflect.apply(listener, this, args);
    return true;
  }
}

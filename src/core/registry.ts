/**
 * The process-wide registry of open connections: process-unique ids, `count()` and the
 * snapshot `each()` walks.
 *
 * @module
 */

import { Heartbeat } from "./heartbeat.ts";
import { systemClock } from "./clock.ts";
import type { Member } from "./member.ts";

/**
 * A registry of open members with ids that are never reused in the process.
 *
 * @typeParam T The member type.
 * @example
 * ```ts
 * import { Registry } from "./registry.ts";
 * const reg = new Registry<string>();
 * const id = reg.nextId();
 * reg.add("a");
 * console.log(id, reg.count()); // 1 1
 * ```
 */
export class Registry<T> {
  readonly #open: Set<T>;
  #lastId = 0;

  /** @param members The set that holds the open members. @default {new Set()} */
  constructor(members: Set<T> = new Set()) {
    this.#open = members;
  }

  /** A new id, unique in this registry for the life of the process. */
  nextId(): number {
    return ++this.#lastId;
  }

  /** Adds an open member. */
  add(member: T): void {
    this.#open.add(member);
  }

  /** Removes a member that closed. */
  delete(member: T): void {
    this.#open.delete(member);
  }

  /** How many members are open. */
  count(): number {
    return this.#open.size;
  }

  /** The open members, live (do not add or remove while iterating). */
  members(): Iterable<T> {
    return this.#open;
  }

  /** The open members now, in the order they opened. */
  snapshot(): T[] {
    return Array.from(this.#open);
  }
}

/**
 * Every open connection of the process, in the order they opened: the members of
 * {@linkcode registry}.
 *
 * @example
 * ```ts
 * import { openConnections } from "./registry.ts";
 * console.log(openConnections.size);
 * ```
 */
export const openConnections: Set<Member> = new Set();

/**
 * The registry of every open connection in the process.
 *
 * @example
 * ```ts
 * import { registry } from "./registry.ts";
 * console.log(registry.count());
 * ```
 */
export const registry: Registry<Member> = new Registry(openConnections);

/**
 * The process-wide heartbeat used by every connection. It keeps only the connections
 * that can need a ping or a check, each in the bucket of the beat it falls due in.
 *
 * @example
 * ```ts
 * import { heartbeat } from "./registry.ts";
 * console.log(heartbeat.now());
 * ```
 */
export const heartbeat: Heartbeat = new Heartbeat(systemClock, 1000);

/**
 * A connection's topic membership: what it subscribed to, kept with the connection so
 * that the subscriptions end with it, and its `publish`.
 *
 * @module
 */

import { OPEN } from "./driver_base.ts";
import { HeartbeatDriver } from "./driver_heartbeat.ts";
import { newRare } from "./driver_state.ts";
import * as topics from "./topics.ts";

/**
 * The topic layer of a connection driver (`driver.ts`).
 *
 * @typeParam U The type of the user data.
 * @example
 * ```ts
 * import { TopicDriver } from "./driver_topics.ts";
 * import { ConnectionDriver } from "./driver.ts";
 * console.log(ConnectionDriver.prototype instanceof TopicDriver); // true
 * ```
 */
export abstract class TopicDriver<U = unknown> extends HeartbeatDriver<U> {
  /** Subscribes to a topic; the subscription ends with the connection. */
  subscribe(topic: string): boolean {
    if (this.state !== OPEN) return false;
    const added = topics.subscribe(this, topic);
    if (added) ((this.rare ??= newRare()).topics ??= new Set()).add(topic);
    return added;
  }

  /** Unsubscribes from a topic. */
  unsubscribe(topic: string): boolean {
    this.rare?.topics?.delete(topic);
    return topics.unsubscribe(this, topic);
  }

  /** Publishes to a topic (the handle's `publish`). */
  publish(topic: string, data: string | Uint8Array, isText: boolean, excludeSelf: boolean): void {
    topics.publish(topic, data, isText, excludeSelf ? this.uuid : undefined);
  }

  /** Whether the connection is subscribed to a topic. */
  isSubscribed(topic: string): boolean {
    return this.rare?.topics?.has(topic) ?? false;
  }

  /** The connection is gone: every subscription ends. */
  protected leaveTopics(): void {
    const rare = this.rare;
    if (rare?.topics) rare.topics = topics.unsubscribeAll(this, rare.topics);
  }
}

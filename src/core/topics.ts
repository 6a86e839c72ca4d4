/**
 * Topics: subscriptions of connections, and publishing through a pluggable pub/sub
 * engine (in-process by default, Redis for several processes or machines). A message
 * is encoded once and the same bytes go to every local receiver where the runtime
 * allows it (facil.io's optimize4broadcasts).
 *
 * @module
 */

import { messageData, type SendData } from "./data.ts";
import type { WriteResult } from "./transport.ts";
import type { Member, NativePublisher } from "./member.ts";
import { registry } from "./registry.ts";
import { reportError } from "./report.ts";

/**
 * A published message as it travels through an engine.
 *
 * @example
 * ```ts
 * import type { PubSubMessage } from "./topics.ts";
 * const m: PubSubMessage = { topic: "news", data: "hi", isText: true, origin: "p1" };
 * ```
 */
export interface PubSubMessage {
  /** The topic. */
  readonly topic: string;
  /** The payload: a string for text, bytes for binary. */
  readonly data: string | Uint8Array;
  /** A text message when true. */
  readonly isText: boolean;
  /** The process that published it ({@linkcode PROCESS_ID} there). */
  readonly origin: string;
  /** The uuid of a connection of the origin process to leave out (`excludeSelf`). */
  readonly exclude?: number;
}

/**
 * A pub/sub engine carries published messages to every process that has subscribers.
 * Delivery is at most once.
 *
 * @example An engine that only delivers in this process
 * ```ts
 * import type { Deliver, PubSubEngine, PubSubMessage } from "./topics.ts";
 * let deliver: Deliver = () => {};
 * const local: PubSubEngine = {
 *   start(d) { deliver = d; },
 *   publish(m: PubSubMessage) { deliver(m); },
 *   subscribe() {}, unsubscribe() {}, close: async () => {},
 * };
 * ```
 */
export interface PubSubEngine {
  /** Installs the engine: messages for this process go to `deliver`. */
  start(deliver: Deliver): void | Promise<void>;
  /** Sends a message to every process with subscribers of its topic, this one included. */
  publish(message: PubSubMessage): void | Promise<void>;
  /** This process has its first subscriber of `topic`. */
  subscribe(topic: string): void | Promise<void>;
  /** This process has no subscriber of `topic` any more. */
  unsubscribe(topic: string): void | Promise<void>;
  /** Releases the engine. */
  close(): Promise<void>;
  /** Open connections across every process that shares the engine, where it can tell. */
  count?(): Promise<number>;
}

/**
 * Where an engine hands messages for this process.
 *
 * @example
 * ```ts
 * import type { Deliver } from "./topics.ts";
 * const ignore: Deliver = (_message) => {};
 * ```
 */
export type Deliver = (message: PubSubMessage) => void;

/**
 * This process's id among the processes sharing an engine.
 *
 * @example
 * ```ts
 * import { PROCESS_ID } from "./topics.ts";
 * console.log(PROCESS_ID.length > 0); // true
 * ```
 */
export const PROCESS_ID: string = crypto.randomUUID();

const subscribers = new Map<string, Set<Member>>();

/**
 * The default engine: delivers in this process only.
 *
 * @example
 * ```ts
 * import { InProcessEngine, setPubSubEngine } from "./topics.ts";
 * await setPubSubEngine(new InProcessEngine());
 * ```
 */
export class InProcessEngine implements PubSubEngine {
  #deliver: Deliver = () => {};
  /** Keeps `deliver`. */
  start(deliver: Deliver): void {
    this.#deliver = deliver;
  }
  /** Delivers at once, in this process. */
  publish(message: PubSubMessage): void {
    this.#deliver(message);
  }
  /** Nothing to do in one process. */
  subscribe(): void {}
  /** Nothing to do in one process. */
  unsubscribe(): void {}
  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** The open connections of this process. */
  count(): Promise<number> {
    return Promise.resolve(registry.count());
  }
}

function guard(result: void | Promise<void>, where: string): void {
  if (result && typeof (result as Promise<void>).catch === "function") {
    (result as Promise<void>).catch((error) => reportError(error, where));
  }
}

/** Sends one message to a set of drivers, encoding it once where the transport can. */
function sendAll(
  drivers: Iterable<Member>,
  data: string | Uint8Array,
  isText: boolean,
  skip: (driver: Member) => boolean,
): number {
  let encoded: unknown;
  let sent = 0;
  for (const driver of drivers) {
    if (skip(driver)) continue;
    const transport = driver.transport;
    let result: WriteResult;
    if (transport?.encode) {
      encoded ??= transport.encode(data, isText);
      result = driver.writeEncoded(encoded, data.length);
    } else result = driver.write(data, isText);
    if (result === "sent" || result === "queued") sent++;
  }
  return sent;
}

// Subscribers on a server with native pub/sub (Bun) are reached with one native publish
// per server; the others get the frame written by the core.
function deliverLocal(message: PubSubMessage): void {
  const set = subscribers.get(message.topic);
  if (!set) return;
  const exclude = message.origin === PROCESS_ID ? message.exclude : undefined;
  let native: Map<NativePublisher, Member | null> | undefined;
  sendAll(set, message.data, message.isText, (d) => {
    if (d.group.publishNative === undefined || d.transport?.subscribe === undefined) {
      return d.uuid === exclude;
    }
    native ??= new Map();
    if (d.uuid === exclude) native.set(d.group, d);
    else if (!native.has(d.group)) native.set(d.group, null);
    return true;
  });
  if (native === undefined) return;
  const { topic, data, isText } = message;
  for (const [group, excluded] of native) {
    // The runtime leaves the publishing socket out itself (Bun's ws.publish).
    if (excluded) excluded.transport.publishFrom!(topic, data, isText);
    else group.publishNative!(topic, data, isText);
  }
}

let engine: PubSubEngine = new InProcessEngine();
engine.start(deliverLocal);

/**
 * Replaces the pub/sub engine (for example with the Redis engine of `@wsx/wsx/redis`); the
 * topics this process subscribes to move over, and the old engine is closed.
 *
 * @param next The new engine.
 * @example
 * ```ts
 * import { InProcessEngine, setPubSubEngine } from "./topics.ts";
 * await setPubSubEngine(new InProcessEngine());
 * ```
 */
export async function setPubSubEngine(next: PubSubEngine): Promise<void> {
  const previous = engine;
  await next.start(deliverLocal);
  for (const topic of subscribers.keys()) await next.subscribe(topic);
  engine = next;
  await previous.close();
}

function checkTopic(topic: string): void {
  if (typeof topic !== "string" || topic.length === 0 || topic.length > 1024) {
    throw new TypeError('Invalid "topic": expected a string of 1 to 1024 characters');
  }
}

/**
 * Subscribes a connection to a topic (the core calls it for `ws.subscribe`).
 *
 * @param driver The connection.
 * @param topic The topic.
 * @returns `false` when it was subscribed already.
 * @example
 * ```ts
 * import { subscribe } from "./topics.ts";
 * ```
 */
export function subscribe(driver: Member, topic: string): boolean {
  checkTopic(topic);
  let set = subscribers.get(topic);
  if (set === undefined) {
    set = new Set();
    subscribers.set(topic, set);
    guard(engine.subscribe(topic), "pub/sub subscribe");
  }
  if (set.has(driver)) return false;
  set.add(driver);
  driver.transport?.subscribe?.(topic);
  return true;
}

/**
 * Unsubscribes a connection from a topic.
 *
 * @param driver The connection.
 * @param topic The topic.
 * @returns `false` when it was not subscribed.
 * @example
 * ```ts
 * import { unsubscribe } from "./topics.ts";
 * ```
 */
export function unsubscribe(driver: Member, topic: string): boolean {
  const set = subscribers.get(topic);
  if (!set?.delete(driver)) return false;
  driver.transport?.unsubscribe?.(topic);
  if (set.size === 0) {
    subscribers.delete(topic);
    guard(engine.unsubscribe(topic), "pub/sub unsubscribe");
  }
  return true;
}

/**
 * Unsubscribes a connection from every topic it holds, as it closes.
 *
 * @param member The connection.
 * @param held Its topics.
 * @returns `undefined`, what the connection holds afterwards.
 * @example
 * ```ts
 * import { unsubscribeAll } from "./topics.ts";
 * ```
 */
export function unsubscribeAll(member: Member, held: Iterable<string>): undefined {
  for (const topic of held) unsubscribe(member, topic);
  return undefined;
}

/**
 * Publishes a message to every subscriber of a topic, in every process sharing the
 * engine.
 *
 * @param topic The topic.
 * @param data The message.
 * @param isText A text message when true. @default {typeof data === "string"}
 * @param exclude The uuid of a local connection to leave out.
 * @example
 * ```ts
 * import { publish } from "./topics.ts";
 * publish("news", "hello");
 * ```
 */
export function publish(
  topic: string,
  data: SendData,
  isText: boolean = typeof data === "string",
  exclude?: number,
): void {
  checkTopic(topic);
  const message = { topic, data: messageData(data), isText, origin: PROCESS_ID, exclude };
  guard(engine.publish(message), "pub/sub publish");
}

/**
 * Sends one message to every open connection of the process except `originator`,
 * synchronously, encoding it once.
 *
 * @param originator The connection to leave out, or null.
 * @param data The message.
 * @param isText A text message when true. @default {typeof data === "string"}
 * @returns How many connections accepted it.
 * @example
 * ```ts
 * import { broadcast } from "./topics.ts";
 * broadcast(null, "maintenance in 5 minutes");
 * ```
 */
export function broadcast(
  originator: { getUuid(): number } | null,
  data: SendData,
  isText: boolean = typeof data === "string",
): number {
  const skip = originator?.getUuid();
  return sendAll(registry.members(), messageData(data), isText, (d) => d.uuid === skip);
}

/**
 * Open connections in every process sharing the engine (this process alone with the
 * in-process engine).
 *
 * @returns The count.
 * @example
 * ```ts
 * import { clusterCount } from "./topics.ts";
 * console.log(await clusterCount());
 * ```
 */
export function clusterCount(): Promise<number> {
  return engine.count ? engine.count() : Promise.resolve(registry.count());
}

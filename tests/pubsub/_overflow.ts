// Makes Redis close a subscriber for its output buffer: a tiny `pubsub` limit, then a
// burst of numbered 1 KB messages published in one script, far past the limit before
// Redis writes a byte. The fault tests of the engine and of the runtimes share it.
import type { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { encodeEnvelope } from "../../src/pubsub/_envelope.ts";

/** A numbered message of about 1 KB from origin "burst", encoded as wsx publishes it. */
export function burstEnvelope(topic: string, seq: number): Buffer {
  return encodeEnvelope(
    { topic, data: `${seq}|${"y".repeat(1000)}`, isText: true, origin: "burst" },
    seq,
  );
}

/** Runs `body` with a 64 KiB hard `pubsub` output limit, restoring the old limits after. */
export async function withTinyPubsubBuffer<T>(client: Redis, body: () => Promise<T>): Promise<T> {
  const old = await client.config("GET", "client-output-buffer-limit") as string[];
  await client.config("SET", "client-output-buffer-limit", "pubsub 64kb 32kb 1");
  try {
    return await body();
  } finally {
    await client.config("SET", "client-output-buffer-limit", old[1]);
  }
}

/** Publishes messages `from` to `from + count - 1` on `channel` in one script. */
export async function publishBurst(
  client: Redis,
  channel: string,
  topic: string,
  from: number,
  count: number,
): Promise<void> {
  const burst = Array.from({ length: count }, (_, i) => burstEnvelope(topic, from + i));
  await client.eval(
    "for i = 1, #ARGV do redis.call('PUBLISH', KEYS[1], ARGV[i]) end",
    1,
    channel,
    ...burst,
  );
}

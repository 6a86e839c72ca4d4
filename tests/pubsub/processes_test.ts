/**
 * Separate wsx server processes on Node.js sharing one real Redis through RedisEngine,
 * and `serve({ processes: 2 })` with wsx's engine on Node.js, Deno and Bun: one port, two
 * node:cluster workers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  Client,
  clientsOnEachProcess,
  RedisServer,
  ServerProcess,
  sleep,
  waitFor,
} from "./_harness.ts";

const EVERY_BYTE = Array.from({ length: 1024 }, (_, i) => i & 255);

/** Subscribes every client to `topic` and waits until Redis has `processes` subscribers. */
async function subscribeAll(
  redis: RedisServer,
  clients: Client[],
  topic: string,
  processes: number,
) {
  for (const client of clients) assert.equal(await client.ask(`sub ${topic}`), "sub:true");
  await redis.waitNumsub(`wsx:${topic}`, processes);
}

async function clusterCountIs(server: ServerProcess, n: number): Promise<void> {
  await waitFor(
    async () => (await server.get("/ccount")).count === n || undefined,
    10_000,
    `clusterCount ${n}`,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("RedisEngine across Node.js server processes", { timeout: 120_000 }, () => {
  let redis: RedisServer;
  const servers: ServerProcess[] = [];
  const clients: Client[] = [];
  before(async () => {
    redis = await RedisServer.start();
    const env = { REDIS_URL: redis.url };
    servers.push(...await Promise.all([0, 1, 2, 3].map(() => ServerProcess.start("node", env))));
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
  });

  async function connectTo(server: ServerProcess): Promise<Client> {
    const client = await Client.connect(server.url());
    clients.push(client);
    return client;
  }

  test("two processes: clients on each receive each other's publishes, topics stay apart", async () => {
    const [a, b] = [await connectTo(servers[0]), await connectTo(servers[1])];
    const other = await connectTo(servers[1]);
    await subscribeAll(redis, [a, b], "two", 2);
    assert.equal(await other.ask("sub elsewhere"), "sub:true");
    a.ws.send("pub two from-a");
    b.ws.send("pub two from-b");
    // Each waits for 300 ms of silence; all at once.
    const [gotA, gotB, gotOther] = await Promise.all([a.drain(), b.drain(), other.drain()]);
    assert.deepEqual(gotA.sort(), ["from-a", "from-b"]);
    assert.deepEqual(gotB.sort(), ["from-a", "from-b"]);
    assert.deepEqual(gotOther, [], "topic isolation across processes");
  });

  test("two processes: binary payloads pass intact through Redis", async () => {
    const [a, b] = [await connectTo(servers[0]), await connectTo(servers[1])];
    await subscribeAll(redis, [b], "bin", 1);
    a.ws.send("pubbin bin");
    const { data, isBinary } = await b.next();
    assert.equal(isBinary, true);
    assert.deepEqual([...data], EVERY_BYTE);
  });

  test("four processes: every publish reaches every process once, in order per publisher", async () => {
    const four = await Promise.all(servers.map(connectTo));
    await subscribeAll(redis, four, "four", 4);
    for (let round = 0; round < 3; round++) {
      four.forEach((client, i) => client.ws.send(`pub four p${i}-m${round}`));
    }
    const received = await Promise.all(four.map((client) => client.drain(500)));
    for (const got of received) {
      assert.equal(got.length, 12, got.join(","));
      for (let i = 0; i < 4; i++) {
        assert.deepEqual(
          got.filter((m) => m.startsWith(`p${i}-`)),
          [0, 1, 2].map((r) => `p${i}-m${r}`),
        );
      }
    }
  });

  test("clusterCount() counts the open connections of every process", async () => {
    for (const client of clients.splice(0)) client.close();
    const opened = [
      await connectTo(servers[0]),
      await connectTo(servers[1]),
      await connectTo(servers[1]),
      await connectTo(servers[3]),
    ];
    const local = [1, 2, 0, 1];
    // The closes of the earlier tests reach each server in its own time: first every
    // process's own count, then what every process reads from Redis.
    for (const [i, n] of local.entries()) {
      await waitFor(
        async () => (await servers[i].get("/ccount")).local === n || undefined,
        10_000,
        `count ${n}`,
      );
    }
    for (const server of servers) await clusterCountIs(server, 4);
    assert.equal(await opened[0].ask("ccount"), "ccount:4");
    assert.equal(await opened[1].ask("count"), "count:2", "count() stays per process");
    opened[1].close();
    for (const server of servers) await clusterCountIs(server, 3);
  });

  test("Redis restarted mid-test: publishes are lost while it is down, then flow again", async () => {
    const [a, b] = [await connectTo(servers[2]), await connectTo(servers[3])];
    await subscribeAll(redis, [a, b], "restart", 2);
    await redis.kill();
    await sleep(300);
    a.ws.send("pub restart while-down");
    const [gotA, gotB] = await Promise.all([a.drain(), b.drain()]);
    assert.deepEqual(gotA, ["while-down"], "local subscribers still get it");
    assert.deepEqual(gotB, [], "lost for the other process (at most once)");
    await redis.start();
    await redis.waitNumsub("wsx:restart", 2);
    await redis.waitClients("wsx-pub", 4);
    b.ws.send("pub restart after");
    assert.deepEqual(await Promise.all([a.drain(), b.drain()]), [["after"], ["after"]]);
    const who = await servers[2].get("/who");
    assert.ok(
      (who.errors as string[]).some((m) => /lost for other processes/.test(m)),
      "the loss was reported",
    );
    await clusterCountIs(servers[0], clients.filter((c) => c.ws.readyState === 1).length);
  });
});

// wsx's engine runs node:cluster on every runtime: Deno's and Bun's node:cluster
// workers share the port (SO_REUSEPORT on Linux), the primary supervises.
for (const runtime of ["node", "deno", "bun"] as const) {
  describe(
    `serve({ processes: 2 }) with wsx's engine on ${runtime}: one port, two node:cluster workers`,
    { timeout: 120_000 },
    () => {
      let redis: RedisServer;
      let server: ServerProcess;
      const clients: Client[] = [];
      before(async () => {
        redis = await RedisServer.start();
        server = await ServerProcess.start(runtime, {
          REDIS_URL: redis.url,
          WSX_PROCESSES: "2",
          WSX_TRANSPORT: "engine",
        });
      });
      after(async () => {
        for (const client of clients) client.close();
        await server?.stop();
        await redis?.stop();
      });

      test("the primary serves nothing itself; clients land on both workers", async () => {
        assert.match(server.lines[0], /"role":"primary"/);
        const byPid = await clientsOnEachProcess(server.url(), 2);
        clients.push(...byPid.values());
        assert.ok(![...byPid.keys()].includes(`who:${server.pid}`));
      });

      test("clients on different workers receive each other's publishes, binary intact", async () => {
        const [a, b] = clients;
        await subscribeAll(redis, [a, b], "pair", 2);
        a.ws.send("pub pair hi-from-a");
        assert.deepEqual(await Promise.all([b.drain(), a.drain()]), [["hi-from-a"], ["hi-from-a"]]);
        b.ws.send("pubbin pair");
        for (const client of [a, b]) assert.deepEqual([...(await client.next()).data], EVERY_BYTE);
      });

      test("clusterCount() sees the connections of both workers", async () => {
        assert.equal(
          await waitFor(
            async () => {
              const answer = await clients[0].ask("ccount");
              return answer === "ccount:2" ? answer : undefined;
            },
            10_000,
            "ccount:2",
          ),
          "ccount:2",
        );
      });

      test("SIGTERM to the primary shuts every worker down gracefully, then it exits", async () => {
        const pids = await Promise.all(clients.map((c) => c.ask("who")));
        const closes = clients.map((c) =>
          new Promise<number>((resolve) => c.ws.once("close", (code: number) => resolve(code)))
        );
        process.kill(server.pid, "SIGTERM");
        assert.deepEqual(await Promise.all(closes), [1001, 1001]);
        await waitFor(() => server.running ? undefined : true, 15_000, "the primary to exit");
        for (const who of pids) {
          await waitFor(
            () => alive(Number(who.slice(4))) ? undefined : true,
            5000,
            `${who} to exit`,
          );
        }
      });
    },
  );
}

describe(
  "serve({ processes: 2 }) on Node.js when a worker cannot listen",
  { timeout: 60_000 },
  () => {
    test("the primary's serve() rejects naming the worker, and no worker stays behind", async () => {
      const redis = await RedisServer.start();
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const port = (blocker.address() as { port: number }).port;
      try {
        await assert.rejects(
          ServerProcess.start("node", {
            REDIS_URL: redis.url,
            WSX_PROCESSES: "2",
            PORT: String(port),
          }),
          (error: Error) => {
            assert.match(error.message, /^node server did not start: exited with code 1/);
            assert.match(error.message, /Cannot start worker [12]: it exited \(code 1\) first/);
            return true;
          },
        );
      } finally {
        blocker.close();
        await redis.stop();
      }
    });
  },
);

/**
 * RedisEngine (ioredis) on Bun and Deno servers too: one Node.js, one Bun and one Deno
 * server share a real Redis; then `serve({ processes: 2 })` on Bun and on Deno, two
 * processes on one port with `reusePort`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  clientsOnEachProcess,
  denoFixtureFails,
  RedisServer,
  type Runtime,
  ServerProcess,
  waitFor,
} from "./_harness.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const EVERY_BYTE = Array.from({ length: 1024 }, (_, i) => i & 255);

describe(
  "RedisEngine on Node.js, Bun and Deno servers sharing one Redis",
  { timeout: 120_000 },
  () => {
    let redis: RedisServer;
    const servers: ServerProcess[] = [];
    const clients: Client[] = [];
    before(async () => {
      redis = await RedisServer.start();
      const env = { REDIS_URL: redis.url };
      const runtimes: Runtime[] = ["node", "bun", "deno"];
      servers.push(...await Promise.all(runtimes.map((rt) => ServerProcess.start(rt, env))));
      for (const server of servers) clients.push(await Client.connect(server.url()));
    });
    after(async () => {
      for (const client of clients) client.close();
      await Promise.all(servers.map((server) => server.stop()));
      await redis?.stop();
    });

    test("a publish on any runtime reaches the subscribers on the others, text and binary", async () => {
      for (const client of clients) assert.equal(await client.ask("sub mixed"), "sub:true");
      await redis.waitNumsub("wsx:mixed", 3);
      for (const [i, client] of clients.entries()) {
        client.ws.send(`pub mixed from-${servers[i].runtime}`);
        const received = await Promise.all(clients.map((receiver) => receiver.drain(200)));
        for (const got of received) assert.deepEqual(got, [`from-${servers[i].runtime}`]);
        client.ws.send("pubbin mixed");
        for (const receiver of clients) {
          const { data, isBinary } = await receiver.next();
          assert.equal(isBinary, true);
          assert.deepEqual([...data], EVERY_BYTE, `binary from ${servers[i].runtime}`);
        }
      }
    });

    test("clusterCount() on each runtime counts all three", async () => {
      for (const client of clients) {
        await waitFor(
          async () => (await client.ask("ccount")) === "ccount:3" || undefined,
          10_000,
          "ccount:3",
        );
      }
    });
  },
);

for (const runtime of ["bun", "deno"] as const) {
  describe(
    `serve({ processes: 2, transport: "native" }) on ${runtime}: reusePort, one port`,
    { timeout: 120_000 },
    () => {
      let redis: RedisServer;
      let server: ServerProcess;
      let pair: Client[] = [];
      before(async () => {
        redis = await RedisServer.start();
        server = await ServerProcess.start(runtime, {
          REDIS_URL: redis.url,
          WSX_PROCESSES: "2",
          WSX_TRANSPORT: "native",
        });
      });
      after(async () => {
        for (const client of pair) client.close();
        await server?.stop();
        await redis?.stop();
      });

      test("clients on the two processes receive each other's publishes", async () => {
        pair = [...(await clientsOnEachProcess(server.url(), 2)).values()];
        for (const client of pair) assert.equal(await client.ask("sub pair"), "sub:true");
        await redis.waitNumsub("wsx:pair", 2);
        pair[0].ws.send("pub pair from-0");
        pair[1].ws.send("pub pair from-1");
        for (const got of await Promise.all(pair.map((client) => client.drain()))) {
          assert.deepEqual(got.sort(), ["from-0", "from-1"]);
        }
        await waitFor(
          async () => (await pair[1].ask("ccount")) === "ccount:2" || undefined,
          10_000,
          "ccount:2",
        );
      });

      test("SIGTERM to the first process shuts both down gracefully, then both exit", async () => {
        const pids = await Promise.all(
          pair.map(async (c) => Number((await c.ask("who")).slice(4))),
        );
        assert.ok(pids.includes(server.pid), "the first process serves too");
        const closes = pair.map((c) =>
          new Promise<number>((resolve) => c.ws.once("close", (code: number) => resolve(code)))
        );
        process.kill(server.pid, "SIGTERM");
        assert.deepEqual(await Promise.all(closes), [1001, 1001]);
        await waitFor(() => server.running ? undefined : true, 15_000, "the first process to exit");
        for (const pid of pids) {
          await waitFor(() => alive(pid) ? undefined : true, 5000, `${pid} to exit`);
        }
      });
    },
  );
}

describe(
  "serve({ processes: 2 }) on Deno without the permissions it needs",
  { timeout: 60_000 },
  () => {
    let redis: RedisServer;
    before(async () => redis = await RedisServer.start());
    after(() => redis?.stop());

    test("native, no --allow-run: the start fails with a message naming the flag", async () => {
      const env = { REDIS_URL: redis.url, WSX_PROCESSES: "2", WSX_TRANSPORT: "native" };
      const flags = ["--unstable-net", "--allow-net", "--allow-env", "--allow-read"];
      const { code, stderr } = await denoFixtureFails(flags, env);
      assert.notEqual(code, 0);
      assert.match(
        stderr,
        /Cannot serve "processes": 2 on Deno: starting copies of the program needs --allow-run=\//,
      );
    });

    test("engine, no --allow-run: the start fails with a message naming the flag", async () => {
      const env = { REDIS_URL: redis.url, WSX_PROCESSES: "2", WSX_TRANSPORT: "engine" };
      const flags = ["--allow-net", "--allow-env", "--allow-read"];
      const { code, stderr } = await denoFixtureFails(flags, env);
      assert.notEqual(code, 0);
      assert.match(
        stderr,
        /Cannot serve "processes": 2 on Deno: starting node:cluster workers needs --allow-run=\//,
      );
    });

    test("native, no --unstable-net: the start fails with Deno's message naming the flag", async () => {
      const env = { REDIS_URL: redis.url, WSX_PROCESSES: "2", WSX_TRANSPORT: "native" };
      const flags = ["--allow-net", "--allow-env", "--allow-read", "--allow-run"];
      const { code, stderr } = await denoFixtureFails(flags, env);
      assert.notEqual(code, 0);
      assert.match(stderr, /--unstable-net/);
    });
  },
);

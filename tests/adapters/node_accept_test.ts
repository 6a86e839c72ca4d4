// src/adapters/node_accept.ts over real servers and clients: a socket accepted by wsx's
// accept is the socket Node.js's own accept makes (the same own state, events and
// counts), and the accepts it leaves to Node.js behave as Node.js's do.
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Server, type Socket } from "node:net";
import { describe, test } from "node:test";
import { acceptWithFullOptions } from "../../src/adapters/node_accept.ts";

function listen(server: Server, replace: boolean): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      if (replace) assert.equal(acceptWithFullOptions(server), CHECKED);
      resolve((server.address() as { port: number }).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

// One connection to a fresh server made by `make`: the state of the socket the server
// was handed, as its `connection` listeners (node:http's first) left it.
async function acceptOne(make: () => Server, replace: boolean): Promise<object[]> {
  const server = make();
  const handed = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const port = await listen(server, replace);
  const client = connect(port, "127.0.0.1");
  const socket = await handed;
  const { _readableState, _writableState } = socket as Socket & {
    _readableState: object;
    _writableState: object;
  };
  const states = [socket, _readableState, _writableState].map(stateOf);
  client.destroy();
  socket.destroy();
  await close(server);
  return states;
}

// A socket's own state, as far as it is the same for every connection: property names
// (symbols by description) and their primitive values; objects only by presence,
// functions by name.
function stateOf(target: object): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const key of Reflect.ownKeys(target)) {
    const name = typeof key === "symbol" ? `@${key.description}` : key;
    if (/async_id|asyncId|trigger/i.test(name)) continue;
    const value = (target as Record<PropertyKey, unknown>)[key];
    state[name] = typeof value === "function"
      ? `function ${value.name}`
      : value !== null && typeof value === "object"
      ? typeof value
      : value;
  }
  return state;
}

// Whether this Node.js's accept is one node_accept.ts was checked against (elsewhere
// Node.js's own accept stays, and the cases that need wsx's are skipped).
const CHECKED = await new Promise<boolean>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const replaced = acceptWithFullOptions(probe);
    probe.close(() => resolve(replaced));
  });
});
const skip = CHECKED
  ? false
  : "this Node.js's accept is not one node_accept.ts was checked against";

describe("acceptWithFullOptions", () => {
  for (
    const [name, make] of [
      ["a node:net server", () => createServer()],
      [
        "a node:net server with allowHalfOpen and noDelay",
        () => createServer({ allowHalfOpen: true, noDelay: true }),
      ],
      ["a node:http server", () => createHttpServer() as unknown as Server],
    ] as const
  ) {
    test(`hands ${name} the socket Node.js's accept makes`, { skip }, async () => {
      assert.deepEqual(await acceptOne(make, true), await acceptOne(make, false));
    });
  }

  test(
    "counts connections, tags sockets with their server and publishes them",
    { skip },
    async () => {
      const server = createServer((socket) => socket.pipe(socket));
      const published: unknown[] = [];
      const onSocket = (message: unknown) => published.push((message as { socket: Socket }).socket);
      subscribe("net.server.socket", onSocket);
      try {
        const handed = new Promise<Socket>((resolve) => server.once("connection", resolve));
        const port = await listen(server, true);
        const client = connect(port, "127.0.0.1");
        const socket = await handed;
        assert.equal((socket as Socket & { server: Server }).server, server);
        assert.deepEqual(published, [socket]);
        const count = await new Promise<number>((resolve, reject) =>
          server.getConnections((error, n) => error ? reject(error) : resolve(n))
        );
        assert.equal(count, 1);
        // It reads and writes: an echo comes back.
        client.write("ping");
        const echoed = await new Promise<string>((resolve) =>
          client.once("data", (chunk) => resolve(String(chunk)))
        );
        assert.equal(echoed, "ping");
        client.destroy();
        await new Promise((resolve) => socket.once("close", resolve));
      } finally {
        unsubscribe("net.server.socket", onSocket);
        await close(server);
      }
    },
  );

  test("leaves an accept past maxConnections to Node.js, which drops it", async () => {
    const server = createServer();
    server.maxConnections = 1;
    const first = new Promise<Socket>((resolve) => server.once("connection", resolve));
    const dropped = new Promise((resolve) => server.once("drop", resolve));
    const port = await listen(server, true);
    const a = connect(port, "127.0.0.1");
    const socket = await first;
    const b = connect(port, "127.0.0.1");
    b.on("error", () => {});
    await dropped;
    await new Promise((resolve) => b.once("close", resolve));
    a.destroy();
    socket.destroy();
    await close(server);
  });

  test("replaces nothing on a server that does not listen", () => {
    assert.equal(acceptWithFullOptions(createServer()), false);
  });

  test("leaves an accept whose source it was not checked against alone", async () => {
    const server = createServer();
    await listen(server, false);
    type Accept = (this: unknown, ...args: unknown[]) => void;
    const handle = (server as unknown as { _handle: { onconnection: Accept } })._handle;
    const nodes = handle.onconnection;
    const wrapper: Accept = function onconnection(...args) {
      return nodes.apply(this, args);
    };
    handle.onconnection = wrapper;
    assert.equal(acceptWithFullOptions(server), false);
    assert.equal(handle.onconnection, wrapper);
    await close(server);
  });
});

// A benchmark server in a child process that answers one JSON line per command on its
// stdout (heads_server.ts, head_cost_server.ts): lines that are not JSON go to stderr.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * Starts `command args` in `cwd` with `env` added to this process's environment.
 * `ready` is its first line; `ask(command)` writes a line and resolves with the reply;
 * `quit()` asks it to quit and kills it if it has not after 3 s.
 */
export function startChild(command, args, cwd, env) {
  const child = spawn(command, args, {
    cwd,
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return void process.stderr.write(`server: ${line}\n`);
    }
    waiting.shift()?.(message);
  });
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const ask = (command) => {
    const reply = next();
    child.stdin.write(`${command}\n`);
    return reply;
  };
  const quit = () =>
    new Promise((resolve) => {
      child.once("exit", resolve);
      child.stdin.end("quit\n");
      setTimeout(() => child.kill(), 3000).unref();
    });
  return { ready: next(), ask, quit };
}

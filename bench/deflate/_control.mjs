// The control channel both bench servers share: READY line, then stdin commands
// "mem" (GC, print RSS), "cpu" (print user+system CPU microseconds), "broadcast N",
// "quit". A server quits when its stdin closes.
import process from "node:process";
import { createInterface } from "node:readline";

export function control({ port, broadcast, count }) {
  console.log(`READY ${JSON.stringify({ port })}`);
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const [cmd, arg] = line.split(" ");
    if (cmd === "mem") {
      globalThis.gc?.();
      globalThis.gc?.();
      const { rss, heapTotal } = process.memoryUsage();
      console.log(`MEM ${JSON.stringify({ rss, heap: heapTotal, open: count() })}`);
    } else if (cmd === "cpu") {
      const u = process.cpuUsage();
      console.log(`CPU ${u.user + u.system}`);
    } else if (cmd === "broadcast") {
      const n = Number(arg);
      let i = 0;
      const turn = () => {
        for (let k = 0; k < 10 && i < n; k++, i++) broadcast(i);
        if (i < n) setImmediate(turn);
        else console.log("SENT");
      };
      turn();
    } else if (cmd === "quit") process.exit(0);
  });
  rl.on("close", () => process.exit(0));
}

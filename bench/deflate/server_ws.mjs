// ws with perMessageDeflate: true (its defaults: context takeover both ways, 15-bit
// windows, threshold 1024, level Z_DEFAULT_COMPRESSION), echoing.
import { WebSocketServer } from "ws";
import { control } from "./_control.mjs";
import { message } from "./_message.mjs";

const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: true });
await new Promise((resolve) => wss.once("listening", resolve));
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("error", () => ws.terminate());
});
control({
  port: wss.address().port,
  count: () => wss.clients.size,
  broadcast: (i) => {
    const data = message(i);
    for (const c of wss.clients) if (c.readyState === 1) c.send(data);
  },
});

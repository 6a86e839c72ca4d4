// The reference for the upload bench: ws receiving each message whole (its only way),
// then hashing it. PORT from the environment.
import { createHash } from "node:crypto";
import { WebSocketServer } from "ws";

const port = Number(process.env.PORT ?? 8080);
const wss = new WebSocketServer({ port, host: "127.0.0.1", maxPayload: 2 ** 31 - 1 });
wss.on("connection", (ws) => {
  ws.on("message", (data) => ws.send(createHash("sha256").update(data).digest("hex")));
});
wss.on("listening", () => console.log(`READY ${wss.address().port}`));

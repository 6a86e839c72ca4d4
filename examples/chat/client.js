// The chat page's client: joins with a name, shows every event as an <li>, sends {"text"}.
// Plain browser JavaScript, served as /client.js by server.ts.

const $ = (id) => document.getElementById(id);
const joinForm = $("join-form");
const sendForm = $("send-form");
const messages = $("messages");
/** @type {WebSocket | undefined} */
let socket;

function show(type, line) {
  const item = document.createElement("li");
  item.dataset.type = type;
  item.textContent = line; // never innerHTML: names and text come from other users
  messages.append(item);
  messages.scrollTop = messages.scrollHeight;
}

function setJoined(joined) {
  $("name").disabled = joined;
  $("join").disabled = joined;
  $("text").disabled = !joined;
  $("send").disabled = !joined;
  if (joined) $("text").focus();
}

function describe(event) {
  switch (event.type) {
    case "join":
      return `${event.name} joined`;
    case "leave":
      return `${event.name} left`;
    case "message":
      return `${event.from}: ${event.text}`;
    default:
      return undefined;
  }
}

function join(name) {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("name", name);
  $("status").textContent = "Connecting...";
  let opened = false;
  socket = new WebSocket(url);
  socket.addEventListener("open", () => {
    opened = true;
    $("status").textContent = `Connected as ${name}.`;
    setJoined(true);
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    const line = describe(event);
    if (line !== undefined) show(event.type, line);
  });
  socket.addEventListener("close", (event) => {
    const why = event.reason ? `: ${event.reason}` : "";
    $("status").textContent = opened
      ? `Disconnected (${event.code}${why}).`
      : "Could not join: is the name 1 to 32 letters, digits, _ or -?";
    setJoined(false);
    socket = undefined;
  });
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket === undefined && joinForm.reportValidity()) join($("name").value);
});

sendForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value;
  if (socket?.readyState !== WebSocket.OPEN || text.trim() === "") return;
  socket.send(JSON.stringify({ text }));
  $("text").value = "";
});

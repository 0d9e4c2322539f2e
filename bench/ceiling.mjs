// The ceilings `npm run bench` compares Dateline with: a process that serves
// the same article bytes with no database, either through a minimal Express 5
// app (res.json of the parsed document, or res.send of the bytes) or a bare
// node:http server. Usage: node bench/ceiling.mjs express|http <body.json>
// Prints the port it listens on (127.0.0.1) as its first line.
import fs from "node:fs";
import http from "node:http";
import express from "express";

const [kind, file] = process.argv.slice(2);
const bytes = fs.readFileSync(file);
const doc = JSON.parse(bytes.toString("utf8"));

let server;
if (kind === "express") {
  const app = express();
  app.get("/json", (_req, res) => {
    res.json(doc);
  });
  app.get("/send", (_req, res) => {
    res.type("application/json").send(bytes);
  });
  server = http.createServer(app);
} else if (kind === "http") {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": bytes.length });
    res.end(bytes);
  });
} else {
  console.error(`unknown ceiling ${kind}`);
  process.exit(2);
}
server.keepAliveTimeout = 5000;
server.listen(0, "127.0.0.1", () => {
  console.log(String(server.address().port));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

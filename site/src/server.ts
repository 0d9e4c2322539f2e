// `npm run site`: the reader site on SITE_PORT (default 3001), reading the API at DATELINE_API_URL.
import http from "node:http";
import { createSite } from "./app.ts";

const apiUrl = process.env.DATELINE_API_URL ?? "http://127.0.0.1:3000";
const port = Number(process.env.SITE_PORT ?? 3001);
const server = http.createServer(createSite({
  apiUrl,
  publicApiUrl: process.env.DATELINE_PUBLIC_API_URL || undefined,
  siteName: process.env.SITE_NAME || undefined,
}));
server.listen(port, () => console.log(`reader site on http://localhost:${port} (API ${apiUrl})`));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.close(() => process.exit(0)));

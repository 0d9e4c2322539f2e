// Sequential read latency of the public endpoints a news page calls, against
// the demo newsroom on a fresh database (PGlite, or DATABASE_URL's server in
// its own schema). Not a load test: one request at a time, to see per-request
// cost (database round trips dominate). Run: npm run bench:read [-- N]
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { createApp } from "../src/app.ts";
import { createTokenService } from "../src/auth/tokens.ts";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { createViewCounter } from "../src/views/counter.ts";
import { bodySanitizerOptions, createBodySanitizer } from "../src/articles/sanitize-pool.ts";
import { createEventBus } from "../src/events/bus.ts";

const N = Number(process.argv[2] ?? 300);
const secret = crypto.randomBytes(32).toString("hex");
const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", JWT_SECRET: secret });
const url = process.env.DATABASE_URL || undefined;
const schema = url ? `bench_${crypto.randomBytes(4).toString("hex")}` : undefined;
const db = await openDatabase({ url, schema, poolSize: 10 });
await migrate(db);
const mediaDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-bench-"));
const media = localDiskStorage(mediaDir);
await seedDemo(db.prisma, media);
const logger = pino({ level: "silent" });
const views = createViewCounter(db.prisma, logger, { flushIntervalMs: 1000, dedupSeconds: 0, rateMaxPerMinute: 1e9, maxPerNetworkPerArticle: 1e9 });
views.start();
const app = createApp({
  config, db, prisma: db.prisma, tokens: createTokenService(config, secret), logger, media, views, hashClient: clientHasher(secret),
  events: createEventBus(db.prisma, logger, { pollIntervalMs: 1000 }),
  sanitizer: createBodySanitizer(bodySanitizerOptions(config)),
});
const server = http.createServer(app);
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const first = (await (await fetch(`${base}/api/v1/articles?section=foreign-affairs&limit=1`)).json()) as { data: { slug: string }[] };
const slug = first.data[0].slug;

const targets: [string, string, RequestInit?][] = [
  ["article", `/api/v1/articles/${slug}`],
  ["list (section)", "/api/v1/articles?section=china&limit=20"],
  ["latest", "/api/v1/latest?limit=10"],
  ["section front", "/api/v1/sections/china/front?limit=10"],
  ["collection", "/api/v1/collections/selections-for-you"],
  ["popular 24h", "/api/v1/popular?window=24h"],
  ["comments", `/api/v1/articles/${slug}/comments`],
  ["view beacon", `/api/v1/articles/${slug}/views`, { method: "POST", headers: { "user-agent": "Mozilla/5.0 bench" } }],
];

console.log(`database: ${db.kind}, ${N} sequential requests per endpoint (after 20 warm-up)`);
console.log("endpoint".padEnd(16), "p50 ms".padStart(8), "p95 ms".padStart(8), "mean ms".padStart(8));
for (const [name, p, init] of targets) {
  for (let i = 0; i < 20; i++) await (await fetch(base + p, init)).arrayBuffer();
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const res = await fetch(base + p, init);
    await res.arrayBuffer();
    if (res.status >= 400) throw new Error(`${p}: ${res.status}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (f: number) => times[Math.min(times.length - 1, Math.floor(f * times.length))].toFixed(2);
  const mean = (times.reduce((a, b) => a + b, 0) / times.length).toFixed(2);
  console.log(name.padEnd(16), q(0.5).padStart(8), q(0.95).padStart(8), mean.padStart(8));
}

await new Promise<void>((r) => server.close(() => r()));
await views.stop();
if (schema) await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
await db.close();
fs.rmSync(mediaDir, { recursive: true, force: true });

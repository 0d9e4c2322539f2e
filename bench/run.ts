// npm run bench [-- --articles N] [--pglite] [--keep] [--reuse-schema NAME] [--duration S] [--warmup S]
//   [--connections C] [--log-level warn|info] [--pool-size N] [--no-build] [--start-timeout S]
//   [--cpu-prof DIR] [--only TEXT] [--report-only] [--env KEY=VALUE]...
//
// Builds a news-sized corpus straight into a fresh database (a throw-away
// schema on DATABASE_URL's PostgreSQL server, or with --pglite a PGlite data
// directory), starts Dateline from dist/ in production mode as its own
// process, loads each public read with autocannon, then serves the same
// article bytes from a minimal Express 5 app and a bare node:http server (the
// ceilings). Prints and records req/s, p50, p99, errors, the server's peak RSS
// and SQL statements per request (from the Server-Timing header), and writes
// bench/results/<database>-<articles>.json and bench/RESULTS.md (every
// recorded run, and the issue's targets met or not).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { openDatabase, type Database } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { REPO_ROOT } from "../src/paths.ts";
import { SEARCH_VOCABULARY, corpusStatements } from "./corpus.ts";
import { renderResults, type RunRecord, type ScenarioResult } from "./report.ts";

const { values: args } = parseArgs({
  options: {
    articles: { type: "string", default: "100000" },
    pglite: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    "log-level": { type: "string", default: "warn" },
    "pool-size": { type: "string", default: "20" },
    "no-build": { type: "boolean", default: false },
    "start-timeout": { type: "string", default: "600" },
    "report-only": { type: "boolean", default: false },
    // Writes a V8 CPU profile of the Dateline process (whole run) into this directory.
    "cpu-prof": { type: "string" },
    only: { type: "string" },
    // Reuses a corpus kept by an earlier --keep run (a schema name on DATABASE_URL's server): no corpus build.
    "reuse-schema": { type: "string" },
    // Extra server environment, e.g. --env DELIVERY_CACHE_MAX_BYTES=16mb (repeatable).
    env: { type: "string", multiple: true },
  },
});
const ARTICLES = Number(args.articles);
/** --only: run just the scenarios whose name contains this text (not recorded). */
const selected = (name: string) => !args.only || name.includes(args.only);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const HOST = "127.0.0.1";
if (!Number.isInteger(ARTICLES) || ARTICLES < 200) throw new Error("--articles must be an integer >= 200");

const BENCH_DIR = path.join(REPO_ROOT, "bench");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-bench-"));
const children = new Set<ChildProcess>();
let schema: string | undefined;
const pgUrl = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test";
const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// ---------- clean-up, also on failure and on Ctrl-C ----------
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all([...children].map((c) => stop(c)));
  if (args.keep || args["reuse-schema"]) {
    log(`kept: ${schema ? `schema ${schema} on ${pgUrl}` : `PGlite data in ${work}`}`);
    return;
  }
  if (schema) {
    const db = await openDatabase({ url: pgUrl, schema, poolSize: 1 }).catch(() => undefined);
    if (db) {
      await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch((e) => log(`drop schema: ${e.message}`));
      await db.close();
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

function stop(c: ChildProcess): Promise<void> {
  children.delete(c);
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill("SIGKILL"), 10_000);
    c.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    c.kill("SIGTERM");
  });
}

// ---------- helpers ----------
function get(port: number, p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // node:http, not fetch(): fetch adds Cache-Control: no-cache to conditional requests.
    const req = http.get({ host: HOST, port, path: p, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout GET ${p}`)));
  });
}

function statementsOf(h: http.IncomingHttpHeaders): number | undefined {
  const st = h["server-timing"];
  const m = st && /\bdb;[^,]*desc="?(\d+) statements?/.exec(Array.isArray(st) ? st.join(",") : st);
  return m ? Number(m[1]) : undefined;
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
/** utime + stime of a process, in jiffies. */
function processCpu(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

function machine() {
  const mem = Math.round(os.totalmem() / 2 ** 30);
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: mem,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

function writeReport(): void {
  const resultsDir = path.join(BENCH_DIR, "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  const read = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as RunRecord);
  fs.writeFileSync(path.join(BENCH_DIR, "RESULTS.md"), renderResults(read(resultsDir), read(path.join(resultsDir, "before"))));
}
if (args["report-only"]) {
  // Re-renders RESULTS.md from the recorded runs, running nothing.
  writeReport();
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

// ---------- 1. build ----------
const t0 = Date.now();
if (!args["no-build"]) {
  log("npm run build");
  const b = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (b.status !== 0) {
    // tsc still emits on type errors; run what it wrote, but say so.
    if (!fs.existsSync(path.join(REPO_ROOT, "dist/src/server.js"))) throw new Error("npm run build failed and dist/src/server.js is missing");
    log("WARNING: npm run build reported errors; benchmarking the JavaScript it emitted");
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

async function main() {
  // ---------- 2. corpus ----------
  const dbKind = args.pglite ? "pglite" : "postgresql";
  const dataDir = path.join(work, "data");
  let db: Database;
  if (args.pglite) {
    db = await openDatabase({ dataDir: path.join(dataDir, "pglite") });
  } else {
    schema = args["reuse-schema"] ?? `bench_${crypto.randomBytes(4).toString("hex")}`;
    db = await openDatabase({ url: pgUrl, schema, poolSize: 1, statementTimeoutMs: 0 });
  }
  let pgVersion = "";
  let slugs: string[] = [];
  const tCorpus = Date.now();
  try {
    await migrate(db);
    if (!args["reuse-schema"]) for (const s of corpusStatements({ articles: ARTICLES })) {
      const t = Date.now();
      await db.withConnection((c) => c.exec(s.sql));
      log(`corpus: ${s.label} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    await db.withConnection(async (c) => {
      pgVersion = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v"))[0].v;
      slugs = (await c.query<{ slug: string }>(`SELECT slug FROM "Article" ORDER BY id`)).map((r) => r.slug);
    });
  } finally {
    await db.close();
  }
  const corpusSeconds = (Date.now() - tCorpus) / 1000;
  log(`corpus: ${slugs.length} articles in ${corpusSeconds.toFixed(1)} s (${dbKind}${schema ? `, schema ${schema}` : ""})`);
  const counts = await corpusCounts();

  // Slugs the load never asks for, so a sample of them measures cache misses.
  const reserved = slugs.splice(0, 30);
  const hot = slugs.slice(-100);
  const newest = hot[hot.length - 1];

  // ---------- 3. start Dateline ----------
  const port = await freePort();
  const serverLog = path.join(work, "server.log");
  const out = fs.openSync(serverLog, "a");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // e.g. NODE_OPTIONS=--trace-deprecation npm run bench
    ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
    NODE_ENV: "production",
    HOST,
    PORT: String(port),
    JWT_SECRET: crypto.randomBytes(32).toString("hex"),
    ADMIN_EMAIL: "admin@bench.invalid",
    ADMIN_PASSWORD: crypto.randomBytes(12).toString("hex"),
    SEED_DEMO: "false",
    LOG_LEVEL: args["log-level"],
    DATA_DIR: dataDir,
    DATABASE_POOL_SIZE: args["pool-size"],
  };
  for (const kv of args.env ?? []) {
    const i = kv.indexOf("=");
    if (i < 1) throw new Error(`--env ${kv}: expected KEY=VALUE`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (schema) {
    const u = new URL(pgUrl);
    u.searchParams.set("schema", schema);
    env.DATABASE_URL = u.toString();
  }
  log(`starting Dateline (node dist/src/server.js, NODE_ENV=production, LOG_LEVEL=${env.LOG_LEVEL}) on ${HOST}:${port}`);
  const loadBefore = os.loadavg()[0];
  const tStart = Date.now();
  const nodeArgs = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(args["cpu-prof"])}`] : [];
  const server = spawn(process.execPath, [...nodeArgs, "dist/src/server.js"], { cwd: REPO_ROOT, env, stdio: ["ignore", out, out] });
  children.add(server);
  await waitReady(server, port, Number(args["start-timeout"]) * 1000, serverLog);
  const startupSeconds = (Date.now() - tStart) / 1000;
  log(`ready in ${startupSeconds.toFixed(1)} s, RSS ${rssMb(server.pid!)} MB`);
  // The server renders every article's stored public JSON in the background
  // after it is ready (src/delivery/rendered.ts); the load starts once it is done.
  const tRender = Date.now();
  for (;;) {
    const r = await get(port, "/readyz");
    const state = JSON.parse(r.body.toString()).articleJson;
    if (state !== "rendering") break;
    if (Date.now() - tStart > Number(args["start-timeout"]) * 1000) throw new Error("the stored article JSON is still being rendered");
    await new Promise((res) => setTimeout(res, 1000));
  }
  const renderSeconds = (Date.now() - tRender) / 1000;
  log(`stored article JSON rendered in ${renderSeconds.toFixed(1)} s, RSS ${rssMb(server.pid!)} MB`);
  const idleRss = rssMb(server.pid!);

  // The hot article's bytes and ETag, for the ceilings and the 304 scenario.
  const hotPath = `/api/v1/articles/${hot[0]}`;
  const first = await get(port, hotPath);
  if (first.status !== 200) throw new Error(`GET ${hotPath}: ${first.status} ${first.body.toString().slice(0, 300)}`);
  const etag = first.headers.etag;
  const bodyFile = path.join(work, "article.json");
  fs.writeFileSync(bodyFile, first.body);
  const notes: string[] = [];
  let revalidation304 = false;
  if (etag) {
    const cond = await get(port, hotPath, { "if-none-match": etag });
    revalidation304 = cond.status === 304;
    if (!revalidation304) notes.push(`If-None-Match with the hot article's ETag (${etag}) answered ${cond.status}, not 304.`);
  } else {
    notes.push("The article response carries no ETag.");
  }
  log(`hot article: ${first.body.length} bytes, ETag ${etag ?? "none"}, conditional GET ${revalidation304 ? "answers 304" : "does NOT answer 304"}`);

  const scenarios: ScenarioResult[] = [];
  const pid = server.pid!;
  const api = async (name: string, opts: Partial<autocannon.Options> & { path?: string }, sample: string[], sampleHeaders: Record<string, string> = {}) => {
    if (selected(name)) scenarios.push(await runScenario({ name, port, pid, ...opts, sample, sampleHeaders }));
    return scenarios.find((s) => s.name === name);
  };

  // Every response's statement count, to tell cache hits (0) from misses:
  // only here, where no ceiling is compared (reading headers costs the load generator CPU).
  const perResponse = new Map<string, number>();
  const random = await api("article by random slug", {
    requests: [{
      setupRequest: (req) => ({ ...req, path: `/api/v1/articles/${pick(slugs)}` }),
      onResponse: (_status, _body, _ctx, headers) => {
        const st = headers["Server-Timing"] ?? headers["server-timing"];
        const n = st === undefined ? "unknown" : String(statementsOf({ "server-timing": st }) ?? "unknown");
        perResponse.set(n, (perResponse.get(n) ?? 0) + 1);
      },
    }],
  }, reserved.map((s) => `/api/v1/articles/${s}`));
  if (random) {
    // The warm-up's responses are counted too: the mix is what the server saw.
    random.statementsPerResponse = Object.fromEntries([...perResponse].sort());
    const total = [...perResponse.values()].reduce((a, b) => a + b, 0);
    log(`article by random slug: statements per response over the warm-up and the load: ${[...perResponse].map(([k, v]) => `${k}: ${v} (${Math.round((v / total) * 100)} %)`).join(", ")}`);
  }
  await api("article by slug, 100 hot", {
    requests: [{ setupRequest: (req) => ({ ...req, path: `/api/v1/articles/${pick(hot)}` }) }],
  }, hot.slice(0, 20).map((s) => `/api/v1/articles/${s}`));
  await api("latest 20", { path: "/api/v1/latest?limit=20" }, Array(10).fill("/api/v1/latest?limit=20"));
  await api("section front", { path: "/api/v1/sections/desk-1/front" }, Array(10).fill("/api/v1/sections/desk-1/front"));
  await api("popular 24h", { path: "/api/v1/popular?window=24h" }, Array(10).fill("/api/v1/popular?window=24h"));
  await api("comments list", { path: `/api/v1/articles/${newest}/comments` }, Array(10).fill(`/api/v1/articles/${newest}/comments`));
  // Search (GET /api/v1/search): half the queries one of the corpus's 102 words (answered from the
  // response cache after their first request), 30 % two words, 20 % a word and the first four letters of
  // another (prefix matching): about 19,000 distinct queries, so the other half mostly miss the cache.
  // Every query matches many articles (a small vocabulary): ranking window and snippets are always full.
  const searchPath = () => {
    const last = pick(SEARCH_VOCABULARY);
    const r = Math.random();
    const q = r < 0.5 ? last : r < 0.8 ? `${pick(SEARCH_VOCABULARY)} ${last}` : `${pick(SEARCH_VOCABULARY)} ${last.slice(0, 4)}`;
    return `/api/v1/search?q=${encodeURIComponent(q)}`;
  };
  await api("search", { requests: [{ setupRequest: (req) => ({ ...req, path: searchPath() }) }] }, Array.from({ length: 10 }, searchPath));
  if (etag) {
    const s = await api("304 revalidation (hot article)", { path: hotPath, headers: { "if-none-match": etag } }, Array(10).fill(hotPath), { "if-none-match": etag });
    const n304 = s?.statusCounts["304"] ?? 0;
    if (s && n304 !== s.responses) notes.push(`304 scenario: ${n304} of ${s.responses} responses were 304.`);
  }
  const rssAfter = rssMb(pid);
  const tStop = Date.now();
  await stop(server);

  // ---------- 4. the ceilings, each its own process ----------
  for (const [name, kind, p] of [
    ["ceiling: Express 5 res.json", "express", "/json"],
    ["ceiling: Express 5 res.send", "express", "/send"],
    ["ceiling: node:http", "http", "/"],
  ] as const) {
    if (!selected(name)) continue;
    const c = spawn(process.execPath, [path.join(BENCH_DIR, "ceiling.mjs"), kind, bodyFile], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    children.add(c);
    const cport = await new Promise<number>((resolve, reject) => {
      c.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      c.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    });
    scenarios.push(await runScenario({ name, port: cport, pid: c.pid!, path: p, sample: [p] }));
    await stop(c);
  }

  // ---------- 5. record ----------
  // pino lines carry "time" (ms): errors during the load are the server's
  // fault under load; those after SIGTERM are about requests still running
  // when the drain ended (autocannon closes its sockets when time is up).
  const errorLines = fs.readFileSync(serverLog, "utf8").split("\n").filter((l) => /"level":(50|60)/.test(l));
  const timeOf = (l: string) => Number(/"time":(\d+)/.exec(l)?.[1] ?? 0);
  const underLoad = errorLines.filter((l) => timeOf(l) < tStop);
  const atStop = errorLines.filter((l) => timeOf(l) >= tStop);
  if (underLoad.length) notes.push(`The server logged ${underLoad.length} error line(s) during the load; first: ${underLoad[0].slice(0, 400)}`);
  if (atStop.length) notes.push(`The server logged ${atStop.length} error line(s) while shutting down (SIGTERM after the last scenario); first: ${atStop[0].slice(0, 400)}`);
  const record: RunRecord = {
    label: `${dbKind}-${ARTICLES}`,
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    database: dbKind,
    databaseVersion: dbKind === "pglite" ? `PGlite (PostgreSQL ${pgVersion})` : `PostgreSQL ${pgVersion}`,
    articles: ARTICLES,
    corpus: counts,
    machine: machine(),
    settings: { connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, logLevel: args["log-level"]!, poolSize: dbKind === "pglite" ? undefined : Number(args["pool-size"]) },
    corpusSeconds,
    startupSeconds,
    // Other work on the machine skews everything: the 1-minute load average when Dateline started and at the end.
    loadAverage: { atStart: +loadBefore.toFixed(2), atEnd: +os.loadavg()[0].toFixed(2) },
    rssIdleMb: idleRss,
    rssAfterMb: rssAfter,
    articleBytes: first.body.length,
    revalidation304,
    serverErrorsUnderLoad: underLoad.length,
    scenarios,
    notes,
  };
  printTable(record);
  if (args.only) {
    log("--only: a partial run, not recorded in bench/results or RESULTS.md");
    return;
  }
  const resultsDir = path.join(BENCH_DIR, "results");
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `${record.label}.json`), JSON.stringify(record, null, 2) + "\n");
  writeReport();
  log(`wrote bench/results/${record.label}.json and bench/RESULTS.md (total ${((Date.now() - t0) / 1000).toFixed(0)} s)`);

  async function corpusCounts(): Promise<Record<string, number>> {
    const d = args.pglite ? await openDatabase({ dataDir: path.join(dataDir, "pglite") }) : await openDatabase({ url: pgUrl, schema, poolSize: 1 });
    try {
      return await d.withConnection(async (c) => {
        const out: Record<string, number> = {};
        for (const t of ["Article", "Section", "Editor", "Tag", "ArticleTag", "ArticleRelated", "Comment", "ArticleViewHourly"]) {
          out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}"`))[0].n);
        }
        out.avgBodyBytes = Number((await c.query<{ n: string }>(`SELECT round(avg(octet_length(body))) AS n FROM "Article"`))[0].n);
        return out;
      });
    } finally {
      await d.close();
    }
  }
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitReady(child: ChildProcess, port: number, limitMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`Dateline exited with ${child.exitCode} before /readyz; log tail:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
    }
    const ok = await get(port, "/readyz").then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Dateline not ready after ${limitMs / 1000} s; log tail:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
}

async function runScenario(o: {
  name: string; port: number; pid: number; path?: string; headers?: Record<string, string>;
  requests?: autocannon.Request[]; sample: string[]; sampleHeaders?: Record<string, string>;
}): Promise<ScenarioResult> {
  const opts: autocannon.Options = {
    url: `http://${HOST}:${o.port}${o.path ?? "/"}`,
    connections: CONNECTIONS,
    headers: o.headers,
    requests: o.requests,
  };
  if (WARMUP > 0) await autocannon({ ...opts, duration: WARMUP });
  // Statements per request from a sample taken after the warm-up (the random
  // slugs' sample is of slugs the load never asks for: cache misses).
  const statements: number[] = [];
  const sampleStatus = new Set<number>();
  for (const p of o.sample) {
    const r = await get(o.port, p, o.sampleHeaders ?? {});
    sampleStatus.add(r.status);
    const n = statementsOf(r.headers);
    if (n !== undefined) statements.push(n);
  }
  let maxRss = rssMb(o.pid) ?? 0;
  const timer = setInterval(() => {
    maxRss = Math.max(maxRss, rssMb(o.pid) ?? 0);
  }, 200);
  let r: autocannon.Result;
  // CPU used during the load by the server, by this process (autocannon) and by everything else on the machine.
  const cpu0 = { m: machineCpu(), server: processCpu(o.pid), self: processCpu(process.pid) };
  try {
    r = await autocannon({ ...opts, duration: DURATION });
  } finally {
    clearInterval(timer);
  }
  const cpu1 = { m: machineCpu(), server: processCpu(o.pid), self: processCpu(process.pid) };
  const capacity = cpu1.m.total - cpu0.m.total || 1;
  const share = (x: number) => Math.round((x / capacity) * 100);
  const serverCpu = cpu1.server - cpu0.server, selfCpu = cpu1.self - cpu0.self;
  const cpuShare = {
    server: share(serverCpu),
    loadGenerator: share(selfCpu),
    // PostgreSQL's backends count here too (they serve the server under test).
    other: share(Math.max(0, cpu1.m.busy - cpu0.m.busy - serverCpu - selfCpu)),
  };
  maxRss = Math.max(maxRss, rssMb(o.pid) ?? 0);
  const statusCounts: Record<string, number> = {};
  for (const [code, v] of Object.entries((r as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {})) statusCounts[code] = v.count;
  const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0);
  const bad = Object.entries(statusCounts).filter(([c]) => !/^[23]/.test(c)).reduce((a, [, n]) => a + n, 0);
  const res: ScenarioResult = {
    name: o.name,
    reqPerSec: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    responses,
    statusCounts,
    bad,
    errors: r.errors,
    timeouts: r.timeouts,
    maxRssMb: maxRss,
    statements: statements.length ? { min: Math.min(...statements), max: Math.max(...statements), mean: +(statements.reduce((a, b) => a + b, 0) / statements.length).toFixed(2), samples: statements.length } : null,
    sampleStatuses: [...sampleStatus],
    cpuShare,
  };
  log(`${o.name}: ${res.reqPerSec} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, bad ${bad}, errors ${r.errors}, timeouts ${r.timeouts}, RSS ${maxRss} MB, statements ${fmtStatements(res)}; CPU % of ${os.availableParallelism()} cores: server ${cpuShare.server}, autocannon ${cpuShare.loadGenerator}, other ${cpuShare.other}`);
  return res;
}

function fmtStatements(s: ScenarioResult): string {
  if (!s.statements) return "unknown";
  const { min, max, mean } = s.statements;
  return min === max ? String(min) : `${min}–${max} (mean ${mean})`;
}

function printTable(rec: RunRecord) {
  console.log(`\n${rec.label}: ${rec.articles} articles, ${rec.databaseVersion}, ${rec.settings.connections} connections, ${rec.settings.durationSeconds} s each`);
  console.log(["scenario".padEnd(34), "req/s".padStart(8), "p50".padStart(6), "p99".padStart(6), "bad".padStart(5), "err".padStart(5), "RSS MB".padStart(7), "  SQL/req"].join(""));
  for (const s of rec.scenarios) {
    console.log([s.name.padEnd(34), String(s.reqPerSec).padStart(8), String(s.p50).padStart(6), String(s.p99).padStart(6), String(s.bad).padStart(5), String(s.errors).padStart(5), String(s.maxRssMb).padStart(7), "  " + fmtStatements(s)].join(""));
  }
  for (const n of rec.notes) console.log(`note: ${n}`);
}

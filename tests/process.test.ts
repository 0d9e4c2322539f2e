// The server as an operator runs it: spawned processes (node --import tsx
// src/server.ts), signals, exit codes, what they print. Spawns are slow (PGlite
// start, migrations, demo seed), so each test makes every spawn count.
// Without DATABASE_URL each server gets its own PGlite data directory; with it,
// its own schema on that server (?schema=), dropped afterwards.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { DataDirLockedError, lockDataDir } from "../src/db/lock.ts";
import { REPO_ROOT } from "../src/paths.ts";
import { startTestApp } from "./support/harness.ts";

const PG_URL = process.env.DATABASE_URL || undefined;
const JWT_SECRET = "process-test-secret-0123456789abcdef0123456789";

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A fresh place for a server's data: a DATA_DIR, and on PostgreSQL a schema of its own. */
function freshStore(): { env: NodeJS.ProcessEnv; dataDir: string; schema?: string } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-proc-"));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { DATA_DIR: dataDir };
  if (!PG_URL) return { env, dataDir };
  const schema = `t_proc_${crypto.randomBytes(4).toString("hex")}`;
  const u = new URL(PG_URL);
  u.searchParams.set("schema", schema);
  env.DATABASE_URL = u.toString();
  cleanups.push(async () => {
    const db = await openDatabase({ url: PG_URL, poolSize: 1 });
    try {
      await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    } finally {
      await db.close();
    }
  });
  return { env, dataDir, schema };
}

interface Proc {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far. */
  out(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Spawns the server from source, or `command` (e.g. npm start), with `env` over a development environment. */
function startProcess(env: NodeJS.ProcessEnv, command = [process.execPath, "--import", "tsx", "src/server.ts"]): Proc {
  const full: NodeJS.ProcessEnv = { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", NODE_ENV: "development", ...env };
  for (const k of ["JWT_SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SEED_DEMO"]) if (!(k in env)) delete full[k];
  if (!("DATABASE_URL" in env)) delete full.DATABASE_URL;
  const child = spawn(command[0], command.slice(1), { cwd: REPO_ROOT, env: full, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => {
    out += b;
    err += b;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, pid: child.pid!, out: () => out, stderr: () => err, exited };
}

/** Resolves with the port once the server logs that it listens; rejects if it exits first. */
async function listening(p: Proc): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /"port":(\d+),"msg":"Dateline listening/.exec(p.out());
      if (m) return resolve(Number(m[1]));
      if (p.child.exitCode !== null) return reject(new Error(`server exited ${p.child.exitCode} before listening:\n${p.out()}`));
      setTimeout(check, 50);
    };
    check();
  });
}

async function startServer(env: NodeJS.ProcessEnv): Promise<Proc & { base: string }> {
  const p = startProcess(env);
  const port = await listening(p);
  return { ...p, base: `http://127.0.0.1:${port}` };
}

/** Stops `p` with SIGTERM and returns its exit code. */
async function term(p: Proc): Promise<number | null> {
  p.child.kill("SIGTERM");
  return p.exited;
}

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

/** A free port on 127.0.0.1 (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Tables in the store's schema (PostgreSQL) or in PGlite's public schema, read after its server exited. */
async function tableCount(store: ReturnType<typeof freshStore>): Promise<number> {
  const sql = `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`;
  if (store.schema) {
    const db = await openDatabase({ url: PG_URL, poolSize: 1 });
    try {
      return (await db.withConnection((c) => c.query<{ n: number }>(sql, [store.schema])))[0].n;
    } finally {
      await db.close();
    }
  }
  const dir = path.join(store.dataDir, "pglite");
  if (!fs.existsSync(dir)) return 0;
  const pg = new PGlite(dir);
  try {
    return (await pg.query<{ n: number }>(sql, ["public"])).rows[0].n;
  } finally {
    await pg.close();
  }
}

interface Outcome {
  status?: number;
  connectionClose?: boolean;
  body?: any;
  error?: string;
}

function request(agent: http.Agent, base: string, method: string, pathname: string, headers: Record<string, string> = {}, body?: unknown): Promise<Outcome> {
  return new Promise((resolve) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(new URL(pathname, base), {
      method,
      agent,
      headers: { ...headers, ...(data ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(data)) } : {}) },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode, connectionClose: res.headers.connection === "close", body: parsed });
      });
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(data);
  });
}

/**
 * Sends `head` and then the body one byte at a time, each byte only after
 * the previous was written, until the server closes the connection. Returns
 * how many body bytes were sent by then and what the server answered.
 */
async function dripUntilClosed(base: string, head: string, bodyLength: number): Promise<{ sent: number; answer: string }> {
  const u = new URL(base);
  const socket = net.connect(Number(u.port), u.hostname);
  let answer = "";
  let closed = false;
  socket.on("data", (b) => (answer += b));
  socket.on("error", () => {});
  const done = new Promise<void>((r) => socket.on("close", () => ((closed = true), r())));
  await new Promise<void>((r) => socket.once("connect", () => r()));
  socket.write(head);
  let sent = 0;
  while (!closed && sent < bodyLength) {
    await new Promise((r) => setTimeout(r, 50));
    if (closed) break;
    socket.write("x");
    sent += 1;
  }
  await done;
  return { sent, answer };
}

describe("the server process", () => {
  it(
    "starts on a fresh store, refuses a second process on its data directory, closes slow requests, " +
      "drains keep-alive traffic on SIGTERM without resets, exits 0 and keeps every counted view",
    { timeout: 240_000 },
    async () => {
      const store = freshStore();
      const env: NodeJS.ProcessEnv = {
        ...store.env,
        // Everything counted stays buffered until the stop (or a rare periodic flush).
        VIEW_FLUSH_INTERVAL_MS: "60000",
        VIEW_DEDUP_SECONDS: "0",
        VIEW_RATE_MAX_PER_MINUTE: "1000000",
        VIEW_MAX_PER_ADDRESS_PER_ARTICLE: "1000000",
        HTTP_HEADERS_TIMEOUT_MS: "500",
        HTTP_REQUEST_TIMEOUT_MS: "1000",
      };
      const a = await startServer(env);
      assert.equal((await fetch(`${a.base}/readyz`)).status, 200);
      const list = (await (await fetch(`${a.base}/api/v1/articles?limit=4`)).json()) as { data: { slug: string }[] };
      assert.equal(list.data.length, 4, "demo content served");
      const password = fs.readFileSync(path.join(store.dataDir, "initial-admin-password"), "utf8").trim();
      assert.match(a.out(), new RegExp(password), "the generated password is printed once");
      assert.doesNotMatch(a.out().replace(/password: \S+/, ""), new RegExp(password), "and only once");
      const login = await fetch(`${a.base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "admin@dateline.local", password }),
      });
      assert.equal(login.status, 200);
      assert.ok(fs.existsSync(path.join(store.dataDir, "jwt-secret")));

      if (!PG_URL) {
        // A second process on the same data directory refuses, naming the owner; the first keeps serving.
        assert.equal(JSON.parse(fs.readFileSync(path.join(store.dataDir, "pglite.lock"), "utf8")).pid, a.pid);
        const b = startProcess({ ...env, PORT: String(await freePort()) });
        assert.equal(await b.exited, 1, b.out());
        assert.match(b.stderr(), new RegExp(`DATA_DIR=${store.dataDir}.*in use by process ${a.pid}`));
        assert.doesNotMatch(b.stderr(), /\n\s+at /, "no stack trace");
        assert.equal((await fetch(`${a.base}/readyz`)).status, 200);
      }

      // A request body (and headers) trickling in is cut off at the configured timeouts.
      const slug = list.data[0].slug;
      const slowBody = await dripUntilClosed(
        a.base,
        `POST /api/v1/articles/${slug}/views HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
        100000,
      );
      assert.ok(slowBody.sent < 100000, "closed before the body was complete");
      assert.ok(slowBody.answer === "" || slowBody.answer.startsWith("HTTP/1.1 408"), slowBody.answer);
      const slowHeaders = await dripUntilClosed(a.base, "GET /healthz HTTP/1.1\r\nX-Slow: ", 100000);
      assert.ok(slowHeaders.sent < 100000, "closed before the headers were complete");
      assert.ok(slowHeaders.answer === "" || slowHeaders.answer.startsWith("HTTP/1.1 408"), slowHeaders.answer);

      const popular = async (base: string) => {
        const res = (await (await fetch(`${base}/api/v1/popular?window=30d&limit=50`)).json()) as { data: { slug: string; views: number }[] };
        return new Map(res.data.map((x) => [x.slug, x.views]));
      };
      const before = await popular(a.base);

      // Steady keep-alive traffic from 8 clients: reads and view beacons, each
      // client sending its next request as soon as the previous one is answered.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const counted = new Map<string, number>();
      const errors = new Map<string, number>();
      let answered = 0;
      let closeAnswers = 0;
      let signalled = false;
      let onBusy: () => void;
      const busy = new Promise<void>((r) => (onBusy = r));
      const client = async (w: number) => {
        for (let i = 0; ; i++) {
          const s = list.data[i % list.data.length].slug;
          const res =
            i % 2
              ? await request(agent, a.base, "GET", "/api/v1/sections")
              : await request(agent, a.base, "POST", `/api/v1/articles/${s}/views`, { "user-agent": `Reader/${w}.${i}` }, {});
          if (res.error) {
            errors.set(res.error, (errors.get(res.error) ?? 0) + 1);
            // Refused at connect: the server stopped listening; this client is done.
            if (res.error === "ECONNREFUSED" || !signalled) return;
            continue;
          }
          answered += 1;
          if (res.connectionClose) closeAnswers += 1;
          if (res.status === 202 && res.body?.counted === true) counted.set(s, (counted.get(s) ?? 0) + 1);
          if (answered >= 400) onBusy();
        }
      };
      const clients = Promise.all(Array.from({ length: 8 }, (_, w) => client(w)));
      await Promise.race([busy, clients]);
      assert.deepEqual([...errors], [], "no errors before the stop");
      signalled = true;
      a.child.kill("SIGTERM");
      await clients;
      agent.destroy();
      assert.equal(await a.exited, 0, a.out());
      assert.deepEqual([...errors.keys()], ["ECONNREFUSED"], `only refused connections, no resets: ${JSON.stringify([...errors])}`);
      assert.ok(closeAnswers >= 1, "requests answered during the drain carried Connection: close");
      assert.match(a.out(), /"msg":"stopped"/);
      if (!PG_URL) assert.ok(!fs.existsSync(path.join(store.dataDir, "pglite.lock")), "the lock is released on exit");

      // Every view counted before the stop was written: a new process on the same store sees them.
      const total = [...counted.values()].reduce((x, y) => x + y, 0);
      assert.ok(total > 0);
      const e = await startServer(store.env);
      const afterStop = await popular(e.base);
      for (const [s, n] of counted) assert.equal((afterStop.get(s) ?? 0) - (before.get(s) ?? 0), n, `views of ${s}`);
      assert.equal(await term(e), 0, e.out());
    },
  );

  it("`npm start` puts the server in npm's place: SIGTERM to npm reaches it, it stops cleanly, npm exits 0", { timeout: 240_000 }, async () => {
    const store = freshStore();
    // prestart brings dist/ up to date (a no-op after npm install built it).
    const npm = startProcess({ ...store.env, SEED_DEMO: "false" }, ["npm", "start"]);
    await listening(npm);
    const serverPid = Number(/"pid":(\d+),[^\n]*"msg":"Dateline listening/.exec(npm.out())![1]);
    cleanups.push(() => {
      try {
        process.kill(serverPid, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    });
    const stat = `/proc/${serverPid}/stat`;
    if (fs.existsSync(stat)) {
      // No shell in between: the script execs node.
      const ppid = Number(fs.readFileSync(stat, "utf8").replace(/^.*\) /s, "").split(" ")[1]);
      assert.equal(ppid, npm.pid);
    }
    assert.equal(await term(npm), 0, npm.out());
    assert.match(npm.out(), /"msg":"stopped"/);
    assert.throws(() => process.kill(serverPid, 0), { code: "ESRCH" }, "the server is gone too");
  });

  it("takes over a stale data-directory lock, and exits 1 naming PORT when the port is taken", { timeout: 120_000 }, async () => {
    const store = freshStore();
    const stalePid = deadPid();
    const lockFile = path.join(store.dataDir, "pglite.lock");
    if (!PG_URL) fs.writeFileSync(lockFile, JSON.stringify({ pid: stalePid, host: os.hostname() }));
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    cleanups.push(() => void holder.close());
    const port = (holder.address() as net.AddressInfo).port;

    const p = startProcess({ ...store.env, PORT: String(port), SEED_DEMO: "false" });
    assert.equal(await p.exited, 1, p.out());
    assert.match(p.stderr(), new RegExp(`cannot listen on PORT=${port} HOST=127\\.0\\.0\\.1: the port is already in use.*EADDRINUSE`));
    assert.doesNotMatch(p.stderr(), /\n\s+at /, "no stack trace");
    assert.doesNotMatch(p.out(), /Dateline listening/);
    if (!PG_URL) {
      assert.match(p.out(), new RegExp(`"stalePid":${stalePid}.*took over the data-directory lock`));
      assert.ok(!fs.existsSync(lockFile), "released on exit");
    }
  });

  it("refuses an unreachable DATABASE_URL in one line naming it, without the password or a stack trace", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const p = startProcess({ DATA_DIR: os.tmpdir(), DATABASE_URL: `postgresql://bob:s3cret-pw@127.0.0.1:${port}/news` });
    assert.equal(await p.exited, 1);
    const err = p.stderr();
    assert.match(err, new RegExp(`DATABASE_URL=postgresql://bob:\\*\\*\\*\\*@127\\.0\\.0\\.1:${port}/news: .*is PostgreSQL running.*ECONNREFUSED`));
    assert.doesNotMatch(p.out(), /s3cret-pw/);
    assert.doesNotMatch(err, /\n\s+at /);
    assert.equal(err.trim().split("\n").length, 1, err);
  });

  it("in production without ADMIN_EMAIL on an empty database, exits naming it before creating any table", { timeout: 60_000 }, async () => {
    const store = freshStore();
    const p = startProcess({ ...store.env, NODE_ENV: "production", JWT_SECRET });
    assert.equal(await p.exited, 1, p.out());
    assert.match(p.stderr(), /ADMIN_EMAIL and ADMIN_PASSWORD/);
    assert.doesNotMatch(p.stderr(), /\n\s+at /);
    assert.equal(await tableCount(store), 0);
  });

  it("builds many missing read-model rows in a child process, which renders their JSON too (PGlite: with the database closed meanwhile)", { timeout: 180_000 }, async () => {
    const store = freshStore();
    // A first start seeds the demo newsroom (its rows built by events); then
    // the read model is emptied, as for content loaded in SQL.
    assert.equal(await term(await startServer(store.env)), 0);
    const open = () => (PG_URL ? openDatabase({ url: PG_URL, schema: store.schema, poolSize: 1 }) : openDatabase({ dataDir: path.join(store.dataDir, "pglite") }));
    const empty = await open();
    try {
      await empty.withConnection((c) => c.exec(`DELETE FROM "PublishedArticle"`));
    } finally {
      await empty.close();
    }
    const p = await startServer({ ...store.env, READ_MODEL_CHILD_MIN_ROWS: "1" });
    assert.match(p.out(), /building the missing rows in a child process/);
    const latest = (await (await fetch(`${p.base}/api/v1/latest?limit=1`)).json()) as { data: { slug: string }[] };
    assert.equal(latest.data.length, 1);
    assert.equal((await fetch(`${p.base}/api/v1/articles/${latest.data[0].slug}`)).status, 200);
    // The server's renderer finds nothing left to render (its first pass takes a moment to start).
    let state = "";
    for (let i = 0; i < 100 && state !== "current"; i++) {
      state = ((await (await fetch(`${p.base}/readyz`)).json()) as { articleJson: string }).articleJson;
      if (state !== "current") await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, "current", "the child rendered every article under the server's key");
    assert.equal(await term(p), 0);
    // (PGlite: one process per data directory, so counted after the server stopped.)
    const db = await open();
    try {
      const [{ n }] = await db.withConnection((c) => c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "PublishedArticle" WHERE json IS NULL`));
      assert.equal(n, 0);
    } finally {
      await db.close();
    }
  });

  it("two instances starting at once in one folder on an empty PostgreSQL database both start, with one ADMIN, one demo seed, one secret", { skip: !PG_URL && "PGlite: one process per data directory", timeout: 180_000 }, async () => {
    const store = freshStore();
    const [x, y] = await Promise.all([startServer(store.env), startServer(store.env)]);
    for (const p of [x, y]) assert.equal((await fetch(`${p.base}/readyz`)).status, 200);
    const db = await openDatabase({ url: PG_URL, schema: store.schema, poolSize: 1 });
    try {
      assert.equal(await db.prisma.editor.count({ where: { role: "ADMIN" } }), 1);
      const slugs = await db.prisma.article.findMany({ select: { slug: true } });
      assert.ok(slugs.length > 0);
      assert.equal(new Set(slugs.map((s) => s.slug)).size, slugs.length);
    } finally {
      await db.close();
    }
    // Exactly one of them created the ADMIN and printed its password.
    assert.equal([x, y].filter((p) => /First ADMIN editor created/.test(p.out())).length, 1);
    // Both sign with the one development secret in DATA_DIR: a token from one is good on the other.
    const password = fs.readFileSync(path.join(store.dataDir, "initial-admin-password"), "utf8").trim();
    const login = await fetch(`${x.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@dateline.local", password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    assert.equal((await fetch(`${y.base}/api/v1/admin/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 200);
    assert.deepEqual(await Promise.all([term(x), term(y)]), [0, 0]);
  });
});

describe("first start on PostgreSQL", { skip: !PG_URL && "PostgreSQL only" }, () => {
  it("opens a schema that does not exist yet from several pools at once, as instances starting together do", async () => {
    const schema = `t_proc_${crypto.randomBytes(4).toString("hex")}`;
    const dbs = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase({ url: PG_URL, schema, poolSize: 1 })));
    for (const r of dbs) if (r.status === "fulfilled") await r.value.close();
    const admin = await openDatabase({ url: PG_URL, poolSize: 1 });
    await admin.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await admin.close();
    assert.deepEqual(dbs.map((r) => (r.status === "rejected" ? String(r.reason) : "ok")), ["ok", "ok", "ok", "ok"]);
  });
});

describe("the data-directory lock", () => {
  const dir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-lock-"));
    cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
    return path.join(d, "pglite");
  };

  it("is exclusive, names a live owner, and is released only by its owner", () => {
    const d = dir();
    const lock = lockDataDir(d);
    assert.equal(JSON.parse(fs.readFileSync(lock.file, "utf8")).pid, process.pid);
    assert.throws(() => lockDataDir(d), DataDirLockedError, "not twice in one process");
    lock.release();
    assert.ok(!fs.existsSync(lock.file));

    // A live process (our parent) holds it.
    fs.writeFileSync(lock.file, JSON.stringify({ pid: process.ppid }));
    assert.throws(() => lockDataDir(d), (err: DataDirLockedError) => err.pid === process.ppid && err.message.includes(`process ${process.ppid}`) && err.message.includes(d));
    assert.ok(fs.existsSync(lock.file), "a live owner's lock is left alone");
    fs.unlinkSync(lock.file);
  });

  it("takes over a lock left by a dead process, by an earlier process with our PID, or left unwritten", () => {
    const d = dir();
    const file = `${d}.lock`;
    for (const content of [JSON.stringify({ pid: deadPid() }), JSON.stringify({ pid: process.pid }), ""]) {
      fs.writeFileSync(file, content);
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(file, old, old);
      const lock = lockDataDir(d);
      assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).pid, process.pid, content);
      assert.ok(!fs.existsSync(`${file}.takeover`));
      // A lock another process wrote since is not removed by our release.
      fs.writeFileSync(file, JSON.stringify({ pid: process.ppid }));
      lock.release();
      assert.ok(fs.existsSync(file));
      fs.unlinkSync(file);
    }
  });
});

describe("production configuration", () => {
  it("does not seed the demo newsroom in production unless SEED_DEMO says so", () => {
    assert.equal(loadConfig({ NODE_ENV: "production", JWT_SECRET }).SEED_DEMO, false);
    assert.equal(loadConfig({ NODE_ENV: "production", JWT_SECRET, SEED_DEMO: "true" }).SEED_DEMO, true);
    assert.equal(loadConfig({ NODE_ENV: "development" }).SEED_DEMO, true);
    assert.equal(loadConfig({ NODE_ENV: "development", SEED_DEMO: "false" }).SEED_DEMO, false);
  });

  it("bounds HTTP header, request and keep-alive times", () => {
    const c = loadConfig({});
    assert.equal(c.HTTP_HEADERS_TIMEOUT_MS, 10_000);
    assert.equal(c.HTTP_REQUEST_TIMEOUT_MS, 60_000);
    assert.equal(c.HTTP_KEEP_ALIVE_TIMEOUT_MS, 5_000);
    assert.throws(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: "20000", HTTP_REQUEST_TIMEOUT_MS: "10000" }), /HTTP_HEADERS_TIMEOUT_MS/);
  });

  it("takes TRUST_PROXY as Express reads it, a hop count included, and refuses what Express would misread", async () => {
    assert.equal(loadConfig({}).TRUST_PROXY, "loopback");
    assert.equal(loadConfig({ TRUST_PROXY: "false" }).TRUST_PROXY, false);
    assert.equal(loadConfig({ TRUST_PROXY: "10.0.0.0/8, fc00::/7" }).TRUST_PROXY, "10.0.0.0/8, fc00::/7");
    for (const bad of ["10.0.0.0/33", "1O.0.0.0/8", "cloudflare", "10.0.0.1/8/8"]) {
      assert.throws(() => loadConfig({ TRUST_PROXY: bad }), /TRUST_PROXY/, bad);
    }
    // One hop: the balancer in front is trusted, whatever its address, and nothing before it.
    const t = await startTestApp({ TRUST_PROXY: "1" });
    try {
      const app = t.server.listeners("request")[0] as unknown as { get(name: string): (addr: string, hop: number) => boolean };
      const trust = app.get("trust proxy fn");
      assert.equal(trust("203.0.113.7", 0), true);
      assert.equal(trust("198.51.100.1", 1), false);
    } finally {
      await t.close();
    }
  });

  it("names DATABASE_URL when it is not a URL", () => {
    assert.throws(() => loadConfig({ DATABASE_URL: "postgresql://db.example:99999/news" }), /DATABASE_URL: is not a valid URL/);
  });
});

// Issue 11 §4, the proof: three instances started at once on one empty
// PostgreSQL schema (with a streaming replica when .ci/run made one) and one
// Redis, a mixed load spread over them (reads, comments, view beacons, edits,
// scheduled publishes), then a reconciliation against the database:
// - every accepted comment is stored once;
// - views are de-duplicated across instances (a reader counted once whichever
//   instance each beacon reached);
// - each scheduled article is published once (one change event, one revision);
// - after an edit, no instance serves the old version once it served the new.
// On PGlite (no server to share) the file skips itself, saying why.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { openDatabase, type Database } from "../src/db/client.ts";
import { REPO_ROOT } from "../src/paths.ts";
import { assertMatchesSpec } from "./support/contract.ts";

const PRIMARY = process.env.REPLICA_TEST_PRIMARY_URL || process.env.DATABASE_URL || undefined;
const REPLICA = process.env.REPLICA_TEST_PRIMARY_URL ? process.env.REPLICA_TEST_REPLICA_URL : undefined;
const REDIS_URL = process.env.SCALE_OUT_REDIS_URL || "redis://127.0.0.1:6379";
const skip = PRIMARY ? false : "needs PostgreSQL (DATABASE_URL): several instances cannot share an embedded PGlite";
if (skip) console.log(`# tests/scale-out.test.ts skipped: ${skip}`);

const INSTANCES = 3;
const JWT_SECRET = `scale-out-${crypto.randomBytes(16).toString("hex")}`;
const ADMIN = { email: "scale-admin@example.com", password: "scale-out-password-1234" };
const schema = `t_scale_${crypto.randomBytes(4).toString("hex")}`;
const prefix = `dateline-test-${schema}:`;
const UA = "Mozilla/5.0 (scale-out test)";

interface Instance { child: ChildProcess; base: string; out: () => string }
const instances: Instance[] = [];
let db: Database;
let token = "";
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-scale-"));

function withSchema(url: string): string {
  const u = new URL(url);
  u.searchParams.set("schema", schema);
  return u.toString();
}

function start(): Promise<Instance> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "development",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    DATABASE_URL: withSchema(PRIMARY!),
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    // The reconciliation counts exact de-duplication across instances; the
    // default 250 ms command timeout hands a slow CI machine's beacons to
    // the documented per-instance fallback, which may count one twice.
    REDIS_COMMAND_TIMEOUT_MS: "3000",
    JWT_SECRET,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    SEED_DEMO: "false",
    SCHEDULER_INTERVAL_MS: "200",
    VIEW_FLUSH_INTERVAL_MS: "200",
    COMMENTS_AUTO_APPROVE: "true",
  };
  if (REPLICA) env.DATABASE_REPLICA_URLS = withSchema(REPLICA);
  else delete env.DATABASE_REPLICA_URLS;
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /"port":(\d+),"msg":"Dateline listening/.exec(out);
      if (m) return resolve({ child, base: `http://127.0.0.1:${m[1]}`, out: () => out });
      if (child.exitCode !== null) return reject(new Error(`instance exited ${child.exitCode} before listening:\n${out}`));
      setTimeout(check, 50);
    };
    check();
  });
}

interface Res { status: number; headers: Record<string, string>; body: any; text: string }

/** One HTTP call to instance `i`, checked against openapi.yaml. */
async function call(i: number, method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const h: Record<string, string> = { "user-agent": UA, ...headers };
  if (token && !h.authorization && urlPath.startsWith("/api/v1/admin")) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const r = await fetch(instances[i % INSTANCES].base + urlPath, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const type = r.headers.get("content-type") ?? "";
  const res: Res = {
    status: r.status,
    headers: Object.fromEntries(r.headers.entries()),
    body: /json/.test(type) && text ? JSON.parse(text) : text,
    text,
  };
  assertMatchesSpec(method, urlPath, res);
  return res;
}

async function ifMatch(i: number, urlPath: string): Promise<Record<string, string>> {
  const r = await call(i, "GET", urlPath);
  assert.equal(r.status, 200, r.text);
  return { "if-match": r.headers.etag };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  // All three at once on an empty schema: one migrates and creates the ADMIN, the others wait.
  instances.push(...(await Promise.all(Array.from({ length: INSTANCES }, () => start()))));
  db = await openDatabase({ url: withSchema(PRIMARY!), poolSize: 2 });
  const login = await call(0, "POST", "/api/v1/auth/login", ADMIN);
  assert.equal(login.status, 200, login.text);
  token = login.body.accessToken;
}, { timeout: 180_000 });

after(async () => {
  await Promise.all(instances.map((p) => new Promise<void>((resolve) => {
    if (p.child.exitCode !== null) return resolve();
    p.child.once("exit", () => resolve());
    p.child.kill("SIGTERM");
    setTimeout(() => p.child.kill("SIGKILL"), 10_000).unref();
  })));
  if (db) {
    await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => {});
    await db.close();
  }
  if (!skip) {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect().catch(() => {});
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500).catch(() => ["0", [] as string[]] as const);
      if (keys.length) await redis.del(...keys).catch(() => {});
      cursor = next;
    } while (cursor !== "0");
    redis.disconnect();
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("three instances, one database, one Redis", { skip }, () => {
  const slugs: string[] = [];
  const ids: number[] = [];

  it("start together: one ADMIN, every migration applied once", async () => {
    const admins = await db.prisma.editor.count({ where: { role: "ADMIN" } });
    assert.equal(admins, 1);
    const dup = await db.read<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT migration_name FROM _prisma_migrations GROUP BY 1 HAVING count(*) > 1) d`);
    assert.equal(dup[0].n, 0);
    for (let i = 0; i < INSTANCES; i++) assert.equal((await call(i, "GET", "/readyz")).status, 200);
  });

  it("writes on any instance, reads on every one", async () => {
    const sec = await call(1, "POST", "/api/v1/admin/sections", { slug: "scale", name: "Scale" });
    assert.equal(sec.status, 201, sec.text);
    for (let n = 0; n < 4; n++) {
      const a = await call(n, "POST", "/api/v1/admin/articles", { slug: `scale-${n}`, headline: `Scale story ${n}`, section: "scale", body: "<p>Text.</p>" });
      assert.equal(a.status, 201, a.text);
      const p = await call(n + 1, "POST", `/api/v1/admin/articles/${a.body.id}/publish`, {});
      assert.equal(p.status, 200, p.text);
      slugs.push(a.body.slug);
      ids.push(a.body.id);
    }
    for (let i = 0; i < INSTANCES; i++) {
      for (const slug of slugs) {
        const r = await waitFor(`${slug} on instance ${i}`, async () => {
          const x = await call(i, "GET", `/api/v1/articles/${slug}`);
          return x.status === 200 ? x : undefined;
        });
        assert.equal(r.body.slug, slug);
      }
    }
  });

  it("every accepted comment is stored once", async () => {
    const sent = await Promise.all(Array.from({ length: 30 }, (_, n) =>
      call(n, "POST", `/api/v1/articles/${slugs[n % 2]}/comments`, { name: `Reader ${n}`, body: `Comment number ${n} from the scale-out test.` },
        { "x-forwarded-for": `10.9.${n}.1` })));
    const accepted = sent.filter((r) => r.status === 201 || r.status === 202);
    assert.equal(accepted.length, 30, sent.map((r) => `${r.status} ${r.text}`).join("\n"));
    const rows = await db.read<{ body: string; n: number }>(
      `SELECT body, count(*)::int AS n FROM "Comment" WHERE "articleId" = ANY($1::int[]) GROUP BY body`, [ids.slice(0, 2)]);
    assert.equal(rows.length, 30);
    assert.ok(rows.every((r) => r.n === 1), JSON.stringify(rows.filter((r) => r.n !== 1)));
  });

  it("a reader's views count once across instances", async () => {
    const readers = 12;
    const results = await Promise.all(Array.from({ length: readers * INSTANCES }, (_, n) =>
      call(n, "POST", `/api/v1/articles/${slugs[2]}/views`, {}, { "x-forwarded-for": `10.8.${Math.floor(n / INSTANCES)}.7` })));
    assert.ok(results.every((r) => r.status === 202), results.map((r) => `${r.status} ${r.text}`).join("\n"));
    const counted = results.filter((r) => r.body.counted === true).length;
    assert.equal(counted, readers, "each reader counted by exactly one instance");
    // The instances flush their buffers every 200 ms.
    const stored = await waitFor("the views to be flushed", async () => {
      const [row] = await db.read<{ v: number }>(`SELECT COALESCE(sum(views), 0)::int AS v FROM "ArticleViewHourly" WHERE "articleId" = $1`, [ids[2]]);
      return row.v >= readers ? row.v : undefined;
    });
    await new Promise((r) => setTimeout(r, 600));
    const [again] = await db.read<{ v: number }>(`SELECT COALESCE(sum(views), 0)::int AS v FROM "ArticleViewHourly" WHERE "articleId" = $1`, [ids[2]]);
    assert.equal(stored, readers);
    assert.equal(again.v, readers);
  });

  it("each scheduled article is published once", async () => {
    const scheduled: { id: number; slug: string }[] = [];
    for (let n = 0; n < 3; n++) {
      const a = await call(n, "POST", "/api/v1/admin/articles", { slug: `scale-sched-${n}`, headline: `Scheduled ${n}`, section: "scale", body: "<p>Soon.</p>" });
      assert.equal(a.status, 201, a.text);
      const s = await call(n + 1, "POST", `/api/v1/admin/articles/${a.body.id}/schedule`, { scheduledAt: new Date(Date.now() + 1500).toISOString() });
      assert.equal(s.status, 200, s.text);
      scheduled.push({ id: a.body.id, slug: a.body.slug });
    }
    for (const { slug } of scheduled) {
      await waitFor(`${slug} published`, async () => ((await call(2, "GET", `/api/v1/articles/${slug}`)).status === 200 ? true : undefined));
    }
    // Every instance's scheduler ticks every 200 ms: give them a few more rounds to double-publish.
    await new Promise((r) => setTimeout(r, 1000));
    for (const { id } of scheduled) {
      const [ev] = await db.read<{ n: number }>(
        `SELECT count(*)::int AS n FROM "ChangeEvent" WHERE "entityType" = 'article' AND "entityId" = $1 AND type = 'article.published'`, [id]);
      assert.equal(ev.n, 1, `article ${id}: ${ev.n} publish events`);
      const [rev] = await db.read<{ n: number }>(
        `SELECT count(*)::int AS n FROM "ArticleRevision" WHERE "articleId" = $1 AND "editorId" IS NULL`, [id]);
      assert.equal(rev.n, 1, `article ${id}: ${rev.n} revisions by the scheduler`);
    }
  });

  it("after an edit, no instance serves the old version once it served the new", async () => {
    const slug = slugs[3];
    // Fill every instance's cache with the current version.
    for (let i = 0; i < INSTANCES; i++) assert.equal((await call(i, "GET", `/api/v1/articles/${slug}`)).body.headline, "Scale story 3");
    const admin = `/api/v1/admin/articles/${ids[3]}`;
    const r = await call(1, "PATCH", admin, { headline: "Scale story 3, revised" }, await ifMatch(1, admin));
    assert.equal(r.status, 200, r.text);
    const seenNew = new Set<number>();
    const until = Date.now() + 15_000;
    // Poll all instances: each must switch within the bound, and never switch back.
    for (;;) {
      for (let i = 0; i < INSTANCES; i++) {
        const x = await call(i, "GET", `/api/v1/articles/${slug}`);
        assert.equal(x.status, 200, x.text);
        if (x.body.headline === "Scale story 3, revised") seenNew.add(i);
        else assert.ok(!seenNew.has(i), `instance ${i} served the old headline after the new one`);
      }
      if (seenNew.size === INSTANCES) break;
      assert.ok(Date.now() < until, `instances ${[...Array(INSTANCES).keys()].filter((i) => !seenNew.has(i))} still serve the old headline`);
      await new Promise((res) => setTimeout(res, 50));
    }
    // And keep serving it.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < INSTANCES; i++) assert.equal((await call(i, "GET", `/api/v1/articles/${slug}`)).body.headline, "Scale story 3, revised");
    }
  });

  it("stop cleanly", async () => {
    const codes = await Promise.all(instances.map((p) => new Promise<number | null>((resolve) => {
      p.child.once("exit", (code) => resolve(code));
      p.child.kill("SIGTERM");
    })));
    assert.deepEqual(codes, Array(INSTANCES).fill(0), instances.map((p) => p.out().slice(-2000)).join("\n---\n"));
  });
});

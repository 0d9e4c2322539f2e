// Read replicas (src/db/replicas.ts) against a real primary and streaming
// replica: scripts/pg-replica-cluster.sh makes them and .ci/run passes
// REPLICA_TEST_PRIMARY_URL, REPLICA_TEST_REPLICA_URL and REPLICA_TEST_CLUSTER_DIR.
// Without them (a plain `npm test`) the file skips itself, saying why.
//
// What proves a read came from the replica: replay is paused on it
// (pg_wal_replay_pause()) and the primary changed behind the app's back (raw
// SQL, no change event), so the replica's older state is what a replica read
// sees. A second app instance (B) whose change-event bus never runs stands for
// an instance the write's events have not reached: there only the
// read-your-writes cookie can keep a writer off the lagging replica.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { pino } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../src/app.ts";
import { createReplicaReads, READ_AFTER_COOKIE, parseLsn, type PublicReads } from "../src/db/replicas.ts";
import { createEventBus } from "../src/events/bus.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { REPO_ROOT } from "../src/paths.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";

const PRIMARY = process.env.REPLICA_TEST_PRIMARY_URL;
const REPLICA = process.env.REPLICA_TEST_REPLICA_URL;
const CLUSTER = process.env.REPLICA_TEST_CLUSTER_DIR;
const skip = !PRIMARY || !REPLICA || !CLUSTER
  ? "needs a primary and a streaming replica: set REPLICA_TEST_PRIMARY_URL, REPLICA_TEST_REPLICA_URL and REPLICA_TEST_CLUSTER_DIR " +
    "(scripts/pg-replica-cluster.sh start prints them; .ci/run does it all)"
  : false;
// .ci/run makes the cluster and sets REPLICA_TEST_REQUIRED: there a missing variable is a failure, not a skip.
if (skip && process.env.REPLICA_TEST_REQUIRED) throw new Error(`tests/replicas.test.ts: ${skip}`);
if (skip) console.log(`# tests/replicas.test.ts skipped: ${skip}`);

const SCRIPT = path.join(REPO_ROOT, "scripts", "pg-replica-cluster.sh");

let t: TestApp;
let reads: PublicReads;
let primarySql: pg.Client;
let replicaSql: pg.Client;
/** Instance B: same database and replica, no change events. */
let b: { server: http.Server; reads: PublicReads; close(): Promise<void> };

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until the replica has replayed everything the primary has written so far. */
async function caughtUp(): Promise<void> {
  const [{ lsn }] = (await primarySql.query("SELECT pg_current_wal_lsn()::text AS lsn")).rows;
  await waitFor("the replica to catch up", async () => {
    const [{ replay }] = (await replicaSql.query("SELECT pg_last_wal_replay_lsn()::text AS replay")).rows;
    return replay !== null && parseLsn(replay) >= parseLsn(lsn);
  });
}

async function pauseReplay(): Promise<void> {
  await caughtUp();
  await replicaSql.query("SELECT pg_wal_replay_pause()");
  await waitFor("replay to pause", async () =>
    (await replicaSql.query("SELECT pg_get_wal_replay_pause_state() AS s")).rows[0].s === "paused");
}

async function resumeReplay(): Promise<void> {
  await replicaSql.query("SELECT pg_wal_replay_resume()");
  await caughtUp();
}

/**
 * Another app instance on the test's database with `replicaUrl` as its
 * replica and a change-event bus that never runs (no fences, no cache
 * invalidation): an instance the events of a write have not reached yet.
 */
async function startInstance(replicaUrl: string, open: { connectTimeoutMs: number; statementTimeoutMs?: number }) {
  const logger = pino({ level: "silent" });
  const events = createEventBus(t.db, logger, { pollIntervalMs: 60_000 });
  const reads = await createReplicaReads({
    primary: t.db, urls: [replicaUrl], secret: t.secret, logger, probeIntervalMs: 100, open: { schema: t.schema, poolSize: 3, ...open },
  });
  const app = createApp({
    config: t.config, db: t.db, prisma: t.db.prisma, tokens: t.tokens, logger, media: localDiskStorage(t.mediaDir),
    views: t.views, sanitizer: t.sanitizer, events, hashClient: clientHasher(t.secret), reads,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server, reads,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopApp(app);
      await reads.close();
    },
  };
}

/**
 * A TCP relay to the replica that can be frozen: bytes either way are held
 * (not lost) until it thaws, so the replica looks hung, not gone.
 */
async function freezableRelay(target: string) {
  const to = new URL(target);
  let frozen = false;
  let held: [net.Socket, Buffer][] = [];
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, dest: net.Socket) => from.on("data", (d) => (frozen ? held.push([dest, d]) : dest.write(d)));
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(to.port), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const [dest, d] of held) if (!dest.destroyed) dest.write(d);
      held = [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A GET on instance B, checked against openapi.yaml like the harness's. */
async function getB(p: string, headers: Record<string, string> = {}, on = b): Promise<TestResponse> {
  let req = request(on.server).get(p);
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const res = await req;
  const out: TestResponse = { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text };
  assertMatchesSpec("GET", p, out);
  return out;
}

/** The Cookie header a browser would send back after `res`. */
function cookieFrom(res: TestResponse): string {
  const set = res.headers["set-cookie"] as unknown as string[] | undefined;
  const c = set?.find((x) => x.startsWith(`${READ_AFTER_COOKIE}=`));
  assert.ok(c, `no ${READ_AFTER_COOKIE} cookie on the write's response`);
  assert.match(c, /HttpOnly/);
  return c.split(";")[0];
}

const replicaReads = (r: PublicReads) => r.status().replicas[0].reads;

describe("read replicas", { skip }, () => {
  before(async () => {
    // The harness connects to DATABASE_URL; the config check wants it named too.
    process.env.DATABASE_URL = PRIMARY;
    t = await startTestApp({
      DATABASE_URL: PRIMARY!, DATABASE_REPLICA_URLS: REPLICA!, DATABASE_REPLICA_PROBE_INTERVAL_MS: "100", COMMENTS_AUTO_APPROVE: "true",
    });
    reads = t.reads!;
    primarySql = new pg.Client({ connectionString: PRIMARY, options: `-c search_path=${t.schema}` });
    replicaSql = new pg.Client({ connectionString: REPLICA, options: `-c search_path=${t.schema}` });
    await primarySql.connect();
    await replicaSql.connect();

    b = await startInstance(REPLICA!, { connectTimeoutMs: 2000 });
    await makeSection(t, "world");
    await caughtUp();
  });

  after(async () => {
    // Never leave the shared replica paused or stopped for whatever runs next.
    await replicaSql?.query("SELECT pg_wal_replay_resume()").catch(() => {});
    await replicaSql?.end().catch(() => {});
    await primarySql?.end().catch(() => {});
    await b?.close();
    await t?.close();
  });

  it("sends public reads to the replica: with replay paused they see its older state, the editor API the primary's", async () => {
    const a = await makeArticle(t, { headline: "Replicated", section: "world" });
    await publish(t, a.id);
    await pauseReplay();
    try {
      // Behind the app's back (no change event): the primary no longer has it published.
      await primarySql.query(`UPDATE "PublishedArticle" SET status = 'ARCHIVED' WHERE "articleId" = $1`, [a.id]);
      const before = replicaReads(reads);
      const read = await t.get(`/api/v1/articles/${a.slug}`);
      assert.equal(read.status, 200, "the replica, paused before the change, still has it published");
      assert.equal(read.body.headline, "Replicated");
      const latest = await t.get("/api/v1/latest");
      assert.ok(latest.body.data.some((x: { slug: string }) => x.slug === a.slug));
      const search = await t.get("/api/v1/search?q=replicated");
      assert.equal(search.status, 200);
      const comments = await t.get(`/api/v1/articles/${a.slug}/comments`);
      assert.equal(comments.status, 200);
      const sections = await t.get("/api/v1/sections");
      assert.equal(sections.status, 200);
      const feed = await t.get("/api/v1/feeds/json");
      assert.equal(feed.status, 200);
      assert.ok(replicaReads(reads) >= before + 5, `replica reads ${replicaReads(reads)}, before ${before}`);

      // The same request with a bearer token reads the primary.
      const authed = await t.get(`/api/v1/articles/${a.slug}/comments?limit=7`, { token: t.editor.token });
      assert.equal(authed.status, 404, "the primary has it archived");
      // The editor API reads the primary, whatever the replica says.
      const admin = await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token });
      assert.equal(admin.status, 200);
      // The read model's row on the primary is what the editor's article maps from; the replica still says PUBLISHED.
      const [{ status }] = (await replicaSql.query(`SELECT status::text AS status FROM "PublishedArticle" WHERE "articleId" = $1`, [a.id])).rows;
      assert.equal(status, "PUBLISHED");
    } finally {
      await resumeReplay();
    }
  });

  it("a writer reads their own write at once: change events fence this instance, the cookie any other", async () => {
    await pauseReplay();
    try {
      // An editor publishes while the replica is stuck before it.
      const a = await makeArticle(t, { headline: "Fresh off the desk", section: "world" });
      const pub = await t.post(`/api/v1/admin/articles/${a.id}/publish`, undefined, { token: t.editor.token });
      assert.equal(pub.status, 200);
      const editorCookie = cookieFrom(pub);

      // This instance received the publish's events: its public reads wait for a replica that has it.
      assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
      // Instance B never heard of the publish: without the cookie it reads the paused replica...
      assert.equal((await getB(`/api/v1/articles/${a.slug}`)).status, 404);
      // ...with it, the primary (the 404 above was not cached: errors never are).
      const mine = await getB(`/api/v1/articles/${a.slug}`, { Cookie: editorCookie });
      assert.equal(mine.status, 200);
      assert.equal(mine.body.headline, "Fresh off the desk");

      // A reader's comment (auto-approved here): the response carries the cookie too.
      const sub = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "First!" });
      assert.equal(sub.status, 202);
      const readerCookie = cookieFrom(sub);
      // B, without the cookie: the replica has neither the article nor the comment.
      assert.equal((await getB(`/api/v1/articles/${a.slug}/comments?limit=5`)).status, 404);
      const own = await getB(`/api/v1/articles/${a.slug}/comments?limit=6`, { Cookie: readerCookie });
      assert.equal(own.status, 200);
      assert.deepEqual(own.body.data.map((c: { body: string }) => c.body), ["First!"]);

      // A forged cookie (a position far ahead, unsigned or signed with another key) is ignored.
      const [lsn] = readerCookie.split("=")[1].split(".");
      for (const forged of [`${READ_AFTER_COOKIE}=FFFFFFFF/0`, `${READ_AFTER_COOKIE}=${lsn}.AAAAAAAAAAAAAAAAAAAAAA`]) {
        assert.equal((await getB(`/api/v1/articles/${a.slug}/comments?limit=8`, { Cookie: forged })).status, 404);
      }

      // A failed write sets no cookie.
      const bad = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "", body: "" });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers["set-cookie"], undefined);
    } finally {
      await resumeReplay();
    }
    // Caught up, the cookie no longer keeps anyone off the replica.
    const before = replicaReads(b.reads);
    const s = await makeArticle(t, { headline: "Later", section: "world" });
    const pub = await t.post(`/api/v1/admin/articles/${s.id}/publish`, undefined, { token: t.editor.token });
    await caughtUp();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await getB(`/api/v1/articles/${s.slug}`, { Cookie: cookieFrom(pub) })).status, 200);
    assert.equal(replicaReads(b.reads), before + 1);
  });

  it("takes a stopped replica out (public reads stay 200 from the primary) and uses it again once it is back", async () => {
    const a = await makeArticle(t, { headline: "Outage story", section: "world" });
    await publish(t, a.id);
    await caughtUp();
    await new Promise((r) => setTimeout(r, 150));
    // A read now leaves the replica's known position past every fence: the next read goes
    // straight to it (no position check first), and it is that read's failure that takes it out.
    const warm = replicaReads(reads);
    assert.equal((await t.get("/api/v1/latest?limit=2")).status, 200);
    assert.equal(replicaReads(reads), warm + 1);
    await replicaSql.end();
    execFileSync(SCRIPT, ["stop-replica", CLUSTER!], { stdio: "inherit" });
    try {
      const primaryBefore = reads.status().primaryReads;
      for (const p of [`/api/v1/articles/${a.slug}`, "/api/v1/latest?limit=3", "/api/v1/sections/world/front", "/api/v1/search?q=outage",
        `/api/v1/articles/${a.slug}/comments`, "/api/v1/feeds/rss", "/sitemap-news.xml"]) {
        const res = await t.get(p);
        assert.equal(res.status, 200, `${p}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      const s = reads.status();
      assert.equal(s.replicas[0].up, false);
      assert.ok(s.replicas[0].failures >= 1);
      assert.ok(s.primaryReads >= primaryBefore + 6);
      // Taken out: later reads go straight to the primary, without trying it first.
      const tried = s.replicas[0].reads;
      assert.equal((await t.get("/api/v1/latest?limit=4")).status, 200);
      assert.equal(reads.status().replicas[0].reads, tried);
    } finally {
      execFileSync(SCRIPT, ["start-replica", CLUSTER!], { stdio: "inherit" });
      replicaSql = new pg.Client({ connectionString: REPLICA, options: `-c search_path=${t.schema}` });
      await replicaSql.connect();
    }
    await waitFor("the probe to put the replica back", async () => reads.status().replicas[0].up);
    const before = replicaReads(reads);
    assert.equal((await t.get("/api/v1/latest?limit=5")).status, 200);
    assert.equal(replicaReads(reads), before + 1);
  });

  it("the server process starts with one replica down, serves public reads from the other, and stops cleanly", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const schema = `s_${crypto.randomBytes(6).toString("hex")}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-replica-server-"));
    const tag = `dateline-${schema}`;
    const replicaUrl = new URL(REPLICA!);
    replicaUrl.searchParams.set("application_name", tag);
    const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", NODE_ENV: "development", SEED_DEMO: "true", DATA_DIR: dataDir,
        DATABASE_URL: `${PRIMARY}?schema=${schema}`,
        DATABASE_REPLICA_URLS: `${replicaUrl},postgresql://postgres@127.0.0.1:${closedPort}/test`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      let port = 0;
      await waitFor("the server to listen", async () => {
        if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${out}`);
        const m = /"port":(\d+),"msg":"Dateline listening/.exec(out);
        port = m ? Number(m[1]) : 0;
        return port > 0;
      }, 120_000);
      assert.match(out, new RegExp(`"replica":"127.0.0.1:${closedPort}/test".*read replica not usable at start`));
      await caughtUp();
      const latest = await fetch(`http://127.0.0.1:${port}/api/v1/latest`);
      assert.equal(latest.status, 200);
      assert.ok(((await latest.json()) as { data: unknown[] }).data.length > 0, "the demo newsroom's stories");
      // The read went to the live replica: its pool's connection is there, under the URL's application_name.
      const [{ n }] = (await replicaSql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [tag])).rows;
      assert.ok(n >= 1, `no connection from the server on the replica:\n${out}`);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, out);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
      await primarySql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });

  it("takes a hung replica out after the timeouts, answers from the primary meanwhile, and uses it again once it answers", async () => {
    const relay = await freezableRelay(REPLICA!);
    // Short timeouts for this instance's replica pool: a read waits statement + connect timeout (2 s) at most.
    const c = await startInstance(relay.url, { connectTimeoutMs: 1000, statementTimeoutMs: 1000 });
    try {
      await caughtUp();
      assert.equal((await getB("/api/v1/latest?limit=9", {}, c)).status, 200);
      assert.equal(replicaReads(c.reads), 1);
      relay.freeze();
      let started = Date.now();
      const res = await getB("/api/v1/latest?limit=11", {}, c);
      const waited = Date.now() - started;
      assert.equal(res.status, 200);
      assert.ok(waited >= 1500 && waited < 6000, `answered after ${waited} ms`);
      assert.equal(c.reads.status().replicas[0].up, false);
      // Out: the next read goes to the primary without waiting.
      started = Date.now();
      assert.equal((await getB("/api/v1/latest?limit=12", {}, c)).status, 200);
      assert.ok(Date.now() - started < 1000);
      assert.equal(replicaReads(c.reads), 2);
      // Still hung: the probes (each given the connect timeout, 1 s here) keep it out.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(c.reads.status().replicas[0].up, false);
      relay.thaw();
      await waitFor("the probe to put the replica back", async () => c.reads.status().replicas[0].up);
      assert.equal((await getB("/api/v1/latest?limit=13", {}, c)).status, 200);
      assert.equal(replicaReads(c.reads), 3);
    } finally {
      relay.thaw();
      await c.close();
      await relay.close();
    }
  });

  it("never reads from a server that is not a standby (a promoted or misconfigured replica)", async () => {
    // The primary named as a replica: pg_is_in_recovery() is false there.
    const r = await createReplicaReads({
      primary: t.db, urls: [PRIMARY!], secret: t.secret, logger: pino({ level: "silent" }), probeIntervalMs: 100, open: { schema: t.schema },
    });
    try {
      assert.equal(r.status().replicas[0].up, false);
      const where = await r.run({ headers: {} } as http.IncomingMessage, async (db) => (db === t.db ? "primary" : "replica"));
      assert.equal(where, "primary");
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(r.status().replicas[0].up, false, "probes keep it out");
    } finally {
      await r.close();
    }
  });
});

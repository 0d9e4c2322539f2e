// CDN purge (src/distribution/purge): the change events' surrogate keys reach
// the configured purger — Varnish/xkey, the generic HTTP purger, Fastly and
// Cloudflare request shapes — against a local server that records requests;
// per-provider batch limits; retries with backoff and Retry-After on an
// injected clock (no real waits); the dry-run log mode; config validation;
// exactly once across two instances (PostgreSQL).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { startTestApp, makeSection, makeArticle, publish, type TestApp } from "./support/harness.ts";
import { ConfigError, loadConfig, type Config } from "../src/config.ts";
import { createPurgeService, backoffMs, type PurgeService, type PurgeServiceOptions } from "../src/distribution/purge/service.ts";
import { parseRetryAfter } from "../src/distribution/purge/purgers.ts";
import { emit } from "../src/events/outbox.ts";
import type { Database } from "../src/db/client.ts";

const silent = pino({ level: "silent" });
const onPostgres = !!process.env.DATABASE_URL;

interface Recorded { method: string; path: string; headers: http.IncomingHttpHeaders; body: string }
interface Reply { status: number; headers?: Record<string, string>; body?: string }

/** A local HTTP server that records every request and answers from a queue (200 when empty). */
async function recorder() {
  const requests: Recorded[] = [];
  const replies: Reply[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
      const r = replies.shift() ?? { status: 200, body: "{}" };
      res.writeHead(r.status, { "Content-Type": "application/json", ...r.headers });
      res.end(r.body ?? "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, requests, replies,
    clear: () => void requests.splice(0),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Recorder = Awaited<ReturnType<typeof recorder>>;

const config = (env: Record<string, string>): Config => loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", ...env });

let names = 0;
/** A purge service under its own consumer name, positioned at the newest event. */
async function service(t: TestApp, env: Record<string, string>, opts: PurgeServiceOptions = {}, logger = silent) {
  const s = createPurgeService(t.db.prisma, logger, config(env), { name: `purge-test-${++names}`, ...opts });
  await s.init();
  return s;
}

/** Drains the events into the queue, then sends what is due. */
async function flush(s: PurgeService) {
  await s.drain();
  await s.sendDue();
}

const ok = <R extends { status: number; text: string }>(res: R, status = 200): R => {
  assert.equal(res.status, status, res.text);
  return res;
};
const keysOf = (header: string | string[] | undefined) => String(header ?? "").split(" ").filter(Boolean);
const hasAll = (keys: string[], want: string[]) => {
  for (const k of want) assert.ok(keys.includes(k), `missing ${k} in ${keys.join(" ")}`);
};

/** The keys a write's events purged, soft unless `hard` (the provider checks the request shape). */
type Purged = (write: () => Promise<unknown>, hard?: boolean) => Promise<string[]>;

/** Publish, correct, unpublish, rename the section: each purges the right keys (withdrawals hard). */
async function lifecycle(t: TestApp, p: string, purged: Purged) {
  let region: any;
  hasAll(await purged(async () => (region = await makeSection(t, `${p}-asia`, "world"))), ["sections", "front:world"]);
  let a: any;
  // A draft appears in no public response: creating it purges nothing.
  assert.deepEqual(await purged(async () => (a = await makeArticle(t, { headline: `Quake hits coast ${p}`, section: region.slug, tags: ["quake"] }))), []);

  const published = await purged(() => publish(t, a.id));
  hasAll(published, [`article:${a.id}`, `comments:${a.id}`, `front:${p}-asia`, "front:world", "tag:quake", "latest", "articles", "popular"]);

  // A correction: the published story's text changes.
  const corrected = await purged(async () => ok(await t.patch(`/api/v1/admin/articles/${a.id}`,
    { headline: `Quake hits coast ${p} (corrected)`, body: "<p>An earlier version misstated the magnitude.</p>" },
    { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) })));
  hasAll(corrected, [`article:${a.id}`, `front:${p}-asia`, "front:world", "latest", "tag:quake"]);

  const unpublished = await purged(async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token })), true);
  hasAll(unpublished, [`article:${a.id}`, `comments:${a.id}`, `front:${p}-asia`, "front:world", "latest", "articles", "tag:quake"]);

  const renamed = await purged(async () => ok(await t.patch(`/api/v1/admin/sections/${region.id}`, { slug: `${p}-asia-pacific`, name: `${p} Asia-Pacific` },
    { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${region.id}`) })));
  hasAll(renamed, ["sections", `section:${region.id}`, `front:${p}-asia`, `front:${p}-asia-pacific`, "front:world", "latest", "articles"]);
}

describe("purge config", () => {
  test("log (dry run) by default, soft on; each provider names what it lacks", () => {
    const c = config({});
    assert.equal(c.PURGE_PROVIDER, "log");
    assert.equal(c.PURGE_SOFT, true);
    assert.equal(c.FASTLY_API_URL, "https://api.fastly.com");
    assert.equal(c.CLOUDFLARE_API_URL, "https://api.cloudflare.com/client/v4");
    const fails = (env: Record<string, string>, ...vars: string[]) => {
      assert.throws(() => config(env), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        for (const v of vars) assert.match(err.message, new RegExp(`${v}: is required when PURGE_PROVIDER=`));
        return true;
      });
    };
    fails({ PURGE_PROVIDER: "fastly" }, "FASTLY_API_TOKEN", "FASTLY_SERVICE_ID");
    fails({ PURGE_PROVIDER: "fastly", FASTLY_API_TOKEN: "x" }, "FASTLY_SERVICE_ID");
    fails({ PURGE_PROVIDER: "cloudflare" }, "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ZONE_ID");
    fails({ PURGE_PROVIDER: "varnish" }, "VARNISH_PURGE_URLS");
    fails({ PURGE_PROVIDER: "http" }, "PURGE_HTTP_URL");
    assert.throws(() => config({ PURGE_PROVIDER: "akamai" }), /PURGE_PROVIDER/);
    assert.throws(() => config({ PURGE_PROVIDER: "http", PURGE_HTTP_URL: "ftp://cdn.example/purge" }), /PURGE_HTTP_URL/);
    assert.throws(() => config({ PURGE_PROVIDER: "varnish", VARNISH_PURGE_URLS: "varnish:6081" }), /VARNISH_PURGE_URLS: must be/);
    assert.deepEqual(config({ PURGE_PROVIDER: "varnish", VARNISH_PURGE_URLS: "http://a:6081/, http://b:6081/" }).VARNISH_PURGE_URLS,
      ["http://a:6081/", "http://b:6081/"]);
  });

  test("backoff doubles up to the cap, jitters in its upper half, and yields to a longer Retry-After", () => {
    assert.equal(backoffMs(1, 1000, 60_000, () => 0), 500);
    assert.equal(backoffMs(1, 1000, 60_000, () => 0.999999), 1000);
    assert.equal(backoffMs(3, 1000, 60_000, () => 0.5), 3000);
    assert.equal(backoffMs(20, 1000, 60_000, () => 0), 30_000);
    assert.equal(backoffMs(1, 1000, 60_000, () => 0, 120_000), 120_000);
    assert.equal(parseRetryAfter("7", 0), 7000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter("soon", 0), undefined);
  });
});

describe("purge from change events", () => {
  let t: TestApp;
  let rec: Recorder;
  before(async () => {
    // The bus's own polling is irrelevant here: tests drain the consumer themselves.
    t = await startTestApp({ EVENTS_POLL_INTERVAL_MS: "60000" });
    rec = await recorder();
    await makeSection(t, "world");
    await makeSection(t, "asia", "world");
  });
  after(async () => {
    await rec?.close();
    await t?.close();
  });

  test("dry run (the default): logs the keys at info and queues nothing", async () => {
    const lines: any[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const s = await service(t, {}, {}, logger);
    assert.equal(s.provider, "log");
    const a = await makeArticle(t, { headline: "Dry run story", section: "asia" });
    await publish(t, a.id);
    await flush(s);
    const logged = lines.filter((l) => l.msg?.startsWith("cdn purge (dry run"));
    assert.ok(logged.length >= 1);
    const keys = logged.flatMap((l) => l.keys);
    hasAll(keys, [`article:${a.id}`, "front:asia", "front:world", "latest", "articles"]);
    assert.equal(logged[0].level, 30);
    const [{ n }] = await t.db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM "PurgeRequest"`;
    assert.equal(Number(n), 0);
  });

  test("admin endpoints in the dry run: POST logs only, GET lists nothing", async () => {
    const res = ok(await t.post("/api/v1/admin/purges", { keys: ["latest"] }, { token: t.admin.token }), 202);
    assert.deepEqual(res.body, { provider: "log", dryRun: true, keys: ["latest"], soft: true, requests: 0 });
    const list = ok(await t.get("/api/v1/admin/purges", { token: t.admin.token }));
    assert.deepEqual(list.body, { data: [], meta: { provider: "log" } });
  });

  test("none: no consumer at all", async () => {
    const s = createPurgeService(t.db.prisma, silent, config({ PURGE_PROVIDER: "none" }));
    assert.equal(s.consumer, undefined);
    assert.equal(await s.drain(), 0);
    assert.equal(await s.sendDue(), 0);
    // A position left from when purge was on is dropped, so it cannot hold back pruning of events.
    const was = await service(t, { PURGE_PROVIDER: "log" });
    const count = async () => Number((await t.db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "EventConsumer" WHERE name = ${was.consumer!.name}`)[0].n);
    assert.equal(await count(), 1);
    const off = createPurgeService(t.db.prisma, silent, config({ PURGE_PROVIDER: "none" }), { name: was.consumer!.name });
    await off.start(t.events);
    await off.stop();
    assert.equal(await count(), 0);
  });

  test("dry run started on the bus logs each write's keys", { timeout: 30_000 }, async () => {
    const lines: any[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const s = await service(t, {}, {}, logger);
    await s.start(t.events);
    try {
      await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.dry", entityType: "test", keys: ["dry:1"] }));
      await t.events.poll();
      while (!lines.some((l) => l.keys?.includes("dry:1"))) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await s.stop();
    }
  });

  test("varnish (xkey): every host gets PURGE with the keys of publish, correction, unpublish and section rename", async () => {
    const s = await service(t, {
      PURGE_PROVIDER: "varnish", VARNISH_PURGE_URLS: `${rec.url}/v1,${rec.url}/v2`, VARNISH_PURGE_TOKEN: "vt",
    });
    /** The keys each write's events purged (the same on both hosts), soft unless `hard`. */
    const purged = async (write: () => Promise<unknown>, hard = false): Promise<string[]> => {
      rec.clear();
      await write();
      await flush(s);
      for (const r of rec.requests) {
        assert.equal(r.method, "PURGE");
        assert.equal(r.headers["x-purge-token"], "vt");
        assert.equal(r.headers[hard ? "xkey-softpurge" : "xkey-purge"], undefined, hard ? "a withdrawal is purged hard" : "soft by default");
      }
      const header = hard ? "xkey-purge" : "xkey-softpurge";
      const byHost = (p: string) => rec.requests.filter((r) => r.path === p).flatMap((r) => keysOf(r.headers[header]));
      assert.deepEqual(byHost("/v1").sort(), byHost("/v2").sort(), "both hosts, the same keys");
      return byHost("/v1");
    };

    await lifecycle(t, "v", purged);
    const rows = await t.db.prisma.$queryRaw<{ status: string; attempts: number }[]>`SELECT status, attempts FROM "PurgeRequest" WHERE consumer = ${s.consumer!.name}`;
    assert.ok(rows.length >= 4);
    assert.ok(rows.every((r) => r.status === "done" && r.attempts === 1), JSON.stringify(rows));
  });

  test("varnish with PURGE_SOFT=false sends xkey-purge", async () => {
    const s = await service(t, { PURGE_PROVIDER: "varnish", VARNISH_PURGE_URLS: `${rec.url}/`, PURGE_SOFT: "false" });
    rec.clear();
    await s.enqueue(["article:1", "latest"]);
    await s.sendDue();
    assert.equal(rec.requests.length, 1);
    assert.equal(rec.requests[0].headers["xkey-purge"], "article:1 latest");
    assert.equal(rec.requests[0].headers["xkey-softpurge"], undefined);
  });

  test("generic http: POST {keys, soft} with the bearer token, after publish, correction, unpublish and section rename", async () => {
    const s = await service(t, { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/hooks/life`, PURGE_HTTP_TOKEN: "sekret" });
    await lifecycle(t, "h", async (write, hard = false) => {
      rec.clear();
      await write();
      await flush(s);
      const keys: string[] = [];
      for (const r of rec.requests) {
        assert.equal(r.method, "POST");
        assert.equal(r.path, "/hooks/life");
        assert.equal(r.headers.authorization, "Bearer sekret");
        const body = JSON.parse(r.body);
        assert.deepEqual(Object.keys(body).sort(), ["keys", "soft"]);
        assert.equal(body.soft, !hard);
        assert.equal(new Set(body.keys).size, body.keys.length, "de-duplicated");
        keys.push(...body.keys);
      }
      return keys;
    });
  });

  test("generic http: one request after publish", async () => {
    const s = await service(t, { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/hooks/purge`, PURGE_HTTP_TOKEN: "sekret" });
    rec.clear();
    const a = await makeArticle(t, { headline: "Markets rally", section: "world" });
    await publish(t, a.id);
    await flush(s);
    assert.equal(rec.requests.length, 1);
    const r = rec.requests[0];
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/hooks/purge");
    assert.equal(r.headers.authorization, "Bearer sekret");
    assert.match(String(r.headers["content-type"]), /^application\/json/);
    const body = JSON.parse(r.body);
    assert.equal(body.soft, true);
    hasAll(body.keys, [`article:${a.id}`, "front:world", "latest", "articles"]);
    assert.equal(new Set(body.keys).size, body.keys.length, "de-duplicated");
  });

  test("batches: a batch of events' keys de-duplicated and split at the provider's limit (Fastly 256, Cloudflare 30)", async () => {
    const fastly = await service(t, {
      PURGE_PROVIDER: "fastly", FASTLY_API_TOKEN: "ftoken", FASTLY_SERVICE_ID: "SVC1", FASTLY_API_URL: `${rec.url}/fastly/`,
    }, { batch: 1000 });
    const cf = await service(t, {
      PURGE_PROVIDER: "cloudflare", CLOUDFLARE_API_TOKEN: "ctoken", CLOUDFLARE_ZONE_ID: "Z9", CLOUDFLARE_API_URL: `${rec.url}/cf`,
    }, { batch: 1000 });
    // 300 events, each with its own key and two shared ones: 302 distinct keys.
    await t.db.prisma.$transaction((tx) => emit(tx, Array.from({ length: 300 }, (_, i) => ({
      type: "test.bulk", entityType: "test", keys: [`bulk:${i}`, "latest", "articles"],
    }))));
    rec.clear();
    await flush(fastly);
    const f = rec.requests.filter((r) => r.path.startsWith("/fastly"));
    assert.deepEqual(f.map((r) => keysOf(r.headers["surrogate-key"]).length), [256, 46]);
    for (const r of f) {
      assert.equal(r.method, "POST");
      assert.equal(r.path, "/fastly/service/SVC1/purge");
      assert.equal(r.headers["fastly-key"], "ftoken");
      assert.equal(r.headers["fastly-soft-purge"], "1");
    }
    const fk = f.flatMap((r) => keysOf(r.headers["surrogate-key"]));
    assert.equal(new Set(fk).size, 302);
    hasAll(fk, ["bulk:0", "bulk:299", "latest", "articles"]);

    rec.clear();
    await flush(cf);
    const c = rec.requests.filter((r) => r.path.startsWith("/cf"));
    assert.equal(c.length, 11);
    for (const r of c) {
      assert.equal(r.method, "POST");
      assert.equal(r.path, "/cf/zones/Z9/purge_cache");
      assert.equal(r.headers.authorization, "Bearer ctoken");
      assert.equal(r.headers["fastly-soft-purge"], undefined);
      assert.ok(JSON.parse(r.body).tags.length <= 30);
      assert.deepEqual(Object.keys(JSON.parse(r.body)), ["tags"]);
    }
    const ck = c.flatMap((r) => JSON.parse(r.body).tags);
    assert.equal(ck.length, 302);
    assert.equal(new Set(ck).size, 302);
    // Cloudflare has no soft purge: the row records a hard one.
    const soft = await t.db.prisma.$queryRaw<{ soft: boolean }[]>`SELECT DISTINCT soft FROM "PurgeRequest" WHERE consumer = ${cf.consumer!.name}`;
    assert.deepEqual(soft.map((r) => r.soft), [false]);
  });

  test("retries: 5xx backs off exponentially, Retry-After is honoured, success ends it; nothing is lost meanwhile", async () => {
    let now = Date.parse("2026-11-27T08:00:00Z");
    const s = await service(t, {
      PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/retry`, PURGE_RETRY_BASE_MS: "1000", PURGE_RETRY_MAX_MS: "60000",
    }, { now: () => now, random: () => 0.5 });
    const row = async () => (await t.db.prisma.$queryRaw<any[]>`
      SELECT status, attempts, "nextAttemptAt", "lastStatus", "lastError" FROM "PurgeRequest" WHERE consumer = ${s.consumer!.name}`)[0];
    rec.clear();
    rec.replies.push({ status: 503 }, { status: 502 }, { status: 429, headers: { "Retry-After": "120" } }, { status: 200 });
    await s.enqueue(["article:77", "latest"]);

    assert.equal(await s.sendDue(), 1);
    let r = await row();
    assert.equal(r.status, "pending");
    assert.equal(r.attempts, 1);
    assert.equal(r.lastStatus, 503);
    assert.match(r.lastError, /answered 503/);
    assert.equal(r.nextAttemptAt.getTime(), now + 750, "1 s base, jittered to 3/4");

    // Not due yet: nothing is sent.
    now += 749;
    assert.equal(await s.sendDue(), 0);
    now += 1;
    assert.equal(await s.sendDue(), 1);
    r = await row();
    assert.equal(r.attempts, 2);
    assert.equal(r.lastStatus, 502);
    assert.equal(r.nextAttemptAt.getTime(), now + 1500, "doubled");

    now += 1500;
    assert.equal(await s.sendDue(), 1);
    r = await row();
    assert.equal(r.lastStatus, 429);
    assert.equal(r.nextAttemptAt.getTime(), now + 120_000, "Retry-After wins over 3 s");
    now += 119_999;
    assert.equal(await s.sendDue(), 0);
    now += 1;
    assert.equal(await s.sendDue(), 1);
    r = await row();
    assert.equal(r.status, "done");
    assert.equal(r.attempts, 4);
    assert.equal(r.lastError, null);
    assert.equal(rec.requests.length, 4);
    for (const req of rec.requests) assert.deepEqual(JSON.parse(req.body).keys, ["article:77", "latest"]);
  });

  test("cloudflare: a 200 that says success: false is a failure, with Cloudflare's message", async () => {
    const s = await service(t, {
      PURGE_PROVIDER: "cloudflare", CLOUDFLARE_API_TOKEN: "ctoken", CLOUDFLARE_ZONE_ID: "Z9", CLOUDFLARE_API_URL: `${rec.url}/cf`,
    });
    rec.clear();
    rec.replies.push({ status: 200, body: '{"success":false,"errors":[{"code":1134,"message":"Purge by tag not allowed"}]}' });
    await s.enqueue(["article:3"]);
    assert.equal(await s.sendDue(), 1);
    const [r] = await t.db.prisma.$queryRaw<any[]>`SELECT status, "lastError" FROM "PurgeRequest" WHERE consumer = ${s.consumer!.name}`;
    assert.equal(r.status, "failed");
    assert.match(r.lastError, /Purge by tag not allowed/);
  });

  test("gives up after PURGE_MAX_ATTEMPTS, or at once on a refusal (4xx); connection errors are retried", async () => {
    let now = Date.parse("2026-11-27T09:00:00Z");
    const dead = await recorder();
    await dead.close(); // a port nobody listens on
    const s = await service(t, {
      PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${dead.url}/gone`, PURGE_MAX_ATTEMPTS: "3", PURGE_RETRY_BASE_MS: "10", PURGE_RETRY_MAX_MS: "10",
    }, { now: () => now, random: () => 0 });
    await s.enqueue(["article:5"]);
    for (let i = 0; i < 3; i++) {
      assert.equal(await s.sendDue(), 1);
      now += 10;
    }
    assert.equal(await s.sendDue(), 0);
    const [r] = await t.db.prisma.$queryRaw<any[]>`SELECT status, attempts, "lastError" FROM "PurgeRequest" WHERE consumer = ${s.consumer!.name}`;
    assert.equal(r.status, "failed");
    assert.equal(r.attempts, 3);
    assert.match(r.lastError, /ECONNREFUSED|fetch failed/);

    const refused = await service(t, { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/refuse` }, { now: () => now });
    rec.clear();
    rec.replies.push({ status: 403, body: '{"error":"bad token"}' });
    await refused.enqueue(["article:6"]);
    assert.equal(await refused.sendDue(), 1);
    now += 3_600_000;
    assert.equal(await refused.sendDue(), 0);
    const [q] = await t.db.prisma.$queryRaw<any[]>`SELECT status, attempts, "lastStatus", "lastError" FROM "PurgeRequest" WHERE consumer = ${refused.consumer!.name}`;
    assert.equal(q.status, "failed");
    assert.equal(q.attempts, 1);
    assert.equal(q.lastStatus, 403);
    assert.match(q.lastError, /bad token/);
  });

  test("survives a restart: what one instance queued or claimed and never finished, another sends (after the lease)", async () => {
    let now = Date.parse("2026-11-27T11:00:00Z");
    const env = { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/restart`, PURGE_TIMEOUT_MS: "1000" };
    // Instance A queues two requests, then dies in the middle of sending the first (its send never returns).
    const a = await service(t, env, {
      now: () => now,
      purger: { provider: "http", maxKeys: 1, supportsSoft: true, send: () => Promise.reject(new Error("process killed")) },
    });
    await a.enqueue(["restart:1", "restart:2"]);
    await assert.rejects(a.sendDue(), /process killed/);
    await a.stop();
    // Instance B, started later under the same consumer name: the unclaimed request goes at once,
    // the claimed one after its lease (PURGE_TIMEOUT_MS + 30 s).
    const b = createPurgeService(t.db.prisma, silent, config(env), { name: a.consumer!.name, now: () => now });
    rec.clear();
    assert.equal(await b.sendDue(), 1);
    now += 1000 + 30_000;
    assert.equal(await b.sendDue(), 1);
    assert.deepEqual(rec.requests.map((r) => JSON.parse(r.body).keys).sort(), [["restart:1"], ["restart:2"]]);
    const rows = await t.db.prisma.$queryRaw<{ status: string; attempts: number }[]>`
      SELECT status, attempts FROM "PurgeRequest" WHERE consumer = ${a.consumer!.name} ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.status, r.attempts]), [["done", 2], ["done", 1]]);
  });

  test("a CDN that is down does not stop the consumer: later events are queued meanwhile", async () => {
    const s = await service(t, { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/down` }, { now: () => Date.parse("2026-11-27T10:00:00Z") });
    rec.clear();
    rec.replies.push({ status: 500 });
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.one", entityType: "test", keys: ["down:1"] }));
    await flush(s);
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.two", entityType: "test", keys: ["down:2"] }));
    assert.equal(await s.drain(), 1);
    const rows = await t.db.prisma.$queryRaw<{ keys: string[]; status: string }[]>`
      SELECT keys, status FROM "PurgeRequest" WHERE consumer = ${s.consumer!.name} ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.keys, r.status]), [[["down:1"], "pending"], [["down:2"], "pending"]]);
  });

  test("start/stop: the bus wakes the consumer and the sender", { timeout: 30_000 }, async () => {
    const s = await service(t, { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/live` }, { pollIntervalMs: 50 }, process.env.PURGE_DEBUG ? pino({ level: "debug" }, process.stderr) : silent);
    rec.clear();
    await s.start(t.events);
    try {
      await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.live", entityType: "test", keys: ["live:1"] }));
      await t.events.poll();
      // Waits on the recorder, bounded by the test's timeout; the sender polls every 50 ms.
      while (!rec.requests.some((r) => r.path === "/live")) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(JSON.parse(rec.requests.find((r) => r.path === "/live")!.body).keys, ["live:1"]);
    } finally {
      await s.stop();
    }
  });
});

describe("purge across instances, and the admin endpoints", () => {
  let t: TestApp;
  let rec: Recorder;
  before(async () => {
    rec = await recorder();
    t = await startTestApp({ EVENTS_POLL_INTERVAL_MS: "60000", PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/admin-purge` });
  });
  after(async () => {
    await rec?.close();
    await t?.close();
  });

  test("POST /admin/purges queues a manual purge (audited) that the sender sends; GET lists it with its outcome", async () => {
    const sender = createPurgeService(t.db.prisma, silent, t.config);
    rec.clear();
    const res = ok(await t.post("/api/v1/admin/purges", { keys: ["article:9", "front:world", "article:9"] }, { token: t.admin.token }), 202);
    assert.deepEqual(res.body, { provider: "http", dryRun: false, keys: ["article:9", "front:world"], soft: true, requests: 1 });
    let list = ok(await t.get("/api/v1/admin/purges?status=pending", { token: t.admin.token }));
    assert.equal(list.body.meta.provider, "http");
    assert.deepEqual(list.body.data.map((p: any) => [p.keys, p.status, p.attempts]), [[["article:9", "front:world"], "pending", 0]]);
    assert.equal(await sender.sendDue(), 1);
    assert.deepEqual(JSON.parse(rec.requests[0].body), { keys: ["article:9", "front:world"], soft: true });
    list = ok(await t.get("/api/v1/admin/purges", { token: t.admin.token }));
    assert.equal(list.body.data[0].status, "done");
    assert.equal(list.body.data[0].nextAttemptAt, null);
    assert.equal(list.body.data[0].lastStatus, 200);
    const audit = ok(await t.get("/api/v1/admin/audit?action=cdn.purge", { token: t.admin.token }));
    assert.equal(audit.body.data.length, 1);

    ok(await t.post("/api/v1/admin/purges", { keys: ["article:9"], soft: false }, { token: t.admin.token }), 202);
    assert.equal((await t.post("/api/v1/admin/purges", { keys: ["two words"] }, { token: t.admin.token })).status, 400);
    assert.equal((await t.post("/api/v1/admin/purges", { keys: [] }, { token: t.admin.token })).status, 400);
    assert.equal((await t.post("/api/v1/admin/purges", { keys: ["latest"], extra: 1 }, { token: t.admin.token })).status, 400);
    assert.equal((await t.get("/api/v1/admin/purges?status=lost", { token: t.admin.token })).status, 400);
    assert.equal((await t.post("/api/v1/admin/purges", { keys: ["latest"] }, { token: t.editor.token })).status, 403);
    assert.equal((await t.get("/api/v1/admin/purges", { token: t.editor.token })).status, 403);
    assert.equal((await t.get("/api/v1/admin/purges")).status, 401);
  });

  test("two instances: every key queued once and sent once", { skip: !onPostgres && "needs two connections (PostgreSQL); PGlite is one connection in one process", timeout: 120_000 }, async () => {
    const peer: Database = await t.openPeer();
    const env = { PURGE_PROVIDER: "http", PURGE_HTTP_URL: `${rec.url}/both` };
    const name = "purge-two";
    const a = createPurgeService(t.db.prisma, silent, config(env), { name, batch: 7 });
    const b = createPurgeService(peer.prisma, silent, config(env), { name, batch: 7 });
    try {
      await Promise.all([a.init(), b.init()]);
      const total = 200;
      await Promise.all(Array.from({ length: total / 10 }, (_, w) =>
        (w % 2 ? peer : t.db).prisma.$transaction((tx) => emit(tx, Array.from({ length: 10 }, (_, i) => ({
          type: "test.event", entityType: "test", keys: [`two:${w * 10 + i}`],
        }))))));
      rec.clear();
      // Both drain and send at once, repeatedly, until everything is queued and sent.
      for (let round = 0; round < 100; round++) {
        await Promise.all([a.drain(), b.drain(), a.drain(), b.drain()]);
        await Promise.all([a.sendDue(), b.sendDue()]);
        const [{ n }] = await t.db.prisma.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM "PurgeRequest" WHERE consumer = ${name} AND status = 'pending'`;
        const [{ pos }] = await t.db.prisma.$queryRaw<{ pos: bigint }[]>`
          SELECT (SELECT max(id) FROM "ChangeEvent") - position AS pos FROM "EventConsumer" WHERE name = ${name}`;
        if (Number(n) === 0 && Number(pos) === 0) break;
      }
      const sent = rec.requests.filter((r) => r.path === "/both").flatMap((r) => JSON.parse(r.body).keys as string[]);
      assert.equal(sent.length, total, "each key once");
      assert.equal(new Set(sent).size, total, "no key twice");
      const queued = await t.db.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM (SELECT unnest(keys) FROM "PurgeRequest" WHERE consumer = ${name}) k`;
      assert.equal(Number(queued[0].n), total);
    } finally {
      await a.stop();
      await b.stop();
      if (peer !== t.db) await peer.close();
    }
  });
});

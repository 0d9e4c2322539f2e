// GET /metrics (README "Metrics"): protection (token, own port, off when
// neither is set), request metrics labelled by route template (including what
// the response cache's fast path answers before routing), the response cache,
// change-event consumer lag, the database, the view buffer, dependency health,
// and missed scheduled publishes (counted and logged as an error). Metrics
// are per process, so assertions compare before and after.
import assert from "node:assert/strict";
import http from "node:http";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../src/app.ts";
import { Scheduler } from "../src/articles/scheduler.ts";
import { loadConfig } from "../src/config.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { startMetricsServer } from "../src/observability/http.ts";
import { registerHealthGauge } from "../src/observability/metrics.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { statementsOf } from "./support/statements.ts";

const TOKEN = "metrics-test-token-0123456789";
const auth = { Authorization: `Bearer ${TOKEN}` };

/** Sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (line[name.length] !== "{" && line[name.length] !== " ")) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = new Map([...(m[1] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) total = (total ?? 0) + Number(m[2]);
  }
  return total;
}

let t: TestApp;
async function scrape(): Promise<string> {
  const res = await t.get("/metrics", { headers: auth });
  assert.equal(res.status, 200, res.text);
  return res.text;
}

const requests = (text: string, route: string, status: string) =>
  sample(text, "dateline_http_request_duration_seconds_count", { route, method: "GET", status }) ?? 0;

before(async () => {
  t = await startTestApp({ METRICS_TOKEN: TOKEN });
  await makeSection(t, "metrics");
});
after(() => t.close());

let seq = 0;
async function published() {
  seq += 1;
  const a = await makeArticle(t, { headline: `Measured story ${seq}`, section: "metrics" });
  await publish(t, a.id);
  return a as { id: number; slug: string };
}

/** A second app on the same database with other metrics settings; its server and a stop function. */
async function otherApp(env: Record<string, string | number | undefined>) {
  const app = createApp({
    config: { ...t.config, ...env } as typeof t.config, db: t.db, prisma: t.db.prisma, tokens: t.tokens,
    logger: pino({ level: "silent" }), media: localDiskStorage(t.mediaDir), views: t.views, events: t.events,
    sanitizer: t.sanitizer, hashClient: clientHasher(t.secret),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopApp(app);
    },
  };
}

describe("protection", () => {
  it("answers 401 without the token or with a wrong one, and the metrics with it", async () => {
    const none = await t.get("/metrics");
    assert.equal(none.status, 401);
    assert.equal(none.body.type, "urn:dateline:problem:unauthorized");
    assert.match(none.headers["www-authenticate"], /^Bearer/);
    const wrong = await t.get("/metrics", { headers: { Authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    const jwt = await t.get("/metrics", { token: t.admin.token });
    assert.equal(jwt.status, 401, "an editor's access token is not the metrics token");
    const ok = await t.get("/metrics", { headers: auth });
    assert.equal(ok.status, 200);
    assert.match(ok.headers["content-type"], /^text\/plain; version=0\.0\.4/);
    assert.equal(ok.headers["cache-control"], "no-store");
    assert.ok(sample(ok.text, "process_cpu_user_seconds_total") !== undefined, "Node process metrics");
    assert.ok(sample(ok.text, "nodejs_eventloop_lag_seconds") !== undefined);
  });

  it("is not served (404) when neither METRICS_TOKEN nor METRICS_PORT is set", async () => {
    const b = await otherApp({ METRICS_TOKEN: undefined, METRICS_PORT: undefined });
    try {
      const res = await request(b.server).get("/metrics").set(auth);
      assert.equal(res.status, 404);
      assertMatchesSpec("GET", "/metrics", { status: res.status, headers: res.headers, body: res.body, text: res.text });
    } finally {
      await b.stop();
    }
  });

  it("with METRICS_PORT is served on that port only, with the token when one is set", async () => {
    const b = await otherApp({ METRICS_TOKEN: TOKEN, METRICS_PORT: 0 });
    const m = await startMetricsServer({ port: 0, host: "127.0.0.1", token: TOKEN }, pino({ level: "silent" }));
    try {
      const main = await request(b.server).get("/metrics").set(auth);
      assert.equal(main.status, 404, "not on the public port");
      const check = (res: request.Response) =>
        assertMatchesSpec("GET", "/metrics", { status: res.status, headers: res.headers, body: res.body, text: res.text });
      const without = await request(m.server).get("/metrics");
      assert.equal(without.status, 401);
      check(without);
      const ok = await request(m.server).get("/metrics").set(auth);
      assert.equal(ok.status, 200);
      check(ok);
      assert.ok(sample(ok.text, "dateline_http_request_duration_seconds_count") !== undefined);
      assert.equal((await request(m.server).get("/api/v1/articles")).status, 404, "the metrics port serves nothing else");
    } finally {
      await m.close();
      await b.stop();
    }
    const open = await startMetricsServer({ port: 0, host: "127.0.0.1" }, pino({ level: "silent" }));
    try {
      assert.equal((await request(open.server).get("/metrics")).status, 200, "a port without a token needs none");
    } finally {
      await open.close();
    }
  });

  it("refuses a short token and a metrics port equal to PORT", () => {
    assert.throws(() => loadConfig({ METRICS_TOKEN: "short" }), /METRICS_TOKEN/);
    assert.throws(() => loadConfig({ PORT: "3000", METRICS_PORT: "3000" }), /METRICS_PORT/);
    assert.equal(loadConfig({ METRICS_PORT: "9464" }).METRICS_PORT, 9464);
  });
});

describe("request metrics", () => {
  it("label requests by route template, never by the raw path, including fast-path hits and 304s", async () => {
    const a = await published();
    const route = "/api/v1/articles/:slug";
    const before = await scrape();
    const first = await t.get(`/api/v1/articles/${a.slug}`);
    const second = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(second.status, 200);
    assert.equal(statementsOf(second), 0, "the second read is a cache hit");
    const again = await t.get(`/api/v1/articles/${a.slug}`, { headers: { "If-None-Match": first.headers.etag } });
    assert.equal(again.status, 304);
    assert.equal((await t.get("/api/v1/articles/no-such-story")).status, 404);
    assert.equal((await t.get("/api/v1/no-such-endpoint")).status, 404);
    assert.equal((await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token })).status, 200);
    const text = await scrape();

    assert.equal(requests(text, route, "200") - requests(before, route, "200"), 2);
    assert.equal(requests(text, route, "304") - requests(before, route, "304"), 1);
    // The 404 comes from the app-level error handler, after the routers restored baseUrl.
    assert.equal(requests(text, route, "404") - requests(before, route, "404"), 1);
    assert.equal(requests(text, "unmatched", "404") - requests(before, "unmatched", "404"), 1);
    assert.equal(requests(text, "/api/v1/admin/articles/:id", "200") - requests(before, "/api/v1/admin/articles/:id", "200"), 1);
    assert.ok(sample(text, "dateline_http_request_duration_seconds_bucket", { route, status: "200", le: "+Inf" })! >= 2);
    assert.ok(!text.includes(a.slug), "no raw slug in any label");
    assert.ok(!text.includes("no-such"), "no raw path in any label");
  });

  it("count response-cache hits, misses and what it holds", async () => {
    const a = await published();
    const before = await scrape();
    await t.get(`/api/v1/articles/${a.slug}`);
    const hit = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(statementsOf(hit), 0);
    const text = await scrape();
    assert.ok(sample(text, "dateline_response_cache_hits_total")! - sample(before, "dateline_response_cache_hits_total")! >= 1);
    assert.ok(sample(text, "dateline_response_cache_misses_total")! - sample(before, "dateline_response_cache_misses_total")! >= 1);
    assert.ok(sample(text, "dateline_response_cache_bytes")! > 0);
    assert.ok(sample(text, "dateline_response_cache_entries")! >= 1);
    assert.ok(sample(text, "dateline_response_cache_evictions_total") !== undefined);
  });
});

describe("database, events, views and dependencies", () => {
  it("report statements, statement durations and (on PostgreSQL) the pool", async () => {
    const before = await scrape();
    await published();
    const text = await scrape();
    assert.ok(sample(text, "dateline_db_statements_total")! > sample(before, "dateline_db_statements_total")!);
    assert.ok(sample(text, "dateline_db_statement_duration_seconds_count", { operation: "query" })!
      > sample(before, "dateline_db_statement_duration_seconds_count", { operation: "query" })!);
    if (t.db.kind === "postgresql") {
      assert.ok(sample(text, "dateline_db_pool_connections", { pool: "primary" })! >= 1);
      assert.equal(sample(text, "dateline_db_pool_max_connections", { pool: "primary" }), 5);
      assert.ok(sample(text, "dateline_db_pool_waiting_clients", { pool: "primary" }) !== undefined);
    } else {
      assert.equal(sample(text, "dateline_db_pool_connections"), undefined, "PGlite has no pool");
    }
    assert.equal(sample(text, "dateline_metrics_database_up"), 1);
  });

  it("report each durable consumer's lag in events and seconds", async () => {
    await published();
    await t.db.prisma.$executeRaw`INSERT INTO "EventConsumer" (name, position) VALUES ('metrics-probe', 0)`;
    const [{ max }] = await t.db.prisma.$queryRaw<{ max: bigint }[]>`SELECT max(id) AS max FROM "ChangeEvent"`;
    let text = await scrape();
    assert.equal(sample(text, "dateline_event_consumer_lag_events", { consumer: "metrics-probe" }), Number(max));
    assert.ok(sample(text, "dateline_event_consumer_lag_seconds", { consumer: "metrics-probe" })! >= 0);
    await t.db.prisma.$executeRaw`UPDATE "EventConsumer" SET position = ${max} WHERE name = 'metrics-probe'`;
    text = await scrape();
    assert.equal(sample(text, "dateline_event_consumer_lag_events", { consumer: "metrics-probe" }), 0);
    assert.equal(sample(text, "dateline_event_consumer_lag_seconds", { consumer: "metrics-probe" }), 0);
    await t.db.prisma.$executeRaw`DELETE FROM "EventConsumer" WHERE name = 'metrics-probe'`;
  });

  it("report the view buffer and flush results", async () => {
    const a = await published();
    const before = await scrape();
    assert.equal(t.views.record(a.id, "metrics-net"), "counted");
    let text = await scrape();
    assert.equal(sample(text, "dateline_view_buffer_views")! - sample(before, "dateline_view_buffer_views")!, 1);
    assert.ok(sample(text, "dateline_view_buffer_rows")! >= 1);
    await t.views.flush();
    text = await scrape();
    assert.equal(sample(text, "dateline_view_buffer_views"), 0);
    assert.equal((sample(text, "dateline_view_flushes_total", { result: "ok" }) ?? 0)
      - (sample(before, "dateline_view_flushes_total", { result: "ok" }) ?? 0), 1);
    assert.equal((sample(text, "dateline_views_written_total") ?? 0) - (sample(before, "dateline_views_written_total") ?? 0), 1);
  });

  it("report dependency health registered by other modules (e.g. Redis)", async () => {
    const down = registerHealthGauge("probe-down", () => false);
    const failing = registerHealthGauge("probe-failing", async () => {
      throw new Error("unreachable");
    });
    const up = registerHealthGauge("probe-up", async () => true);
    try {
      const text = await scrape();
      assert.equal(sample(text, "dateline_dependency_up", { dependency: "probe-down" }), 0);
      assert.equal(sample(text, "dateline_dependency_up", { dependency: "probe-failing" }), 0);
      assert.equal(sample(text, "dateline_dependency_up", { dependency: "probe-up" }), 1);
    } finally {
      down();
      failing();
      up();
    }
    assert.equal(sample(await scrape(), "dateline_dependency_up", { dependency: "probe-up" }), undefined);
  });
});

describe("missed scheduled publishes", () => {
  /** A SCHEDULED article whose time passed `minutes` ago, as if no scheduler had run since. */
  async function overdue(headline: string, minutes: number) {
    const a = await makeArticle(t, { headline, section: "metrics" });
    const sch = await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: new Date(Date.now() + 3_600_000).toISOString() }, { token: t.editor.token });
    assert.equal(sch.status, 200);
    await t.db.prisma.$executeRaw`UPDATE "Article" SET "scheduledAt" = now() - make_interval(secs => ${minutes * 60}) WHERE id = ${a.id}`;
    return a as { id: number; slug: string };
  }

  it("are counted once, logged as an error and reported as overdue until published", async () => {
    const a = await overdue("Running late", 5);
    const lines: { level: number; msg: string; articles?: { id: number }[] }[] = [];
    const logger = pino({ level: "info" }, new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }));
    const scheduler = new Scheduler(t.db.prisma, logger, { intervalMs: 60_000, trashRetentionDays: 30 });

    const before = await scrape();
    assert.ok(sample(before, "dateline_scheduled_overdue_articles")! >= 1);
    assert.ok(sample(before, "dateline_scheduled_overdue_oldest_seconds")! >= 240);
    const missedBefore = sample(before, "dateline_scheduled_publish_missed_total")!;

    const found = await scheduler.checkMissed();
    assert.deepEqual(found.map((m) => m.id), [a.id]);
    assert.deepEqual(await scheduler.checkMissed(), [], "reported once");
    // One more, found by the tick itself (before it publishes); one due 30 s ago is not missed yet.
    const b = await overdue("Later still", 2);
    const c = await overdue("Just due", 0.5);
    const published = await scheduler.tick();
    assert.deepEqual(published, [a.id, b.id, c.id], "then published (late)");

    const text = await scrape();
    assert.equal(sample(text, "dateline_scheduled_publish_missed_total")! - missedBefore, 2);
    assert.equal(sample(text, "dateline_scheduled_overdue_articles"), 0);
    assert.ok((sample(text, "dateline_scheduled_published_total") ?? 0) - (sample(before, "dateline_scheduled_published_total") ?? 0) >= 1);
    assert.ok(sample(text, "dateline_scheduler_runs_total", { result: "ok" })! >= 1);
    assert.ok(sample(text, "dateline_scheduler_last_run_timestamp_seconds")! > Date.now() / 1000 - 60);

    const errors = lines.filter((l) => l.level === 50);
    assert.equal(errors.length, 2);
    for (const e of errors) assert.match(e.msg, /scheduled publish missed/);
    assert.deepEqual(errors.map((e) => e.articles?.map((x) => x.id)), [[a.id], [b.id]]);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
  });
});

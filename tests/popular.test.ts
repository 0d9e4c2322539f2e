import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import YAML from "yaml";
import { createViewCounter, type ViewCounterOptions } from "../src/views/counter.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

const HOUR = 3_600_000;
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "world");
  await makeSection(t, "asia", "world");
  await makeSection(t, "china", "asia");
  await makeSection(t, "sport");
});
after(() => t.close());

let n = 0;
/** A published article in its own section unless one is given. */
async function published(section?: string, publishedAt?: string) {
  n += 1;
  if (!section) {
    section = `desk-${n}`;
    await makeSection(t, section);
  }
  const a = await makeArticle(t, { headline: `Story ${n}`, section });
  await publish(t, a.id, publishedAt);
  return { id: a.id as number, slug: a.slug as string, section };
}

function beacon(slug: string, client = "1", ua: string | null = BROWSER, body?: unknown, app = t) {
  const headers: Record<string, string> = { "X-Forwarded-For": `203.0.113.${client}` };
  if (ua !== null) headers["User-Agent"] = ua;
  return app.post(`/api/v1/articles/${slug}/views`, body, { headers });
}

async function stored(articleId: number) {
  const agg = await t.db.prisma.articleViewHourly.aggregate({ where: { articleId }, _sum: { views: true } });
  return agg._sum.views ?? 0;
}

/** Beacons from `count` distinct clients, then a flush. */
async function views(slug: string, count: number) {
  for (let i = 0; i < count; i++) assert.equal((await beacon(slug, `${n}.${i}`)).status, 202);
  await t.views.flush();
}

type ExecRaw = TestApp["db"]["prisma"]["$executeRawUnsafe"];
/** Replaces prisma.$executeRawUnsafe for the duration of fn. */
async function withExecSpy<T>(wrap: (orig: ExecRaw) => ExecRaw, fn: () => Promise<T>): Promise<T> {
  const prisma = t.db.prisma;
  const orig = prisma.$executeRawUnsafe.bind(prisma) as ExecRaw;
  prisma.$executeRawUnsafe = wrap(orig);
  try {
    return await fn();
  } finally {
    prisma.$executeRawUnsafe = orig;
  }
}

const silent = pino({ level: "silent" });
const counter = (opts: Partial<ViewCounterOptions> = {}) =>
  createViewCounter(t.db.prisma, silent, { flushIntervalMs: 60_000, dedupSeconds: 1800, rateMaxPerMinute: 120, maxPerNetworkPerArticle: 10, ...opts });

describe("read beacon", () => {
  it("counts a client once per article, and different clients separately", async () => {
    const a = await published();
    const first = await beacon(a.slug, "1");
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, { counted: true });
    assert.equal(first.headers["cache-control"], "no-store");

    const again = await beacon(a.slug, "1", BROWSER, {});
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, { counted: false, reason: "duplicate" });

    assert.deepEqual((await beacon(a.slug, "2")).body, { counted: true });
    // Same address, another browser: another client.
    assert.deepEqual((await beacon(a.slug, "1", `${BROWSER} Edg/126.0`)).body, { counted: true });

    assert.equal(await stored(a.id), 0, "nothing is written before a flush");
    await t.views.flush();
    assert.equal(await stored(a.id), 3);
    const rows = await t.db.prisma.articleViewHourly.findMany({ where: { articleId: a.id } });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].hour.getTime() % HOUR, 0, "bucketed by the hour");
  });

  it("does not count bots or requests without a User-Agent", async () => {
    const a = await published();
    for (const ua of ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "facebookexternalhit/1.1", "python-requests/2.32", "Mozilla/5.0 HeadlessChrome/126.0", null]) {
      const res = await beacon(a.slug, "7", ua);
      assert.equal(res.status, 202, String(ua));
      assert.deepEqual(res.body, { counted: false, reason: "bot" }, String(ua));
    }
    await t.views.flush();
    assert.equal(await stored(a.id), 0);
  });

  it("answers 404 for unknown, unpublished and trashed articles", async () => {
    assert.equal((await beacon("no-such-story")).status, 404);
    const draft = await makeArticle(t, { headline: "Draft only", section: "world" });
    const res = await beacon(draft.slug);
    assert.equal(res.status, 404);
    assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");

    const trashed = await published();
    const del = await t.del(`/api/v1/admin/articles/${trashed.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${trashed.id}`) });
    assert.equal(del.status, 204);
    assert.equal((await beacon(trashed.slug)).status, 404);
  });

  it("accepts only an empty body", async () => {
    const a = await published();
    assert.equal((await beacon(a.slug, "1", BROWSER, { referrer: "x" })).status, 400);
    const text = await t.call("POST", `/api/v1/articles/${a.slug}/views`, { headers: { "User-Agent": BROWSER }, raw: { data: "hello", type: "text/plain" } });
    assert.equal(text.status, 415);
    assert.equal((await beacon("Not_A_Slug")).status, 400);
  });

  it("rate-limits a client with 429 and Retry-After", async () => {
    const app = await startTestApp({ VIEW_RATE_MAX_PER_MINUTE: "3" });
    try {
      await makeSection(app, "news");
      const a = await makeArticle(app, { headline: "Busy story", section: "news" });
      await publish(app, a.id);
      // Duplicates use up the budget too: it limits beacons, not counted views.
      for (let i = 0; i < 3; i++) assert.equal((await beacon(a.slug, "9", BROWSER, undefined, app)).status, 202);
      const limited = await beacon(a.slug, "9", BROWSER, undefined, app);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers["retry-after"], "60");
      assert.equal(limited.body.type, "urn:dateline:problem:too-many-requests");
      assert.equal((await beacon(a.slug, "10", BROWSER, undefined, app)).status, 202, "other clients are unaffected");
    } finally {
      await app.close();
    }
  });
});

describe("GET /popular", () => {
  it("ranks by views, ties newest first, with views and cache headers", async () => {
    await makeSection(t, "ranked");
    const low = await published("ranked", "2024-01-01T10:00:00Z");
    const high = await published("ranked", "2024-01-01T09:00:00Z");
    const tieOld = await published("ranked", "2024-01-01T08:00:00Z");
    const tieNew = await published("ranked", "2024-01-02T08:00:00Z");
    await published("ranked"); // no views: not listed
    await views(high.slug, 5);
    await views(tieOld.slug, 2);
    await views(tieNew.slug, 2);
    await views(low.slug, 1);

    const res = await t.get("/api/v1/popular?section=ranked");
    assert.equal(res.status, 200);
    assert.equal(res.headers["cache-control"], "public, max-age=60, s-maxage=60, stale-while-revalidate=60, stale-if-error=3600");
    assert.deepEqual(res.body.data.map((x: { slug: string; views: number }) => [x.slug, x.views]), [
      [high.slug, 5], [tieNew.slug, 2], [tieOld.slug, 2], [low.slug, 1],
    ]);
    assert.equal(res.body.data[0].headline, "Story " + high.slug.split("-")[1]);
    assert.deepEqual(res.body.data[0].section, { slug: "ranked", name: "ranked" });
    assert.equal(res.body.meta.window, "24h");
    const since = Date.parse(res.body.meta.since);
    assert.equal(since % HOUR, 0);
    assert.ok(since <= Date.now() - 24 * HOUR && since > Date.now() - 25 * HOUR);

    const top2 = await t.get("/api/v1/popular?section=ranked&limit=2");
    assert.deepEqual(top2.body.data.map((x: { slug: string }) => x.slug), [high.slug, tieNew.slug]);
  });

  it("includes descendant sections and rejects unknown ones", async () => {
    const inWorld = await published("world");
    const inChina = await published("china");
    const inSport = await published("sport");
    await views(inWorld.slug, 1);
    await views(inChina.slug, 2);
    await views(inSport.slug, 3);

    const world = await t.get("/api/v1/popular?section=world&limit=50");
    assert.deepEqual(world.body.data.map((x: { slug: string }) => x.slug), [inChina.slug, inWorld.slug]);
    const asia = await t.get("/api/v1/popular?section=asia");
    assert.deepEqual(asia.body.data.map((x: { slug: string }) => x.slug), [inChina.slug]);
    assert.equal((await t.get("/api/v1/popular?section=atlantis")).status, 404);
  });

  it("counts hourly rows inside the window only", async () => {
    const a = await published();
    const hour = (ago: number) => new Date(Math.floor((Date.now() - ago) / HOUR) * HOUR);
    await t.db.prisma.articleViewHourly.createMany({
      data: [
        { articleId: a.id, hour: hour(3 * 24 * HOUR), views: 40 },
        { articleId: a.id, hour: hour(20 * 24 * HOUR), views: 300 },
        { articleId: a.id, hour: hour(40 * 24 * HOUR), views: 5000 },
      ],
    });
    await views(a.slug, 1);
    const viewsIn = async (window: string) => {
      const res = await t.get(`/api/v1/popular?window=${window}&section=${a.section}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.meta.window, window);
      return res.body.data[0]?.views;
    };
    assert.equal(await viewsIn("24h"), 1);
    assert.equal(await viewsIn("7d"), 41);
    assert.equal(await viewsIn("30d"), 341);
  });

  it("drops articles that are no longer published", async () => {
    const a = await published();
    await views(a.slug, 2);
    const before = await t.get(`/api/v1/popular?section=${a.section}`);
    assert.equal(before.body.data.length, 1);
    const res = await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(res.status, 200);
    assert.deepEqual((await t.get(`/api/v1/popular?section=${a.section}`)).body.data, []);
  });

  it("validates the query", async () => {
    for (const q of ["window=1y", "limit=0", "limit=51", "limit=ten", "section=Bad_Slug"]) {
      assert.equal((await t.get(`/api/v1/popular?${q}`)).status, 400, q);
    }
  });

  it("documents the same item fields as the public article list, plus views", () => {
    const spec = YAML.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "openapi.yaml"), "utf8"));
    const list = spec.components.schemas.PublicArticleListItem;
    const popular = spec.components.schemas.PopularArticle;
    assert.deepEqual(Object.keys(popular.properties).sort(), [...Object.keys(list.properties), "views"].sort());
    assert.deepEqual([...popular.required].sort(), [...list.required, "views"].sort());
  });
});

describe("batched writes", () => {
  it("writes thousands of views, for many articles, in one statement per flush", async () => {
    const a = await published();
    const others = [await published(), await published(), await published()];
    await t.views.flush();
    for (let i = 0; i < 2000; i++) assert.equal(t.views.record(a.id, `burst-${i}`), "counted");
    for (const o of others) for (let i = 0; i < 10; i++) t.views.record(o.id, `burst-${i}`);

    const statements: string[] = [];
    await withExecSpy(
      (orig) => ((sql: string, ...params: unknown[]) => {
        statements.push(sql);
        return orig(sql, ...params);
      }) as ExecRaw,
      () => t.views.flush(),
    );
    assert.equal(statements.length, 1);
    assert.match(statements[0], /ON CONFLICT/);
    assert.equal(await stored(a.id), 2000);
    for (const o of others) assert.equal(await stored(o.id), 10);

    // A second batch adds to the same hourly row.
    for (let i = 0; i < 5; i++) t.views.record(a.id, `later-${i}`);
    await t.views.flush();
    assert.equal(await stored(a.id), 2005);
    assert.equal(await t.db.prisma.articleViewHourly.count({ where: { articleId: a.id } }), 1);
  });

  it("does not overlap flushes", async () => {
    const a = await published();
    let active = 0;
    let maxActive = 0;
    await withExecSpy(
      (orig) => (async (sql: string, ...params: unknown[]) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 20));
        try {
          return await orig(sql, ...params);
        } finally {
          active -= 1;
        }
      }) as ExecRaw,
      async () => {
        const runs = [];
        for (let i = 0; i < 3; i++) {
          t.views.record(a.id, `overlap-${i}`);
          runs.push(t.views.flush());
          // Let the previous flush reach the database before asking for the next.
          await new Promise((r) => setTimeout(r, 5));
        }
        await Promise.all(runs);
      },
    );
    assert.equal(maxActive, 1);
    assert.equal(await stored(a.id), 3);
  });

  it("writes buffered views on stop", async () => {
    const a = await published();
    const c = counter();
    c.start();
    for (let i = 0; i < 7; i++) c.record(a.id, `stop-${i}`);
    await c.stop();
    assert.equal(await stored(a.id), 7);
  });

  it("keeps the counts when a flush fails, and writes them with the next one", async () => {
    const a = await published();
    const c = counter();
    for (let i = 0; i < 4; i++) c.record(a.id, `fail-${i}`);
    await withExecSpy(
      () => (async () => {
        throw new Error("database unavailable");
      }) as unknown as ExecRaw,
      () => assert.rejects(c.flush(), /database unavailable/),
    );
    assert.equal(await stored(a.id), 0);
    c.record(a.id, "fail-after");
    await c.flush();
    assert.equal(await stored(a.id), 5);
  });

  it("skips articles deleted since their views were buffered", async () => {
    const a = await published();
    const c = counter();
    c.record(a.id, "x");
    c.record(2_000_000_000, "x");
    await c.flush();
    assert.equal(await stored(a.id), 1);
  });

  it("buckets by the hour of the read, not of the flush", async () => {
    const a = await published();
    const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    let now = base + HOUR - 1000;
    const c = counter({ now: () => now });
    c.record(a.id, "late");
    now = base + HOUR + 1000;
    c.record(a.id, "early");
    c.record(a.id, "early-2");
    await c.flush();
    const rows = await t.db.prisma.articleViewHourly.findMany({ where: { articleId: a.id }, orderBy: { hour: "asc" } });
    assert.deepEqual(rows.map((r) => [r.hour.getTime(), r.views]), [[base, 1], [base + HOUR, 2]]);
  });
});

describe("de-duplication and rate state", () => {
  it("forgets a client after the de-duplication period and resets the rate each minute", () => {
    let now = Date.UTC(2024, 0, 1);
    const c = counter({ now: () => now, dedupSeconds: 1800, rateMaxPerMinute: 2 });
    assert.equal(c.record(1, "k"), "counted");
    assert.equal(c.record(1, "k"), "duplicate");
    assert.equal(c.record(1, "k"), "rate-limited");
    now += 60_000;
    assert.equal(c.record(2, "k"), "counted");
    assert.equal(c.record(1, "k"), "duplicate");
    now += 1800_000;
    assert.equal(c.record(1, "k"), "counted");
  });

  it("stays bounded: past the cap the oldest clients are forgotten", () => {
    let now = Date.UTC(2024, 0, 1);
    const c = counter({ now: () => now, maxTracked: 100 });
    assert.equal(c.record(1, "first"), "counted");
    for (let i = 0; i < 99; i++) c.record(1, `k${i}`);
    assert.equal(c.record(1, "first"), "duplicate", "still remembered at the cap");
    for (let i = 99; i < 200; i++) c.record(1, `k${i}`);
    now += 1000;
    assert.equal(c.record(1, "first"), "counted", "evicted once the cap was passed");
  });
});

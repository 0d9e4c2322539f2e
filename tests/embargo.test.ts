// Embargoes (issue 12 §2): an embargoed article is absent from every public
// surface until the scheduler releases it at the instant, exactly once, with
// a change event that caches, webhooks and purges see.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { Scheduler } from "../src/articles/scheduler.ts";
import { releaseDue } from "../src/articles/embargo.ts";

let t: TestApp;
const silent = pino({ level: "silent" });
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every public surface, each answering whether it shows the article `slug` (headline `headline`). */
async function surfaces(a: { slug: string; headline: string }, recommender: string): Promise<Record<string, boolean>> {
  const slugs = (list: { slug: string }[]) => list.map((x) => x.slug);
  const out: Record<string, boolean> = {};
  const one = await t.get(`/api/v1/articles/${a.slug}`);
  assert.ok([200, 404].includes(one.status), one.text);
  out.bySlug = one.status === 200;
  out.print = (await t.get(`/api/v1/articles/${a.slug}/print`)).status === 200;
  out.latest = slugs((await t.get("/api/v1/latest?limit=50")).body.data).includes(a.slug);
  out.articles = slugs((await t.get("/api/v1/articles?limit=50")).body.data).includes(a.slug);
  out.sectionList = slugs((await t.get("/api/v1/articles?section=desk&limit=50")).body.data).includes(a.slug);
  const front = (await t.get("/api/v1/sections/desk/front?limit=50")).body;
  out.front = [front.lead, ...front.stories].some((x) => x?.slug === a.slug);
  out.collection = slugs((await t.get("/api/v1/collections/embargo-picks")).body.items).includes(a.slug);
  const rec = (await t.get(`/api/v1/articles/${recommender}`)).body;
  out.related = JSON.stringify(rec.related ?? []).includes(a.slug);
  out.search = (await t.get("/api/v1/search?q=zanzibarite")).body.data.some((x: { article: { slug: string } }) => x.article.slug === a.slug);
  out.rss = (await t.get("/rss.xml")).text.includes(a.slug);
  out.atom = (await t.get("/atom.xml")).text.includes(a.slug);
  out.apiFeed = (await t.get("/api/v1/feeds/rss")).text.includes(a.slug);
  out.sitemap = (await t.get("/sitemaps/articles-1.xml")).text.includes(a.slug);
  out.newsSitemap = (await t.get("/sitemap-news.xml")).text.includes(a.slug);
  out.comments = (await t.get(`/api/v1/articles/${a.slug}/comments`)).status === 200;
  // A browser's beacon (the counter ignores clients that do not look like one).
  const beacon = await t.post(`/api/v1/articles/${a.slug}/views`, {}, { headers: { "User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.7" } });
  out.views = beacon.status === 202;
  await t.views.flush();
  const popular = await t.get("/api/v1/popular?limit=50");
  out.popular = slugs(popular.body.data).includes(a.slug);
  return out;
}

describe("embargo", () => {
  it("rejects an embargo in the past (400 with the field), and shows a pending one in the admin article", async () => {
    const past = await t.post("/api/v1/admin/articles", { headline: "Too late", section: "desk", embargoedUntil: new Date(Date.now() - 1000).toISOString() }, ed());
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].path, "body.embargoedUntil");
    const bad = await t.post("/api/v1/admin/articles", { headline: "Bad", section: "desk", embargoedUntil: "tomorrow" }, ed());
    assert.equal(bad.status, 400);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const a = await makeArticle(t, { headline: "Held", section: "desk", embargoedUntil: until });
    assert.equal(a.embargoedUntil, until);
    const lifted = await t.patch(`/api/v1/admin/articles/${a.id}`, { embargoedUntil: null }, { ...ed(), headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(lifted.status, 200, lifted.text);
    assert.equal(lifted.body.embargoedUntil, null);
  });

  it("keeps the article off every public surface until the instant, then the scheduler releases it once", async () => {
    // Another published story in the same section, picking the embargoed one under "We Recommend".
    const until = new Date(Date.now() + 5000);
    const a = await makeArticle(t, { headline: "Embargoed zanzibarite report", section: "desk", embargoedUntil: until.toISOString() });
    const rec = await makeArticle(t, { headline: "Recommending story", section: "desk", related: [a.id] });
    await publish(t, rec.id);
    const col = await t.post("/api/v1/admin/collections", { slug: "embargo-picks", name: "Picks" }, { token: t.admin.token });
    assert.equal(col.status, 201, col.text);
    assert.equal((await t.post(`/api/v1/admin/collections/${col.body.id}/items`, { articleId: a.id }, { token: t.admin.token })).status, 201);
    const published = await publish(t, a.id);
    assert.equal(published.status, "PUBLISHED");
    assert.equal(published.embargoedUntil, until.toISOString());
    // Publishing under embargo tells nobody: its change event carries no surrogate keys.
    const [ev] = await t.db.prisma.changeEvent.findMany({ where: { entityId: a.id, type: "article.published" } });
    assert.deepEqual(ev.keys, []);
    // Comments cannot be posted either.
    assert.equal((await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "Early" })).status, 404);

    const beforeRelease = await surfaces(a, rec.slug);
    for (const [surface, shown] of Object.entries(beforeRelease)) assert.equal(shown, false, `${surface} shows the embargoed article`);
    // The 404 by slug costs one statement, like any missing article.
    assert.equal(statementsOf(await t.get(`/api/v1/articles/${a.slug}`)), 1);

    // Not before the instant: a tick now releases nothing.
    if (Date.now() < until.getTime() - 200) assert.deepEqual(await releaseDue(t.db.prisma), []);
    await sleep(Math.max(0, until.getTime() - Date.now() + 50));
    // Past the instant but before the scheduler's tick: still absent (the tick is the release).
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);

    const scheduler = new Scheduler(t.db.prisma, silent, { intervalMs: 60_000, trashRetentionDays: 30 });
    const peer = new Scheduler(t.db.prisma, silent, { intervalMs: 60_000, trashRetentionDays: 30 });
    await Promise.all([scheduler.tick(), peer.tick()]);
    await t.events.poll();
    const lifted = await t.db.prisma.changeEvent.findMany({ where: { entityId: a.id, type: "article.embargo-lifted" } });
    assert.equal(lifted.length, 1, "released exactly once");
    assert.ok(lifted[0].keys.includes(`article:${a.id}`) && lifted[0].keys.includes("latest"), lifted[0].keys.join(" "));

    const admin = (await t.get(`/api/v1/admin/articles/${a.id}`, ed())).body;
    assert.equal(admin.embargoedUntil, null);
    // It enters the lists as news: published at the embargo's instant (unless published after it, on a slow machine).
    const expected = Math.max(until.getTime(), Date.parse(published.publishedAt));
    assert.equal(admin.publishedAt, new Date(expected).toISOString());

    const afterRelease = await surfaces(a, rec.slug);
    for (const [surface, shown] of Object.entries(afterRelease)) assert.equal(shown, true, `${surface} does not show the released article`);
    assert.ok([201, 202].includes((await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "Now" })).status));
    // A second tick has nothing left to do.
    assert.deepEqual(await releaseDue(t.db.prisma), []);
  });

  it("an embargo put on a published story hides it at once (cached responses dropped); lifting it shows it again", async () => {
    const a = await makeArticle(t, { headline: "Out already", section: "desk" });
    await publish(t, a.id);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.ok((await t.get("/api/v1/latest?limit=50")).body.data.some((x: { slug: string }) => x.slug === a.slug));
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t.patch(`/api/v1/admin/articles/${a.id}`, { embargoedUntil: until }, { ...ed(), headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(res.status, 200, res.text);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    assert.ok(!(await t.get("/api/v1/latest?limit=50")).body.data.some((x: { slug: string }) => x.slug === a.slug));
    const [ev] = await t.db.prisma.changeEvent.findMany({ where: { entityId: a.id, type: "article.embargoed" } });
    assert.ok(ev.keys.includes(`article:${a.id}`));
    const back = await t.patch(`/api/v1/admin/articles/${a.id}`, { embargoedUntil: null }, { ...ed(), headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(back.status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.equal((await t.db.prisma.changeEvent.count({ where: { entityId: a.id, type: "article.embargo-lifted" } })), 1);
  });
});

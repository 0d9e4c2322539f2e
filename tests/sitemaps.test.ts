// Sitemaps, the Google News sitemap and robots.txt (issue 9, §3): the
// structure the protocols require (namespaces, elements, limits), paging,
// hreflang alternates, the 48-hour window and the 1,000 cap; X-Robots-Tag
// on previews.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { backfill } from "../src/delivery/read-model.ts";

const SITE = "https://news.example";
const SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9";
const XHTML_NS = "http://www.w3.org/1999/xhtml";
const W3C_DATETIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const HOUR = 3_600_000;

let t: TestApp;
const a: Record<string, { id: number; slug: string }> = {};
const ed = () => ({ token: t.editor.token });
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => ["url", "sitemap", "xhtml:link"].includes(name) });

function parse(res: TestResponse) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers["content-type"], /^application\/xml; charset=utf-8/);
  const v = XMLValidator.validate(res.text);
  assert.equal(v, true, `not well-formed: ${JSON.stringify(v)}`);
  assert.ok(Buffer.byteLength(res.text) <= 50 * 1024 * 1024);
  return xml.parse(res.text);
}

/** Every <url> of a urlset, checked against the sitemap protocol. */
function urls(doc: any) {
  const set = doc.urlset;
  assert.ok(set, "a <urlset>");
  assert.equal(set["@xmlns"], SITEMAP_NS);
  const list = set.url ?? [];
  assert.ok(list.length <= 50_000);
  for (const u of list) {
    assert.ok(typeof u.loc === "string" && u.loc.startsWith(`${SITE}/`) && u.loc.length <= 2048, `loc ${u.loc}`);
    if (u.lastmod !== undefined) assert.match(u.lastmod, W3C_DATETIME);
  }
  return list as any[];
}

before(async () => {
  t = await startTestApp({
    PUBLIC_SITE_URL: SITE, PUBLICATION_NAME: "The Test Daily", SITE_LANGUAGE: "en",
    SITEMAP_PAGE_SIZE: "3", ROBOTS_TXT_EXTRA: "User-agent: BadBot\\nDisallow: /",
  });
  await makeSection(t, "world", undefined, "World");
  await makeSection(t, "asia", "world", "Asia");
  await makeSection(t, "empty", undefined, "Empty");
  const mk = async (key: string, section: string, publishedAt: string | null, sql?: (id: number) => Promise<unknown>) => {
    const x = await makeArticle(t, { headline: `Headline ${key} & <co>`, section });
    await sql?.(x.id);
    if (publishedAt) await publish(t, x.id, publishedAt);
    a[key] = x;
  };
  await mk("old", "world", "2013-06-08T06:55:00Z");
  await mk("draft", "asia", null);
  await mk("summitEn", "asia", iso(2 * HOUR), (id) => t.db.prisma.$executeRaw`
    UPDATE "Article" SET "translationGroup" = 'summit', "editorialUpdatedAt" = ${new Date(Date.now() - HOUR)} WHERE id = ${id}`);
  await mk("summitDe", "asia", iso(3 * HOUR), (id) => t.db.prisma.$executeRaw`
    UPDATE "Article" SET "translationGroup" = 'summit', language = 'de' WHERE id = ${id}`);
  await mk("edge", "world", iso(47 * HOUR));
  await mk("stale", "world", iso(49 * HOUR));
  await mk("zh", "world", iso(5 * HOUR), (id) => t.db.prisma.$executeRaw`UPDATE "Article" SET language = 'zh-Hant' WHERE id = ${id}`);
});
after(() => t.close());

describe("the sitemap index and its pages", () => {
  it("lists article pages of SITEMAP_PAGE_SIZE ids and the sections sitemap; every published story once", async () => {
    const res = await t.get("/sitemap.xml");
    assert.ok(statementsOf(res) <= 1);
    const doc = parse(res);
    assert.equal(doc.sitemapindex["@xmlns"], SITEMAP_NS);
    const locs: string[] = doc.sitemapindex.sitemap.map((s: { loc: string }) => s.loc);
    const maxId = Math.max(...Object.values(a).map((x) => x.id));
    const pages = Math.ceil(maxId / 3);
    assert.deepEqual(locs, [
      ...Array.from({ length: pages }, (_, i) => `${SITE}/sitemaps/articles-${i + 1}.xml`),
      `${SITE}/sitemaps/sections.xml`,
    ]);

    const seen: string[] = [];
    for (let p = 1; p <= pages; p += 1) {
      const page = await t.get(`/sitemaps/articles-${p}.xml`);
      assert.ok(statementsOf(page) <= 2);
      const list = urls(parse(page));
      assert.ok(list.length <= 3, "at most SITEMAP_PAGE_SIZE URLs");
      seen.push(...list.map((u) => u.loc));
    }
    const published = ["old", "summitEn", "summitDe", "edge", "stale", "zh"];
    assert.equal(seen.length, published.length);
    for (const k of published) assert.equal(seen.filter((l) => l.endsWith(`/${a[k].slug}`)).length, 1, k);
    assert.ok(!seen.some((l) => l.endsWith(`/${a.draft.slug}`)), "drafts never appear");
    assert.ok(seen.includes(`${SITE}/world/2013/06/08/${a.old.slug}`));

    assert.equal((await t.get(`/sitemaps/articles-${pages + 1}.xml`)).status, 404);
    assert.equal((await t.get("/sitemaps/articles-0.xml")).status, 404);
    assert.equal((await t.get("/sitemaps/whatever.xml")).status, 404);
  });

  it("lastmod is the editorial time; translations carry xhtml:link hreflang alternates with x-default", async () => {
    const pages = Math.ceil(Math.max(...Object.values(a).map((x) => x.id)) / 3);
    const all: any[] = [];
    for (let p = 1; p <= pages; p += 1) {
      const res = await t.get(`/sitemaps/articles-${p}.xml`);
      const doc = parse(res);
      if ((doc.urlset.url ?? []).length) assert.equal(doc.urlset["@xmlns:xhtml"], XHTML_NS);
      all.push(...urls(doc));
    }
    const by = (k: string) => all.find((u) => u.loc.endsWith(`/${a[k].slug}`));
    const en = by("summitEn");
    const de = by("summitDe");
    const enRow = (await t.get(`/api/v1/articles/${a.summitEn.slug}`)).body;
    assert.equal(en.lastmod, enRow.updatedAt, "the public (editorial) updatedAt");
    assert.ok(new Date(en.lastmod).getTime() > new Date(enRow.publishedAt).getTime());
    assert.equal(by("old").lastmod, "2013-06-08T06:55:00.000Z", "never edited significantly: the publication time");
    const links = (u: any) => u["xhtml:link"].map((l: any) => [l["@rel"], l["@hreflang"], l["@href"]]);
    const expected = [
      ["alternate", "de", de.loc],
      ["alternate", "en", en.loc],
      ["alternate", "x-default", en.loc],
    ];
    assert.deepEqual(links(en), expected);
    assert.deepEqual(links(de), expected, "reciprocal");
    assert.equal(by("old")["xhtml:link"], undefined, "no translations: no alternates");
  });

  it("the sections sitemap: every section page, lastmod from the newest story in it or below", async () => {
    const res = await t.get("/sitemaps/sections.xml");
    assert.ok(statementsOf(res) <= 1);
    const list = urls(parse(res));
    assert.deepEqual(new Set(list.map((u) => u.loc)), new Set([`${SITE}/world`, `${SITE}/asia`, `${SITE}/empty`]));
    const order = list.map((u) => u.loc);
    assert.ok(order.indexOf(`${SITE}/world`) < order.indexOf(`${SITE}/asia`), "parents before their sub-sections");
    const asiaNewest = (await t.get(`/api/v1/articles/${a.summitEn.slug}`)).body.publishedAt;
    assert.equal(list.find((u) => u.loc === `${SITE}/asia`).lastmod, asiaNewest);
    assert.equal(list.find((u) => u.loc === `${SITE}/world`).lastmod, asiaNewest, "includes sub-sections");
    assert.equal(list.find((u) => u.loc === `${SITE}/empty`).lastmod, undefined);
  });
});

describe("the Google News sitemap", () => {
  it("only the last 48 hours, newest first, with publication, language, date and title", async () => {
    const res = await t.get("/sitemap-news.xml");
    assert.ok(statementsOf(res) <= 1);
    const doc = parse(res);
    assert.equal(doc.urlset["@xmlns"], SITEMAP_NS);
    assert.equal(doc.urlset["@xmlns:news"], NEWS_NS);
    const list = urls(doc);
    assert.deepEqual(list.map((u) => u.loc.split("/").pop()), ["summitEn", "summitDe", "zh", "edge"].map((k) => a[k].slug));
    const since = Date.now() - 48 * HOUR - 60_000;
    for (const u of list) {
      const n = u["news:news"];
      assert.equal(n["news:publication"]["news:name"], "The Test Daily");
      assert.match(n["news:publication"]["news:language"], /^([a-z]{2,3}|zh-cn|zh-tw)$/);
      assert.match(n["news:publication_date"], W3C_DATETIME);
      assert.ok(new Date(n["news:publication_date"]).getTime() >= since);
      assert.equal(typeof n["news:title"], "string");
    }
    const lang = (k: string) => list.find((u) => u.loc.endsWith(`/${a[k].slug}`))["news:news"]["news:publication"]["news:language"];
    assert.equal(lang("summitEn"), "en");
    assert.equal(lang("summitDe"), "de");
    assert.equal(lang("zh"), "zh-tw");
    assert.equal(list[0]["news:news"]["news:title"], "Headline summitEn & <co>");
  });

  it("at most 1,000 URLs", async () => {
    const [{ id: sectionId }] = await t.db.prisma.$queryRaw<{ id: number }[]>`SELECT id FROM "Section" WHERE slug = 'world'`;
    await t.db.prisma.$executeRaw`
      INSERT INTO "Article" (slug, headline, status, "publishedAt", "sectionId", "authorId", "updatedAt")
      SELECT 'burst-' || n, 'Burst ' || n, 'PUBLISHED', now() - n * interval '1 minute', ${sectionId}, ${t.editor.id}, now()
        FROM generate_series(1, 1005) AS n`;
    await backfill(t.db.prisma);
    // Written without change events: the cached copy is dropped by hand, as an event would.
    await t.post(`/api/v1/admin/articles/${a.old.id}/unpublish`, {}, ed());
    const res = await t.get("/sitemap-news.xml");
    const list = urls(parse(res));
    assert.equal(list.length, 1000);
    assert.equal(list[0].loc.split("/").pop(), "burst-1", "newest first");
    await publish(t, a.old.id, "2013-06-08T06:55:00Z");
  });
});

describe("robots.txt, X-Robots-Tag and HTTP caching", () => {
  it("robots.txt names both sitemaps and the configured lines", async () => {
    const res = await t.get("/robots.txt");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /^text\/plain/);
    assert.equal(statementsOf(res), 0);
    const lines = res.text.split("\n");
    assert.equal(lines[0], "User-agent: *");
    assert.ok(lines.includes("Disallow: /api/v1/admin/"));
    assert.ok(lines.includes("Disallow: /api/v1/preview/"));
    assert.ok(lines.includes("User-agent: BadBot"));
    assert.ok(lines.includes(`Sitemap: ${SITE}/sitemap.xml`));
    assert.ok(lines.includes(`Sitemap: ${SITE}/sitemap-news.xml`));
  });

  it("previews and the editor API say noindex; public pages do not", async () => {
    const p = await t.post(`/api/v1/admin/articles/${a.draft.id}/preview`, {}, ed());
    assert.equal(p.status, 201);
    assert.equal(p.headers["x-robots-tag"], "noindex, nofollow");
    const preview = await t.get(p.body.url);
    assert.equal(preview.status, 200);
    assert.equal(preview.headers["x-robots-tag"], "noindex");
    assert.equal((await t.get(`/api/v1/articles/${a.old.slug}`)).headers["x-robots-tag"], undefined);
    assert.equal((await t.get("/sitemap.xml")).headers["x-robots-tag"], undefined);
  });

  it("strong ETag, 304, Cache-Control and surrogate keys; an unpublished story leaves the sitemaps at once", async () => {
    for (const path of ["/sitemap.xml", "/sitemaps/articles-1.xml", "/sitemaps/sections.xml", "/sitemap-news.xml", "/robots.txt"]) {
      const first = await t.get(path);
      assert.equal(first.status, 200, path);
      assert.match(first.headers.etag, /^"[^"]+"$/);
      assert.match(first.headers["cache-control"], /^public, max-age=\d+/);
      assert.ok(first.headers["surrogate-key"], path);
      const again = await t.get(path, { headers: { "If-None-Match": first.headers.etag } });
      assert.equal(again.status, 304, path);
      assert.equal(statementsOf(again), 0);
    }
    // (The burst above pushed the 47-hour-old story out of the 1,000 newest: one from 5 hours ago.)
    const page = `/sitemaps/articles-${Math.ceil(a.zh.id / 3)}.xml`;
    assert.ok((await t.get(page)).text.includes(a.zh.slug));
    assert.ok((await t.get("/sitemap-news.xml")).text.includes(a.zh.slug));
    assert.equal((await t.post(`/api/v1/admin/articles/${a.zh.id}/unpublish`, {}, ed())).status, 200);
    assert.ok(!(await t.get(page)).text.includes(a.zh.slug));
    assert.ok(!(await t.get("/sitemap-news.xml")).text.includes(a.zh.slug));
  });
});

describe("an empty site, then the demo newsroom", () => {
  it("empty sitemaps and feeds before anything is published; stories in all of them right after seeding the demo", async () => {
    const d = await startTestApp({ PUBLIC_SITE_URL: SITE });
    try {
      for (const path of ["/sitemaps/articles-1.xml", "/sitemaps/sections.xml", "/sitemap-news.xml"]) {
        const res = await d.get(path);
        const doc = parse(res);
        assert.equal(doc.urlset["@xmlns"], SITEMAP_NS, path);
        assert.deepEqual(urls(doc), [], path);
        assert.equal(res.headers["last-modified"], undefined);
      }
      assert.deepEqual(parse(await d.get("/sitemap.xml")).sitemapindex.sitemap.map((x: { loc: string }) => x.loc),
        [`${SITE}/sitemaps/articles-1.xml`, `${SITE}/sitemaps/sections.xml`]);
      assert.equal((await d.get("/sitemaps/articles-2.xml")).status, 404);
      const emptyFeed = JSON.parse((await d.get("/feed.json")).text);
      assert.deepEqual(emptyFeed.items, []);
      assert.equal((await d.get("/rss.xml")).status, 200);
      assert.equal((await d.get("/atom.xml")).status, 200);
      const { seedDemo } = await import("../src/seed/demo.ts");
      assert.equal(await seedDemo(d.db.prisma), true);
      // The seed writes rows without change events: other URLs than the ones cached above.
      const news = urls(parse(await d.get("/sitemap-news.xml?seeded")));
      assert.ok(news.length >= 2, "stories published hours before the seed");
      assert.ok(news.some((u) => u.loc.endsWith("/freight-operators-add-weekend-rail-departures-to-the-coast")));
      const index = parse(await d.get("/sitemap.xml?seeded"));
      const first = urls(parse(await d.get(`${new URL(index.sitemapindex.sitemap[0].loc).pathname}?seeded`)));
      assert.ok(first.length >= 20);
      const rss = await d.get("/rss.xml?seeded");
      assert.equal(rss.status, 200);
      assert.ok((rss.text.match(/<item>/g) ?? []).length >= 20);
    } finally {
      await d.close();
    }
  });
});

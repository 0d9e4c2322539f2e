import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "english", undefined, "English");
  await makeSection(t, "foreign-affairs", "english", "Foreign Affairs");
  await makeSection(t, "china", "english", "China");
  await makeSection(t, "sichuan", "china", "Sichuan");
  await makeSection(t, "sport", undefined, "Sport");
});
after(() => t.close());

describe("publish, then read publicly", () => {
  it("serves a published article with breadcrumb, editors in credit order, tags and approved comment count", async () => {
    const a = await t.addEditor("EDITOR", "Liu Fang");
    const b = await t.addEditor("EDITOR", "Zhao Min");
    const art = await makeArticle(t, {
      headline: "Envoys meet in Chengdu",
      summary: "A short summary.",
      dateline: "CHENGDU",
      source: "Meridian News Agency",
      section: "foreign-affairs",
      body: "<p>First paragraph.</p><p>Second &amp; last.</p>",
      editors: [b.id, a.id],
      tags: ["diplomacy", "sichuan"],
    });
    assert.equal(art.status, "DRAFT");
    assert.equal(art.slug, "envoys-meet-in-chengdu");

    const before = await t.get(`/api/v1/articles/${art.slug}`);
    assert.equal(before.status, 404);
    assert.equal(before.headers["content-type"].split(";")[0], "application/problem+json");

    const pub = await publish(t, art.id, "2013-06-08T14:55:00+08:00");
    assert.equal(pub.status, "PUBLISHED");
    assert.equal(pub.publishedAt, "2013-06-08T06:55:00.000Z");

    const res = await t.get(`/api/v1/articles/${art.slug}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.headline, "Envoys meet in Chengdu");
    assert.equal(res.body.dateline, "CHENGDU");
    assert.equal(res.body.source, "Meridian News Agency");
    assert.equal(res.body.publishedAt, "2013-06-08T06:55:00.000Z");
    assert.deepEqual(res.body.breadcrumb, [
      { slug: "english", name: "English" },
      { slug: "foreign-affairs", name: "Foreign Affairs" },
    ]);
    assert.deepEqual(res.body.section, { slug: "foreign-affairs", name: "Foreign Affairs" });
    assert.deepEqual(res.body.editors, [{ name: "Zhao Min" }, { name: "Liu Fang" }]);
    assert.deepEqual(res.body.tags.map((x: { slug: string }) => x.slug), ["diplomacy", "sichuan"]);
    assert.equal(res.body.bodyText, "First paragraph.\n\nSecond & last.");
    assert.equal(res.body.commentCount, 0);
    assert.equal("status" in res.body, false, "public payload must not expose status");
    assert.equal("id" in res.body, false);
  });

  it("hides drafts, unpublished and archived articles everywhere", async () => {
    const draft = await makeArticle(t, { headline: "Secret draft", section: "china" });
    const gone = await makeArticle(t, { headline: "Briefly live", section: "china" });
    await publish(t, gone.id);
    assert.equal((await t.get("/api/v1/articles/briefly-live")).status, 200);
    const un = await t.post(`/api/v1/admin/articles/${gone.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(un.status, 200);
    assert.equal(un.body.status, "DRAFT");
    for (const slug of [draft.slug, gone.slug]) {
      assert.equal((await t.get(`/api/v1/articles/${slug}`)).status, 404);
      assert.equal((await t.get(`/api/v1/articles/${slug}/comments`)).status, 404);
    }
    const list = await t.get("/api/v1/articles?limit=100");
    const slugs = list.body.data.map((x: { slug: string }) => x.slug);
    assert.ok(!slugs.includes(draft.slug) && !slugs.includes(gone.slug));
  });

  it("lists related stories in editor order, published ones only", async () => {
    const r1 = await makeArticle(t, { headline: "Related one", section: "china" });
    const r2 = await makeArticle(t, { headline: "Related analysis", section: "china", kind: "ANALYSIS" });
    const r3 = await makeArticle(t, { headline: "Related draft", section: "china" });
    await publish(t, r1.id);
    await publish(t, r2.id);
    const main = await makeArticle(t, { headline: "Main story", section: "china", related: [r2.id, r3.id, r1.id] });
    await publish(t, main.id);
    const res = await t.get(`/api/v1/articles/${main.slug}`);
    assert.deepEqual(res.body.related, [
      { slug: r2.slug, headline: "Related analysis", kind: "ANALYSIS", automatic: false },
      { slug: r1.slug, headline: "Related one", kind: "STORY", automatic: false },
    ]);
    // The editor view still shows all three, with their status.
    const adm = await t.get(`/api/v1/admin/articles/${main.id}`, { token: t.editor.token });
    assert.deepEqual(adm.body.related.map((x: { id: number }) => x.id), [r2.id, r3.id, r1.id]);
    assert.equal(adm.body.related[1].status, "DRAFT");
  });

  it("answers 404 problem+json for unknown slugs and sections", async () => {
    const res = await t.get("/api/v1/articles/no-such-story");
    assert.equal(res.status, 404);
    assert.equal(res.body.status, 404);
    assert.equal(res.body.title, "Not Found");
    assert.equal((await t.get("/api/v1/sections/no-such-section")).status, 404);
    assert.equal((await t.get("/api/v1/articles?section=no-such-section")).status, 404);
  });
});

describe("article lists", () => {
  it("pages through every published article newest first with no duplicates or gaps", async () => {
    await makeSection(t, "pages");
    const base = Date.parse("2020-01-01T00:00:00Z");
    const ids: number[] = [];
    for (let i = 0; i < 23; i++) {
      const a = await makeArticle(t, { headline: `Paged ${i}`, section: "pages" });
      // Three share one timestamp: the id breaks the tie.
      const at = new Date(base + Math.min(i, 20) * 60_000).toISOString();
      await publish(t, a.id, at);
      ids.push(a.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: any } = await t.get(`/api/v1/articles?section=pages&limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...res.body.data.map((x: { slug: string }) => x.slug));
      cursor = res.body.meta.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 5);
    assert.equal(seen.length, 23);
    assert.equal(new Set(seen).size, 23);
    const all = await t.get("/api/v1/articles?section=pages&limit=100");
    assert.deepEqual(seen, all.body.data.map((x: { slug: string }) => x.slug));
    const times = all.body.data.map((x: { publishedAt: string }) => Date.parse(x.publishedAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.equal(all.body.meta.nextCursor, null);
  });

  it("filters by section including descendants, by tag and by kind", async () => {
    const inSichuan = await makeArticle(t, { headline: "Panda news", section: "sichuan", tags: ["pandas"], kind: "PHOTO_STORY" });
    const inSport = await makeArticle(t, { headline: "Match report", section: "sport", tags: ["football"] });
    await publish(t, inSichuan.id);
    await publish(t, inSport.id);
    const china = await t.get("/api/v1/articles?section=china&limit=100");
    const slugs = china.body.data.map((x: { slug: string }) => x.slug);
    assert.ok(slugs.includes("panda-news"), "descendant section included");
    assert.ok(!slugs.includes("match-report"));
    const english = await t.get("/api/v1/articles?section=english&limit=100");
    assert.ok(english.body.data.some((x: { slug: string }) => x.slug === "panda-news"));
    const tagged = await t.get("/api/v1/articles?tag=pandas");
    assert.deepEqual(tagged.body.data.map((x: { slug: string }) => x.slug), ["panda-news"]);
    const photos = await t.get("/api/v1/articles?kind=PHOTO_STORY");
    assert.deepEqual(photos.body.data.map((x: { slug: string }) => x.slug), ["panda-news"]);
    assert.deepEqual(photos.body.data[0].section, { slug: "sichuan", name: "Sichuan" });
  });

  it("caps and validates limit and cursor", async () => {
    assert.equal((await t.get("/api/v1/articles?limit=101")).status, 400);
    assert.equal((await t.get("/api/v1/articles?limit=0")).status, 400);
    const bad = await t.get("/api/v1/articles?cursor=not-a-cursor");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, "query.cursor");
    const dflt = await t.get("/api/v1/articles");
    assert.ok(dflt.body.data.length <= 20);
  });
});

describe("sections", () => {
  it("serves the tree and a section with breadcrumb and children", async () => {
    const tree = await t.get("/api/v1/sections");
    assert.equal(tree.status, 200);
    const english = tree.body.data.find((s: { slug: string }) => s.slug === "english");
    assert.deepEqual(english.children.map((c: { slug: string }) => c.slug), ["china", "foreign-affairs"]);
    const china = await t.get("/api/v1/sections/sichuan");
    assert.deepEqual(china.body.breadcrumb.map((s: { slug: string }) => s.slug), ["english", "china", "sichuan"]);
    const c = await t.get("/api/v1/sections/china");
    assert.deepEqual(c.body.children, [{ slug: "sichuan", name: "Sichuan" }]);
  });
});

// Structured data for the article page (issue 9 §4): the public article's
// `jsonLd` is a schema.org NewsArticle as search engines expect it, with
// absolute URLs and ISO 8601 dates, rendered at read time from the stored
// document and the configuration; headlines over 110 characters are cut in
// it and the editor API warns about them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { renderArticle } from "../src/delivery/render.ts";
import { publicView } from "../src/articles/presentation.ts";
import { loadTree } from "../src/sections/service.ts";
import { truncateHeadline, bylinePeople } from "../src/articles/jsonld.ts";
import type { ArticleDoc } from "../src/delivery/read-model.ts";

let t: TestApp;
const SITE = "https://news.example";
const API = "https://api.news.example";
const LOGO = "https://news.example/static/logo.png";
before(async () => {
  t = await startTestApp({
    PUBLIC_SITE_URL: SITE, PUBLIC_API_URL: API, PUBLICATION_NAME: "The Example Courier", PUBLISHER_LOGO_URL: LOGO,
    PERMALINK_PATTERN: "/{section}/{yyyy}/{mm}/{dd}/{slug}",
  });
  await makeSection(t, "world", undefined, "World");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
let n = 0;
const uniq = (s: string) => `${s}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function image(key: string) {
  return t.db.prisma.media.create({
    data: { storageKey: key, mimeType: "image/png", size: 100, width: 64, height: 40, caption: "A caption", credit: "Credit", alt: "Alt" },
  });
}

/** The properties Google's NewsArticle guidelines rely on, checked for shape and absolute URLs. */
function assertNewsArticle(ld: Record<string, any>, a: { links: { canonical: string } }) {
  assert.equal(ld["@context"], "https://schema.org");
  assert.equal(ld["@type"], "NewsArticle");
  assert.equal(typeof ld.headline, "string");
  assert.ok(Array.from(ld.headline as string).length <= 110);
  assert.match(ld.datePublished, ISO);
  assert.match(ld.dateModified, ISO);
  assert.ok(ld.dateModified >= ld.datePublished);
  assert.ok(Array.isArray(ld.author) && ld.author.length > 0);
  for (const au of ld.author) assert.ok(["Person", "Organization"].includes(au["@type"]) && au.name);
  assert.equal(ld.publisher["@type"], "Organization");
  assert.equal(ld.publisher.name, "The Example Courier");
  assert.deepEqual(ld.publisher.logo, { "@type": "ImageObject", url: LOGO });
  assert.deepEqual(ld.mainEntityOfPage, { "@type": "WebPage", "@id": a.links.canonical });
  assert.equal(ld.isAccessibleForFree, true);
  for (const u of [ld.url, ld.mainEntityOfPage["@id"], ld.publisher.url, ...(ld.image ?? [])]) {
    assert.ok(new URL(u).protocol === "https:", `absolute: ${u}`);
  }
}

describe("NewsArticle JSON-LD", () => {
  it("carries the article, its people, publisher, images, section, language and keywords", async () => {
    const lead = await image(`2026/11/${uniq("lead")}.png`);
    const g1 = await image(`2026/11/${uniq("g1")}.png`);
    const a = await makeArticle(t, {
      headline: uniq("Ferry service resumes"), summary: "Crossings restart after the storm.", dateline: "HARBOURTOWN",
      byline: "By Ann Lee and Bo Chen in Harbourtown", source: "Coastal Wire", section: "world", tags: ["transport", "weather"],
      kind: "PHOTO_STORY", leadImage: lead.id, gallery: [{ media: g1.id }, { media: lead.id }],
    });
    await publish(t, a.id, "2026-11-20T08:30:00.000Z");
    const res = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(res.status, 200);
    assert.ok(statementsOf(res) <= 2, "still one read");
    const body = res.body;
    const ld = body.jsonLd;
    assertNewsArticle(ld, body);
    assert.equal(ld.headline, a.headline);
    assert.equal(ld.description, "Crossings restart after the storm.");
    assert.equal(ld.datePublished, "2026-11-20T08:30:00.000Z");
    assert.equal(ld.dateModified, body.updatedAt);
    assert.equal(ld.dateline, "HARBOURTOWN");
    assert.deepEqual(ld.author, [{ "@type": "Person", name: "Ann Lee" }, { "@type": "Person", name: "Bo Chen" }]);
    assert.deepEqual(ld.image, [`${API}/media/${lead.storageKey}`, `${API}/media/${g1.storageKey}`], "lead first, no duplicates");
    assert.equal(ld.articleSection, "World");
    assert.equal(ld.inLanguage, "en");
    assert.equal(ld.url, `${SITE}/world/2026/11/20/${a.slug}`);
    assert.deepEqual(ld.keywords, ["Transport", "Weather"]);
    // Safe in a script element once "<" is escaped, and still the same data.
    const html = JSON.stringify(ld).replace(/</g, "\\u003c");
    assert.ok(!html.includes("<"));
    assert.deepEqual(JSON.parse(html), ld);
  });

  it("credits the agency without a byline, else the publication", async () => {
    const wire = await makeArticle(t, { headline: uniq("Wire copy"), source: "Coastal Wire", section: "world" });
    await publish(t, wire.id);
    const w = (await t.get(`/api/v1/articles/${wire.slug}`)).body;
    assertNewsArticle(w.jsonLd, w);
    assert.deepEqual(w.jsonLd.author, [{ "@type": "Organization", name: "Coastal Wire" }]);
    assert.equal(w.jsonLd.image, undefined, "no image: no property");
    assert.equal(w.jsonLd.keywords, undefined);

    const staff = await makeArticle(t, { headline: uniq("Staff copy"), section: "world" });
    await publish(t, staff.id);
    const s = (await t.get(`/api/v1/articles/${staff.slug}`)).body;
    assert.deepEqual(s.jsonLd.author, [{ "@type": "Organization", name: "The Example Courier", url: SITE }]);
  });

  it("cuts headlines over 110 characters and warns the editor, never failing", async () => {
    const long = `${"A remarkably long headline about the harbour council's decision ".repeat(3)}${uniq("end")}`;
    const a = await makeArticle(t, { headline: long, section: "world" });
    assert.deepEqual(a.warnings.map((w: { code: string }) => w.code), ["headline-too-long"]);
    await publish(t, a.id);
    const body = (await t.get(`/api/v1/articles/${a.slug}`)).body;
    assert.equal(body.headline, long, "the page keeps the full headline");
    const h: string = body.jsonLd.headline;
    assert.ok(Array.from(h).length <= 110);
    assert.ok(h.endsWith("…"));
    assert.ok(long.startsWith(h.slice(0, -1)), "a prefix of the headline");
    assert.ok(!/\s…$/.test(h), "cut at a word, no space before the ellipsis");

    const ok = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: uniq("Short again") },
      { ...ed(), headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.deepEqual(ok.body.warnings, []);
    assert.ok(Array.from((await t.get(`/api/v1/articles/${ok.body.slug}`)).body.jsonLd.headline).length <= 110);
  });

  it("cuts scripts without spaces by character, and keeps surrogate pairs whole", () => {
    const zh = "港".repeat(130);
    const cut = truncateHeadline(zh);
    assert.equal(Array.from(cut.text).length, 110);
    assert.ok(cut.truncated);
    const emoji = "🌊".repeat(120);
    assert.equal(Array.from(truncateHeadline(emoji).text).length, 110);
    assert.ok(!truncateHeadline(emoji).text.includes("\uFFFD"));
    assert.deepEqual(truncateHeadline("Short"), { text: "Short", truncated: false });
    assert.deepEqual(bylinePeople("By Ann Lee, Bo Chen & Cy Diaz"), ["Ann Lee", "Bo Chen", "Cy Diaz"]);
    assert.deepEqual(bylinePeople("韩晓东"), ["韩晓东"]);
    assert.deepEqual(bylinePeople(null), []);
  });

  it("is rendered at read time: configuration applies without a rebuild", async () => {
    const a = await makeArticle(t, { headline: uniq("Config applies"), section: "world" });
    await publish(t, a.id);
    const [row] = await t.db.prisma.$queryRaw<{ doc: ArticleDoc }[]>`SELECT doc FROM "PublishedArticle" WHERE "articleId" = ${a.id}`;
    const tree = await loadTree(t.db.prisma);
    const other = publicView({ ...t.config, PUBLICATION_NAME: "Renamed Daily", PUBLISHER_LOGO_URL: undefined, PUBLIC_SITE_URL: "https://elsewhere.example" });
    const out = renderArticle(row.doc, { status: "PUBLISHED", commentCount: 0 }, tree, other);
    assert.equal(out.jsonLd.publisher.name, "Renamed Daily");
    assert.equal((out.jsonLd.publisher as { logo?: unknown }).logo, undefined, "no PUBLISHER_LOGO_URL: no logo");
    assert.ok(out.jsonLd.url.startsWith("https://elsewhere.example/"));
  });

  it("the draft preview carries the same structured data", async () => {
    const a = await makeArticle(t, { headline: uniq("Preview me"), section: "world", byline: "Dee Ray" });
    const link = await t.post(`/api/v1/admin/articles/${a.id}/preview`, {}, ed());
    const prev = await t.get(link.body.url);
    assert.equal(prev.status, 200);
    assert.equal(prev.body.jsonLd["@type"], "NewsArticle");
    assert.deepEqual(prev.body.jsonLd.author, [{ "@type": "Person", name: "Dee Ray" }]);
    assert.equal(prev.body.jsonLd.datePublished, undefined, "never published");
    assert.equal(prev.body.language, "en");
    assert.deepEqual(prev.body.alternates, []);
  });
});

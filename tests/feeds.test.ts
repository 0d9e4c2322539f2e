// Feeds (issue 9, §2): RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the site, a
// section with its sub-sections, a tag and an editor; parsed with a real feed
// parser (@rowanmanning/feed-parser) and checked well-formed (fast-xml-parser).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseFeed } from "@rowanmanning/feed-parser";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { backfill } from "../src/delivery/read-model.ts";

const SITE = "https://news.example";
const API = "https://api.example";
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

let t: TestApp;
let critic: { id: number };
const ids: Record<string, { id: number; slug: string }> = {};

const ed = () => ({ token: t.editor.token });

before(async () => {
  t = await startTestApp({
    PUBLIC_SITE_URL: SITE, PUBLIC_API_URL: API, PUBLICATION_NAME: "The Test Daily",
    PUBLISHER_LOGO_URL: "https://news.example/logo.png", SITE_LANGUAGE: "en",
  });
  await makeSection(t, "world", undefined, "World");
  await makeSection(t, "asia", "world", "Asia");
  await makeSection(t, "sport", undefined, "Sport");
  critic = await t.addEditor("EDITOR", "Casey Critic");
  const [media] = await t.db.prisma.$queryRaw<{ id: number }[]>`
    INSERT INTO "Media" ("storageKey", "mimeType", size, width, height, caption, credit, alt)
    VALUES ('2026/11/lead.jpg', 'image/jpeg', 1234, 800, 600, 'A harbour & its cranes', 'Photo Desk', 'Cranes')
    RETURNING id`;
  const asia = await makeArticle(t, {
    headline: "Harbour <reopens> & ships return", summary: "Ships are back after the storm.", section: "asia",
    body: "<p>The <b>harbour</b> reopened.</p>", byline: "Ann Reporter", tags: ["storms"], editors: [critic.id], leadImage: media.id,
  });
  await publish(t, asia.id, "2026-11-20T08:00:00Z");
  const world = await makeArticle(t, {
    headline: "World summit opens", summary: "Leaders meet.", section: "world", source: "Wire Agency",
    body: '<p>See <a href="/asia/more">more</a>.</p><figure><img src="/media/2026/11/map.png" alt="Map"></figure>',
  });
  await publish(t, world.id, "2026-11-21T09:30:00Z");
  const sport = await makeArticle(t, { headline: "Derby ends level", summary: "One all.", section: "sport", tags: ["storms"], byline: "By Bo Chen and Cy Diaz" });
  // Its own language (the editor API's field belongs to another change): set before it is published.
  await t.db.prisma.$executeRaw`UPDATE "Article" SET language = 'de' WHERE id = ${sport.id}`;
  await publish(t, sport.id, "2026-11-22T10:00:00Z");
  const draft = await makeArticle(t, { headline: "Secret draft", section: "asia", tags: ["storms"], editors: [critic.id] });
  Object.assign(ids, { asia, world, sport, draft });
});
after(() => t.close());

function wellFormed(res: TestResponse) {
  const v = XMLValidator.validate(res.text);
  assert.equal(v, true, `not well-formed XML: ${JSON.stringify(v)}`);
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" });

describe("RSS 2.0", () => {
  it("the site feed: channel, self link, items with absolute links, dates, body, authors, categories and image", async () => {
    const res = await t.get("/rss.xml");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /^application\/rss\+xml; charset=utf-8/);
    wellFormed(res);
    const doc = xml.parse(res.text);
    const rss = doc.rss;
    assert.equal(rss["@version"], "2.0");
    assert.equal(rss["@xmlns:content"], "http://purl.org/rss/1.0/modules/content/");
    assert.equal(rss["@xmlns:atom"], "http://www.w3.org/2005/Atom");
    const ch = rss.channel;
    assert.equal(ch.title, "The Test Daily");
    assert.equal(ch.link, `${SITE}/`);
    assert.equal(ch.language, "en");
    assert.deepEqual(ch["atom:link"], { "@href": `${SITE}/rss.xml`, "@rel": "self", "@type": "application/rss+xml" });
    assert.match(ch.lastBuildDate, RFC822);
    const items = [ch.item].flat();
    assert.deepEqual(items.map((i: { title: string }) => i.title), ["Derby ends level", "World summit opens", "Harbour <reopens> & ships return"]);
    for (const i of items) {
      assert.match(i.pubDate, RFC822);
      assert.ok(i.link.startsWith(`${SITE}/`), i.link);
    }
    const harbour = items[2];
    assert.equal(harbour.link, `${SITE}/asia/2026/11/20/${ids.asia.slug}`);
    assert.equal(harbour.pubDate, "Fri, 20 Nov 2026 08:00:00 GMT");
    assert.equal(harbour["content:encoded"], "<p>The <b>harbour</b> reopened.</p>");
    assert.equal(harbour.description, "Ships are back after the storm.");
    assert.equal(harbour["dc:creator"], "Ann Reporter");
    assert.equal(harbour["dc:contributor"], "Casey Critic");
    assert.deepEqual(harbour.category, [{ "#text": "Asia", "@domain": `${SITE}/asia` }, "Storms"]);
    assert.equal(harbour.enclosure["@url"], `${API}/media/2026/11/lead.jpg`);
    assert.equal(harbour.enclosure["@type"], "image/jpeg");
    const media = harbour["media:content"];
    assert.equal(media["@xmlns:media"], "http://search.yahoo.com/mrss/");
    assert.equal(media["@url"], `${API}/media/2026/11/lead.jpg`);
    assert.equal(media["@medium"], "image");
    assert.equal(media["@width"], "800");
    assert.equal(media["media:description"]["#text"], "A harbour & its cranes");
    // The agency stands in for a missing byline.
    assert.equal(items[1]["dc:creator"], "Wire Agency");
    assert.deepEqual(items[0]["dc:creator"], ["Bo Chen", "Cy Diaz"]);

    // And a real feed parser reads it so.
    const feed = parseFeed(res.text);
    assert.equal(feed.self, `${SITE}/rss.xml`);
    assert.equal(feed.items.length, 3);
    const h = feed.items[2];
    assert.equal(h.url, `${SITE}/asia/2026/11/20/${ids.asia.slug}`);
    assert.equal(h.published?.toISOString(), "2026-11-20T08:00:00.000Z");
    assert.equal(h.content, "<p>The <b>harbour</b> reopened.</p>");
    assert.deepEqual(h.authors.map((a) => a.name), ["Ann Reporter"]);
    assert.ok(h.categories.some((c) => c.label === "Asia"));
    assert.ok(h.media.some((m) => m.url === `${API}/media/2026/11/lead.jpg` && m.mimeType === "image/jpeg"));
    assert.ok(!feed.items.some((i) => i.title === "Secret draft"), "drafts never appear");
  });

  it("/api/v1/feeds/rss names itself on PUBLIC_API_URL; filters are echoed in a fixed order", async () => {
    const res = await t.get("/api/v1/feeds/rss?tag=storms&language=DE");
    assert.equal(res.status, 200);
    const feed = parseFeed(res.text);
    assert.equal(feed.self, `${API}/api/v1/feeds/rss?language=de&tag=storms`);
    assert.deepEqual(feed.items.map((i) => i.title), ["Derby ends level"]);
    assert.equal(feed.language, "de");
  });
});

describe("Atom 1.0", () => {
  it("entries with ids, RFC 3339 dates, escaped HTML titles, content, authors, contributors, categories and enclosure", async () => {
    const res = await t.get("/atom.xml");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /^application\/atom\+xml; charset=utf-8/);
    wellFormed(res);
    const doc = xml.parse(res.text).feed;
    assert.equal(doc["@xmlns"], "http://www.w3.org/2005/Atom");
    assert.match(doc.updated, RFC3339);
    const links = [doc.link].flat();
    assert.ok(links.some((l: Record<string, string>) => l["@rel"] === "self" && l["@href"] === `${SITE}/atom.xml`));
    const entries = [doc.entry].flat();
    for (const e of entries) {
      assert.match(e.updated, RFC3339);
      assert.match(e.published, RFC3339);
      assert.ok(e.author, "every entry has an author");
    }
    const feed = parseFeed(res.text);
    assert.equal(feed.self, `${SITE}/atom.xml`);
    const h = feed.items.find((i) => i.url?.includes(ids.asia.slug))!;
    assert.equal(h.title, "Harbour <reopens> & ships return");
    assert.equal(h.id, `${SITE}/asia/2026/11/20/${ids.asia.slug}`);
    assert.equal(h.content, "<p>The <b>harbour</b> reopened.</p>");
    assert.equal(h.description, "Ships are back after the storm.");
    assert.deepEqual(h.authors.map((a) => a.name), ["Ann Reporter"]);
    assert.deepEqual(h.categories.map((c) => c.term), ["asia", "storms"]);
    assert.ok(h.media.some((m) => m.url === `${API}/media/2026/11/lead.jpg`));
    const raw = entries.find((e: { id: string }) => e.id.includes(ids.asia.slug));
    const enclosure = [raw.link].flat().find((l: Record<string, string>) => l["@rel"] === "enclosure");
    assert.deepEqual([enclosure["@href"], enclosure["@type"]], [`${API}/media/2026/11/lead.jpg`, "image/jpeg"], "the image's media type, not image/jpg");
    assert.deepEqual([raw.contributor].flat().map((c: { name: string }) => c.name), ["Casey Critic"]);
  });
});

describe("JSON Feed 1.1", () => {
  it("the structure of version 1.1", async () => {
    const res = await t.get("/feed.json");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /^application\/feed\+json; charset=utf-8/);
    const f = JSON.parse(res.text);
    assert.equal(f.version, "https://jsonfeed.org/version/1.1");
    assert.equal(f.title, "The Test Daily");
    assert.equal(f.home_page_url, SITE);
    assert.equal(f.feed_url, `${SITE}/feed.json`);
    assert.equal(f.language, "en");
    assert.ok(Array.isArray(f.authors) && f.authors[0].name === "The Test Daily");
    assert.equal(f.author, undefined, "1.1 has authors, not author");
    assert.equal(f.items.length, 3);
    const ids_ = new Set();
    for (const i of f.items) {
      assert.equal(typeof i.id, "string");
      assert.ok(!ids_.has(i.id));
      ids_.add(i.id);
      assert.ok(i.url.startsWith(`${SITE}/`));
      assert.equal(typeof i.content_html, "string");
      assert.match(i.date_published, RFC3339);
      assert.match(i.date_modified, RFC3339);
      assert.ok(Array.isArray(i.authors) && i.authors.length > 0);
      assert.ok(Array.isArray(i.tags));
    }
    // Root-relative links and images in a body are made absolute.
    const summit = f.items.find((i: { title: string }) => i.title === "World summit opens");
    assert.ok(summit.content_html.includes(`href="${SITE}/asia/more"`), summit.content_html);
    assert.ok(summit.content_html.includes(`src="${API}/media/2026/11/map.png"`), summit.content_html);
    const h = f.items.find((i: { title: string }) => i.title.startsWith("Harbour"));
    assert.equal(h.image, `${API}/media/2026/11/lead.jpg`);
    assert.deepEqual(h.attachments, [{ url: `${API}/media/2026/11/lead.jpg`, mime_type: "image/jpeg", title: "A harbour & its cranes" }]);
    assert.deepEqual(h.tags, ["Asia", "Storms"]);
    assert.equal(h.language, "en");
    assert.equal(f.items.find((i: { title: string }) => i.title === "Derby ends level").language, "de");
    // The byline's people, one author each (as the JSON-LD names them).
    assert.deepEqual(f.items.find((i: { title: string }) => i.title === "Derby ends level").authors, [{ name: "Bo Chen" }, { name: "Cy Diaz" }]);
  });
});

describe("filters", () => {
  const titles = async (path: string) => {
    const res = await t.get(path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return JSON.parse(res.text).items.map((i: { title: string }) => i.title);
  };

  it("a section feed includes its sub-sections", async () => {
    assert.deepEqual(await titles("/api/v1/feeds/json?section=world"), ["World summit opens", "Harbour <reopens> & ships return"]);
    assert.deepEqual(await titles("/api/v1/feeds/json?section=asia"), ["Harbour <reopens> & ships return"]);
    const f = JSON.parse((await t.get("/api/v1/feeds/json?section=world")).text);
    assert.equal(f.title, "The Test Daily — World");
    assert.equal(f.home_page_url, `${SITE}/world`);
  });

  it("tag, author/editor and language feeds", async () => {
    assert.deepEqual(await titles("/api/v1/feeds/json?tag=storms"), ["Derby ends level", "Harbour <reopens> & ships return"]);
    // Credited as desk editor (the draft does not count).
    assert.deepEqual(await titles(`/api/v1/feeds/json?author=${critic.id}`), ["Harbour <reopens> & ships return"]);
    // The author of all three (makeArticle writes as t.editor).
    assert.equal((await titles(`/api/v1/feeds/json?author=${t.editor.id}`)).length, 3);
    assert.deepEqual(await titles("/api/v1/feeds/json?language=de"), ["Derby ends level"]);
    assert.deepEqual(await titles("/api/v1/feeds/json?language=en&section=world"), ["World summit opens", "Harbour <reopens> & ships return"]);
    const f = JSON.parse((await t.get(`/api/v1/feeds/json?author=${critic.id}`)).text);
    assert.equal(f.title, "The Test Daily — Casey Critic");
  });

  it("unknown section, tag or author: 404; an editor with nothing published: 404; bad input: 400", async () => {
    assert.equal((await t.get("/api/v1/feeds/rss?section=nowhere")).status, 404);
    assert.equal((await t.get("/api/v1/feeds/atom?tag=nothing-here")).status, 404);
    assert.equal((await t.get("/api/v1/feeds/json?author=999999")).status, 404);
    assert.equal((await t.get(`/api/v1/feeds/json?author=${t.writer.id}`)).status, 404);
    assert.equal((await t.get("/api/v1/feeds/xml")).status, 400);
    assert.equal((await t.get("/api/v1/feeds/rss?language=not_a_tag")).status, 400);
    assert.equal((await t.get("/api/v1/feeds/rss?author=abc")).status, 400);
    const both = await t.get("/rss.xml?section=world&tag=storms");
    assert.equal(both.status, 400);
    assert.equal(both.body.errors?.[0]?.path ?? both.body.errors?.[0]?.field ?? "query.tag", "query.tag");
  });
});

describe("HTTP caching", () => {
  it("strong ETag, 304, Cache-Control, Surrogate-Key, Last-Modified; one statement", async () => {
    for (const path of ["/rss.xml", "/atom.xml", "/feed.json", "/api/v1/feeds/rss?section=world", "/api/v1/feeds/json?tag=storms", `/api/v1/feeds/atom?author=${critic.id}`]) {
      const first = await t.get(`${path}${path.includes("?") ? "&" : "?"}language=en`);
      assert.equal(first.status, 200, path);
      assert.ok(statementsOf(first) <= 2, `${path}: ${statementsOf(first)} statements`);
      const etag = first.headers.etag;
      assert.match(etag, /^"[^"]+"$/, "strong");
      assert.match(first.headers["cache-control"], /^public, max-age=\d+, s-maxage=\d+/);
      assert.match(first.headers["surrogate-key"], /\barticles\b/);
      assert.match(first.headers["last-modified"], RFC822);
      const again = await t.get(`${path}${path.includes("?") ? "&" : "?"}language=en`, { headers: { "If-None-Match": etag } });
      assert.equal(again.status, 304, path);
      assert.equal(statementsOf(again), 0, "answered from the response cache");
    }
    const site = await t.get("/rss.xml");
    assert.equal(site.headers["last-modified"], "Sun, 22 Nov 2026 10:00:00 GMT", "the newest item's editorial time");
    // If-Modified-Since (without If-None-Match) against Last-Modified: from the cache and on a miss.
    for (const path of ["/rss.xml", "/api/v1/feeds/atom?section=world", "/api/v1/feeds/json?tag=storms&language=de", "/sitemaps/sections.xml"]) {
      const lm = (await t.get(path)).headers["last-modified"];
      const ims = { "If-Modified-Since": lm };
      assert.equal((await t.get(path, { headers: ims })).status, 304, path);
      const earlier = new Date(Date.parse(lm) - 1000).toUTCString();
      assert.equal((await t.get(path, { headers: { "If-Modified-Since": earlier } })).status, 200, path);
      assert.equal((await t.get(path, { headers: { "If-Modified-Since": "not a date" } })).status, 200, path);
      // If-None-Match wins over If-Modified-Since.
      assert.equal((await t.get(path, { headers: { ...ims, "If-None-Match": '"other"' } })).status, 200, path);
    }
    assert.equal(statementsOf(await t.get("/feed.json?section=sport")), 1);
  });

  it("unpublishing drops the story from every cached feed at once", async () => {
    const before = await t.get("/feed.json?tag=storms");
    assert.ok(before.text.includes("Derby ends level"));
    const un = await t.post(`/api/v1/admin/articles/${ids.sport.id}/unpublish`, {}, ed());
    assert.equal(un.status, 200);
    for (const path of ["/feed.json?tag=storms", "/rss.xml", "/atom.xml", "/api/v1/feeds/json?language=de"]) {
      const res = await t.get(path);
      assert.ok(!res.text.includes("Derby ends level"), `${path} still lists it`);
    }
    await publish(t, ids.sport.id, "2026-11-22T10:00:00Z");
    assert.ok((await t.get("/feed.json?tag=storms")).text.includes("Derby ends level"));
  });
});

describe("the newest 50", () => {
  it("at most 50 items, newest first, within the budget", async () => {
    const [{ id: sectionId }] = await t.db.prisma.$queryRaw<{ id: number }[]>`SELECT id FROM "Section" WHERE slug = 'sport'`;
    await t.db.prisma.$executeRaw`
      INSERT INTO "Article" (slug, headline, summary, body, "bodyText", status, "publishedAt", "sectionId", "authorId", "updatedAt")
      SELECT 'bulk-' || n, 'Bulk ' || n, 'Summary ' || n, '<p>Bulk.</p>', 'Bulk.', 'PUBLISHED',
             timestamptz '2026-10-01T00:00:00Z' + n * interval '1 hour', ${sectionId}, ${t.editor.id}, now()
        FROM generate_series(1, 60) AS n`;
    await backfill(t.db.prisma);
    // Written without change events: a query no earlier request cached.
    const res = await t.get("/api/v1/feeds/rss?section=sport&language=en");
    assert.equal(res.status, 200);
    assert.ok(statementsOf(res) <= 2);
    const feed = parseFeed(res.text);
    assert.equal(feed.items.length, 50);
    assert.equal(feed.items[0].title, "Bulk 60");
    assert.equal(feed.items[49].title, "Bulk 11");
    const json = JSON.parse((await t.get("/api/v1/feeds/json?section=sport&language=en")).text);
    assert.equal(json.items.length, 50);
  });
});

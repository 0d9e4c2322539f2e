// Full-text search (src/search, src/delivery/search.ts): a fixed corpus whose
// expected results are derived by hand, so the same assertions hold on PGlite
// and on PostgreSQL (identical results on both).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestEditor } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { SNIPPET_SOURCE_CHARS, parseSearch, snippetHtml } from "../src/search/query.ts";
import { backfillSearch } from "../src/search/index.ts";

let t: TestApp;
let otherWriter: TestEditor;
const ids: Record<string, number> = {};

const ed = () => ({ token: t.editor.token });
const art = (id: number) => `/api/v1/admin/articles/${id}`;

/** Sets an article's own language (the editor API may not take it yet) and re-saves it, so its event re-indexes it. */
async function setLanguage(id: number, language: string) {
  await t.db.prisma.$executeRaw`UPDATE "Article" SET language = ${language} WHERE id = ${id}`;
  const res = await t.patch(art(id), { commentsClosed: true }, { token: t.admin.token, headers: await t.ifMatch(art(id)) });
  assert.equal(res.status, 200, res.text);
}

async function story(key: string, fields: Record<string, unknown>, publishedAt?: string, token?: string) {
  const a = await makeArticle(t, { slug: key, ...fields }, token);
  ids[key] = a.id;
  if (publishedAt) await publish(t, a.id, publishedAt);
  return a;
}

before(async () => {
  t = await startTestApp();
  otherWriter = await t.addEditor("WRITER");
  await makeSection(t, "news", undefined, "News");
  await makeSection(t, "world", "news", "World");
  await makeSection(t, "culture", undefined, "Culture");
  await story("flood-headline", {
    headline: "Floods close the harbour road", summary: "Water rose overnight.", section: "world",
    body: "<p>Crews worked through the night.</p>", tags: ["weather"],
  }, "2026-11-01T10:00:00.000Z");
  await story("flood-body", {
    headline: "Council meets on Tuesday", summary: "Agenda published.", section: "news",
    body: "<p>Residents asked about flooding near the river bank.</p>",
  }, "2026-11-02T10:00:00.000Z");
  await story("bridge", {
    headline: "Harbour bridge reopens", summary: "Traffic returns.", section: "culture", kind: "ANALYSIS",
    body: "<p>The river bank path remains closed after the storm.</p>", tags: ["transport"],
  }, "2026-11-03T10:00:00.000Z");
  await story("fr-inondations", {
    headline: "Les inondations frappent la côte", summary: "Alerte maintenue.", section: "world",
    body: "<p>Les habitants ont quitté leurs maisons.</p>",
  }, "2026-11-04T10:00:00.000Z");
  await setLanguage(ids["fr-inondations"], "fr");
  await story("zh-news", {
    headline: "北京 新闻 发布", summary: "天气", section: "news", body: "<p>北京 今天 下雨</p>",
  }, "2026-11-05T10:00:00.000Z");
  await setLanguage(ids["zh-news"], "zh-Hans");
  await story("markup", {
    headline: "Markup story", summary: "Escaping.", section: "culture",
    body: "<p>Type &lt;script&gt;alert(1)&lt;/script&gt; &amp; a tempest &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;</p>",
  }, "2026-11-06T10:00:00.000Z");
  // Drafts: one by the desk, one by the test's writer.
  await story("flood-draft", { headline: "Floods secret draft", section: "news" });
  await story("writer-draft", { headline: "Secret writer notes", section: "news" }, undefined, t.writer.token);
});
after(() => t.close());

async function search(query: string) {
  const res = await t.get(`/api/v1/search?${query}`);
  assert.equal(res.status, 200, `${query}: ${res.status} ${res.text}`);
  assert.ok(statementsOf(res) <= 2, `${query}: ${statementsOf(res)} statements`);
  return res;
}
const slugs = async (query: string) => (await search(query)).body.data.map((h: { article: { slug: string } }) => h.article.slug);
const q = (text: string, extra = "") => `q=${encodeURIComponent(text)}${extra}`;

describe("public search: matching", () => {
  it("ranks a headline match above a body match, and stems English", async () => {
    assert.deepEqual(await slugs(q("floods")), ["flood-headline", "flood-body"]);
    assert.deepEqual(await slugs(q("flooding")), ["flood-headline", "flood-body"]);
    assert.deepEqual(await slugs(q("FLOOD")), ["flood-headline", "flood-body"]);
    const res = await search(q("floods"));
    const [first, second] = res.body.data;
    assert.ok(first.rank > second.rank, `${first.rank} > ${second.rank}`);
    assert.equal(first.article.headline, "Floods close the harbour road");
    assert.deepEqual(first.article.section, { slug: "world", name: "World" });
    assert.equal(res.body.meta.total, 2);
    assert.equal(res.body.meta.totalIsEstimate, false);
    assert.equal(res.body.meta.nextCursor, null);
  });

  it("stems French in French articles and leaves Chinese to the simple configuration", async () => {
    assert.deepEqual(await slugs(q("inondation")), ["fr-inondations"]);
    assert.deepEqual(await slugs(q("inondation", "&language=fr")), ["fr-inondations"]);
    assert.deepEqual(await slugs(q("inondation", "&language=en")), []);
    assert.deepEqual(await slugs(q("北京")), ["zh-news"]);
    assert.deepEqual(await slugs(q("北京", "&language=zh")), ["zh-news"]);
    assert.deepEqual(await slugs(q("北")), ["zh-news"], "prefix");
    // French stemming on French articles only: "frappe" and "frappent" share a stem there.
    assert.deepEqual(await slugs(q("frappe")), ["fr-inondations"]);
  });

  it("phrases, -word, OR and the prefix of the last word", async () => {
    assert.deepEqual(await slugs(q('"river bank"', "&sort=newest")), ["bridge", "flood-body"]);
    assert.deepEqual(await slugs(q('"bank river"')), []);
    assert.deepEqual(await slugs(q("river -bridge")), ["flood-body"]);
    assert.deepEqual(await slugs(q("tuesday OR reopens", "&sort=newest")), ["bridge", "flood-body"]);
    assert.deepEqual(await slugs(q("harb", "&sort=newest")), ["bridge", "flood-headline"]);
    assert.deepEqual(await slugs(q("harbour bri")), ["bridge"]);
    // A finished word is not a prefix.
    assert.deepEqual(await slugs(q("harb ")), []);
    // Unbalanced quote: a phrase to the end.
    assert.deepEqual(await slugs(q('"river ban')), []);
    assert.deepEqual(await slugs(q('"river bank', "&sort=newest")), ["bridge", "flood-body"]);
  });

  it("stop words only, punctuation, emoji and SQL give 200 and nothing", async () => {
    for (const text of ["the", "the and of", "!!!", "💥🇨🇳", "' OR '1'='1' --", "\"; DROP TABLE \"Article\"; --", "a:* & b", "(((", "-", "OR", "\"\""]) {
      const res = await search(q(text));
      assert.ok(Array.isArray(res.body.data), text);
    }
    assert.deepEqual(await slugs(q("the")), []);
  });

  it("never finds drafts", async () => {
    assert.deepEqual(await slugs(q("secret")), []);
    assert.deepEqual(await slugs(q("floods secret")), []);
  });
});

describe("public search: filters, sorting and paging", () => {
  it("section (with sub-sections), kind, tag, language and dates", async () => {
    assert.deepEqual(await slugs(q("floods", "&section=news")), ["flood-headline", "flood-body"]);
    assert.deepEqual(await slugs(q("floods", "&section=world")), ["flood-headline"]);
    assert.deepEqual(await slugs(q("floods", "&section=culture")), []);
    assert.equal((await t.get(`/api/v1/search?${q("floods", "&section=nowhere")}`)).status, 404);
    assert.deepEqual(await slugs(q("river", "&kind=ANALYSIS")), ["bridge"]);
    assert.deepEqual(await slugs(q("floods", "&tag=weather")), ["flood-headline"]);
    assert.deepEqual(await slugs(q("floods", "&tag=transport")), []);
    assert.deepEqual(await slugs(q("river", "&language=en&sort=newest")), ["bridge", "flood-body"]);
    assert.deepEqual(await slugs(q("river", "&from=2026-11-03")), ["bridge"]);
    assert.deepEqual(await slugs(q("river", "&to=2026-11-02")), ["flood-body"], "a date as `to` includes its day");
    assert.deepEqual(await slugs(q("river", "&to=2026-11-02T09:59:59Z")), []);
    assert.deepEqual(await slugs(q("river", "&from=2026-11-02T10:00:00%2B00:00&to=2026-11-02T10:00:00Z")), ["flood-body"]);
  });

  it("pages by cursor in both orders, without gaps or repeats", async () => {
    const text = "floods OR river OR harbour OR tempest";
    for (const sort of ["relevance", "newest"]) {
      const all = await slugs(q(text, `&sort=${sort}`));
      assert.equal(all.length, 4, `${sort}: ${all}`);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        assert.ok(paged.length <= all.length, `${sort}: paging does not end: ${paged}`);
        const res = await search(q(text, `&sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ""}`));
        assert.equal(res.body.meta.total, 4);
        paged.push(...res.body.data.map((h: { article: { slug: string } }) => h.article.slug));
        cursor = res.body.meta.nextCursor;
      } while (cursor);
      assert.deepEqual(paged, all, sort);
    }
    assert.deepEqual(await slugs(q(text, "&sort=newest")), ["markup", "bridge", "flood-body", "flood-headline"]);
    // A relevance cursor is refused for sort=newest, and garbage too.
    const first = await search(q(text, "&limit=1"));
    const bad = await t.get(`/api/v1/search?${q(text, `&sort=newest&cursor=${first.body.meta.nextCursor}`)}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, "query.cursor");
    assert.equal((await t.get(`/api/v1/search?${q(text, "&cursor=bm9wZQ")}`)).status, 400);
  });

  it("rejects what it cannot take with a 400 naming the field", async () => {
    for (const [query, field] of [
      ["", "query.q"], [q(""), "query.q"], [q("   "), "query.q"], [q("x".repeat(501)), "query.q"],
      [q("x", "&sort=best"), "query.sort"], [q("x", "&from=yesterday"), "query.from"], [q("x", "&language=english!"), "query.language"],
      [q("x", "&limit=51"), "query.limit"], [q("x", "&from=2026-11-05&to=2026-11-01"), "query.to"],
    ] as const) {
      const res = await t.get(`/api/v1/search?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.status}`);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === field), `${query}: ${JSON.stringify(res.body.errors)}`);
    }
    assert.equal((await search(q("x".repeat(500)))).body.data.length, 0);
  });
});

describe("public search: snippets", () => {
  it("highlights matches with <mark> only", async () => {
    const res = await search(q("floods"));
    const body = res.body.data.find((h: { article: { slug: string } }) => h.article.slug === "flood-body");
    assert.equal(body.snippet, "Residents asked about <mark>flooding</mark> near the river bank");
    // A headline-only match shows the body's beginning.
    const head = res.body.data.find((h: { article: { slug: string } }) => h.article.slug === "flood-headline");
    assert.equal(head.snippet, "Crews worked through the night.");
  });

  it("takes snippets from the body's opening (SNIPPET_SOURCE_CHARS, cut at a whole word) and follows edits", async () => {
    // 30 words of filler (~300 characters) per paragraph: the opening holds "zephyr", "quokka" lies past it.
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `filler${i % 7} text`).join(" ");
    const body = `<p>Opening zephyr line ${filler(40)}.</p><p>${filler(80)} quokka appears late.</p>`;
    const a = await story("long-snippet", { headline: "Long snippet story", summary: "Long.", section: "culture", body }, "2026-11-07T10:00:00.000Z");
    const row = async () => (await t.db.prisma.articleSearch.findUniqueOrThrow({ where: { articleId: a.id } })).snippetSource;
    const source = await row();
    assert.ok(source.length <= SNIPPET_SOURCE_CHARS && source.length > SNIPPET_SOURCE_CHARS - 30, `${source.length}`);
    assert.ok(source.startsWith("Opening zephyr line"), source.slice(0, 40));
    // Cut back to a whole word: the source is a prefix of the text ending where a word ends.
    const text = (await t.db.prisma.article.findUniqueOrThrow({ where: { id: a.id } })).bodyText;
    assert.ok(text.startsWith(source) && /\s/.test(text[source.length]), JSON.stringify(text.slice(source.length - 5, source.length + 5)));
    const early = (await search(q("zephyr"))).body.data;
    assert.match(early[0].snippet, /<mark>zephyr<\/mark>/);
    // A match past the opening is found; its snippet shows the opening.
    const late = (await search(q("quokka"))).body.data;
    assert.deepEqual(late.map((h: { article: { slug: string } }) => h.article.slug), ["long-snippet"]);
    assert.ok(late[0].snippet.startsWith("Opening zephyr line") && !late[0].snippet.includes("<mark>"), late[0].snippet);
    // An edit rewrites the snippet source in the same transaction.
    const res = await t.patch(art(a.id), { body: "<p>Rewritten quokka opening.</p>" }, { token: t.admin.token, headers: await t.ifMatch(art(a.id)) });
    assert.equal(res.status, 200, res.text);
    assert.equal(await row(), "Rewritten quokka opening.");
    assert.equal((await search(q("quokka"))).body.data[0].snippet, "Rewritten <mark>quokka</mark> opening");
    // To the trash, out of the other tests' results.
    const gone = await t.del(art(a.id), { token: t.admin.token, headers: await t.ifMatch(art(a.id)) });
    assert.ok(gone.status === 200 || gone.status === 204, gone.text);
  });

  it("escapes the text's own markup: no element but <mark> can appear", async () => {
    const res = await search(q("tempest"));
    assert.equal(res.body.data.length, 1);
    const snippet: string = res.body.data[0].snippet;
    assert.match(snippet, /<mark>tempest<\/mark>/);
    assert.doesNotMatch(snippet.replace(/<\/?mark>/g, ""), /[<>]/, snippet);
    assert.doesNotMatch(snippet, /<script|<b>/);
  });

  it("snippetHtml: markers become balanced <mark>, everything else is escaped", () => {
    assert.equal(snippetHtml("a \uE000b\uE001 <c> & \"d\" 'e'"), "a <mark>b</mark> &lt;c&gt; &amp; &quot;d&quot; &#39;e&#39;");
    assert.equal(snippetHtml("\uE001x\uE000y"), "x<mark>y</mark>");
    assert.equal(snippetHtml("\uE000\uE000x\uE001\uE001"), "<mark>x</mark>");
    assert.equal(snippetHtml(null), "");
  });

  it("parseSearch: the prefix word is a bare last word outside quotes", () => {
    assert.deepEqual(parseSearch("harbour bri"), { text: "harbour bri", last: "bri" });
    assert.deepEqual(parseSearch("harbour bri "), { text: "harbour bri", last: null });
    assert.deepEqual(parseSearch('"harbour bri'), { text: '"harbour bri', last: null });
    assert.deepEqual(parseSearch("harbour -bri"), { text: "harbour -bri", last: null });
    assert.deepEqual(parseSearch("harbour OR"), { text: "harbour OR", last: null });
    assert.deepEqual(parseSearch("x:*"), { text: "x:*", last: null });
    assert.deepEqual(parseSearch("北京"), { text: "北京", last: "北京" });
  });
});

describe("public search: freshness and cost", () => {
  it("answers from the cache, and an unpublish removes the hit at once", async () => {
    const first = await search(q("reopens"));
    assert.deepEqual(first.body.data.map((h: { article: { slug: string } }) => h.article.slug), ["bridge"]);
    const again = await search(q("reopens"));
    assert.equal(statementsOf(again), 0, "answered from the response cache");
    assert.match(again.headers["surrogate-key"], /\barticles\b/);
    assert.match(again.headers["surrogate-key"], new RegExp(`\\barticle:${ids.bridge}\\b`));
    assert.equal((await t.post(`/api/v1/admin/articles/${ids.bridge}/unpublish`, {}, ed())).status, 200);
    assert.deepEqual(await slugs(q("reopens")), []);
    await publish(t, ids.bridge, "2026-11-03T10:00:00.000Z");
    assert.deepEqual(await slugs(q("reopens")), ["bridge"]);
    // An edit is searchable at once.
    const res = await t.patch(art(ids.bridge), { summary: "Ferries return." }, { token: t.editor.token, headers: await t.ifMatch(art(ids.bridge)) });
    assert.equal(res.status, 200);
    assert.deepEqual(await slugs(q("ferries")), ["bridge"]);
    assert.deepEqual(await slugs(q("traffic")), []);
  });

  it("a trashed article leaves the results, a purged one its index row", async () => {
    const a = await story("temporary", { headline: "Temporary quokka story", section: "news" }, "2026-11-07T10:00:00.000Z");
    assert.deepEqual(await slugs(q("quokka")), ["temporary"]);
    assert.equal((await t.del(art(a.id), { token: t.editor.token, headers: await t.ifMatch(art(a.id)) })).status, 204);
    assert.deepEqual(await slugs(q("quokka")), []);
    assert.equal((await t.post(`${art(a.id)}/purge`, {}, { token: t.admin.token })).status, 204);
    const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "ArticleSearch" WHERE "articleId" = ${a.id}`;
    assert.equal(rows[0].n, 0);
  });
});

describe("editor API: ?q=", () => {
  const adminSearch = async (text: string, token: string, extra = "") => {
    const res = await t.get(`/api/v1/admin/articles?${q(text, extra)}`, { token });
    assert.equal(res.status, 200, res.text);
    return res;
  };
  const adminSlugs = async (text: string, token: string, extra = "") =>
    (await adminSearch(text, token, extra)).body.data.map((a: { slug: string }) => a.slug);

  it("finds drafts, ranked, with the list's filters", async () => {
    // Two headline matches (the shorter document first: ranks are length-normalized), then a body match.
    assert.deepEqual(await adminSlugs("floods", t.editor.token), ["flood-draft", "flood-headline", "flood-body"]);
    assert.deepEqual(await adminSlugs("floods", t.editor.token, "&status=DRAFT"), ["flood-draft"]);
    assert.deepEqual(await adminSlugs("floods", t.editor.token, "&section=world"), ["flood-headline"]);
    // Equal ranks (same weight, same length): the newer id first.
    assert.deepEqual(await adminSlugs("secret", t.editor.token), ["writer-draft", "flood-draft"]);
    const res = await adminSearch("flooding", t.editor.token);
    assert.equal(res.body.meta.total, 3);
    assert.deepEqual(res.body.meta.hits.map((h: { id: number }) => h.id), res.body.data.map((a: { id: number }) => a.id));
    const body = res.body.meta.hits.find((h: { id: number }) => h.id === ids["flood-body"]);
    assert.equal(body.snippet, "Residents asked about <mark>flooding</mark> near the river bank");
    // Without q: the usual list, by id.
    const plain = await t.get("/api/v1/admin/articles?limit=2", ed());
    assert.equal(plain.body.meta.total, undefined);
  });

  it("keeps other people's drafts from writers", async () => {
    assert.deepEqual(await adminSlugs("secret", t.writer.token), ["writer-draft"]);
    assert.deepEqual(await adminSlugs("secret", otherWriter.token), []);
    // Published articles are readable by every writer.
    assert.deepEqual(await adminSlugs("reopens", otherWriter.token), ["bridge"]);
  });

  it("pages by cursor", async () => {
    const all = await adminSlugs("floods OR river OR secret", t.editor.token);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      assert.ok(paged.length <= all.length, `paging does not end: ${paged}`);
      const res = await adminSearch("floods OR river OR secret", t.editor.token, `&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      paged.push(...res.body.data.map((a: { slug: string }) => a.slug));
      cursor = res.body.meta.nextCursor;
    } while (cursor);
    assert.deepEqual(paged, all);
    assert.equal(all.length, 5);
  });
});

describe("index maintenance", () => {
  it("a section's language re-indexes the articles that inherit it", async () => {
    await makeSection(t, "monde", undefined, "Monde");
    const a = await story("fr-section", { headline: "Les pompiers éteignent les incendies", section: "monde" }, "2026-11-08T10:00:00.000Z");
    // English stemming: "incendies" is indexed as "incendi".
    assert.deepEqual(await slugs(q("incendie", "&language=fr")), []);
    await t.db.prisma.$executeRaw`UPDATE "Section" SET language = 'fr' WHERE slug = 'monde'`;
    const sec = await t.get("/api/v1/admin/sections", { token: t.admin.token });
    const monde = sec.body.data.find((s: { slug: string }) => s.slug === "monde");
    const path = `/api/v1/admin/sections/${monde.id}`;
    const res = await t.patch(path, { description: "Actualité" }, { token: t.admin.token, headers: await t.ifMatch(path) });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(await slugs(q("incendie", "&language=fr")), ["fr-section"]);
    const rows = await t.db.prisma.$queryRaw<{ language: string; config: string }[]>`
      SELECT language, config FROM "ArticleSearch" WHERE "articleId" = ${a.id}`;
    assert.deepEqual(rows[0], { language: "fr", config: "french" });
  });

  it("the start-up backfill indexes rows written without events", async () => {
    const found = async () => (await t.get(`/api/v1/admin/articles?q=tuesday`, ed())).body.data.map((a: { slug: string }) => a.slug);
    assert.deepEqual(await found(), ["flood-body"]);
    await t.db.prisma.$executeRaw`DELETE FROM "ArticleSearch" WHERE "articleId" = ${ids["flood-body"]}`;
    assert.deepEqual(await found(), []);
    assert.equal(await backfillSearch(t.db.prisma, "en"), 1);
    assert.equal(await backfillSearch(t.db.prisma, "en"), 0);
    assert.deepEqual(await found(), ["flood-body"]);
    const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "Article" a WHERE NOT EXISTS (SELECT 1 FROM "ArticleSearch" s WHERE s."articleId" = a.id)`;
    assert.equal(rows[0].n, 0);
  });
});

// Languages and editions (issue 9 §5) and the editorial updatedAt (§4): the
// article's and section's language (validated, normalized, inherited article
// -> section chain -> SITE_LANGUAGE), translation groups with reciprocal
// alternates that stay fresh through publish, unpublish, slug changes and
// leaving the group, the ?language= filter on public lists, and the public
// updatedAt that moves only on a significant update.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { backfill, configureReadModel } from "../src/delivery/read-model.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({ PUBLIC_SITE_URL: "https://news.example", PERMALINK_PATTERN: "/{section}/{slug}" });
  await makeSection(t, "world", undefined, "World");
  const fr = await t.post("/api/v1/admin/sections", { slug: "edition-fr", name: "Édition française", language: "fr" }, { token: t.admin.token });
  assert.equal(fr.status, 201);
  assert.equal(fr.body.language, "fr");
  await makeSection(t, "monde", "edition-fr", "Monde");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
const art = (id: number) => `/api/v1/admin/articles/${id}`;
const matched = async (path: string, token = t.editor.token) => ({ token, headers: await t.ifMatch(path) });
const pub = (slug: string) => t.get(`/api/v1/articles/${slug}`);
let n = 0;
const uniq = (s: string) => `${s}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function live(fields: Record<string, unknown>) {
  const a = await makeArticle(t, { headline: uniq("Story"), section: "world", ...fields });
  await publish(t, a.id);
  return a;
}

async function rowLanguage(id: number) {
  const [r] = await t.db.prisma.$queryRaw<{ language: string | null }[]>`SELECT language FROM "PublishedArticle" WHERE "articleId" = ${id}`;
  return r?.language;
}

describe("validation", () => {
  it("answers 400 with the field for malformed language tags, and normalizes good ones", async () => {
    for (const bad of ["english", "e", "en_US", "zh-Hans-", "x".repeat(40), "12", "en--US"]) {
      const res = await t.post("/api/v1/admin/articles", { headline: "Bad tag", section: "world", language: bad }, ed());
      assert.equal(res.status, 400, bad);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === "body.language"), `${bad}: ${JSON.stringify(res.body.errors)}`);
    }
    const notString = await t.post("/api/v1/admin/articles", { headline: "Bad tag", section: "world", language: 7 }, ed());
    assert.equal(notString.status, 400);

    const a = await makeArticle(t, { headline: uniq("Normalized"), section: "world", language: "zh-hans-cn" });
    assert.equal(a.language, "zh-Hans-CN");
    const cleared = await t.patch(art(a.id), { language: null }, await matched(art(a.id)));
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.language, null);

    const sec = await t.post("/api/v1/admin/sections", { slug: uniq("bad-sec"), name: "Bad", language: "fr_FR" }, { token: t.admin.token });
    assert.equal(sec.status, 400);
    assert.ok(sec.body.errors.some((e: { path: string }) => e.path === "body.language"));

    for (const path of ["/api/v1/articles?language=fr_FR", "/api/v1/latest?language=1", "/api/v1/popular?language=english",
      "/api/v1/sections/world/front?language=-"]) {
      const res = await t.get(path);
      assert.equal(res.status, 400, path);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === "query.language"), path);
    }
  });

  it("rejects a translation of itself or of an unknown article, and significantUpdate on a draft", async () => {
    const a = await makeArticle(t, { headline: uniq("Lonely"), section: "world" });
    const self = await t.patch(art(a.id), { translationOf: a.id }, await matched(art(a.id)));
    assert.equal(self.status, 400);
    assert.equal(self.body.errors[0].path, "body.translationOf");
    const unknown = await t.post("/api/v1/admin/articles", { headline: "Orphan", section: "world", translationOf: 999999 }, ed());
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].path, "body.translationOf");
    const draft = await t.patch(art(a.id), { significantUpdate: true }, await matched(art(a.id)));
    assert.equal(draft.status, 400);
    assert.equal(draft.body.errors[0].path, "body.significantUpdate");
  });
});

describe("inheritance: article, then section chain, then SITE_LANGUAGE", () => {
  it("gives every document its effective language, in the read model too", async () => {
    const site = await live({});
    const inherited = await live({ section: "monde" });
    const own = await live({ section: "monde", language: "de-CH" });
    assert.equal((await pub(site.slug)).body.language, "en");
    assert.equal((await pub(inherited.slug)).body.language, "fr", "from the parent section edition-fr");
    assert.equal((await pub(own.slug)).body.language, "de-CH");
    assert.equal((await pub(inherited.slug)).body.jsonLd.inLanguage, "fr");
    assert.equal(await rowLanguage(site.id), "en");
    assert.equal(await rowLanguage(inherited.id), "fr");
    assert.equal(await rowLanguage(own.id), "de-CH");
    // Public sections show their effective language (an edition page's <html lang>).
    assert.equal((await t.get("/api/v1/sections/monde")).body.language, "fr");
    const tree = (await t.get("/api/v1/sections")).body.data;
    const bySlug = Object.fromEntries(tree.map((x: { slug: string; language: string }) => [x.slug, x.language]));
    assert.equal(bySlug.world, "en");
    assert.equal(bySlug["edition-fr"], "fr");
  });

  it("rebuilds the inheriting documents when a section's language changes (and caches follow)", async () => {
    const sec = await makeSection(t, uniq("regional"), "edition-fr", "Régional");
    const inherited = await live({ section: sec.slug });
    const own = await live({ section: sec.slug, language: "br" });
    assert.equal((await pub(inherited.slug)).body.language, "fr");
    assert.equal((await t.get(`/api/v1/sections/${sec.slug}`)).body.language, "fr");
    const path = `/api/v1/admin/sections/${sec.id}`;
    const res = await t.patch(path, { language: "oc" }, { token: t.admin.token, headers: await t.ifMatch(path) });
    assert.equal(res.status, 200);
    assert.equal(res.body.language, "oc");
    assert.equal((await pub(inherited.slug)).body.language, "oc", "read again after the write: the new document");
    assert.equal((await t.get(`/api/v1/sections/${sec.slug}`)).body.language, "oc");
    assert.equal((await pub(own.slug)).body.language, "br");
    assert.equal(await rowLanguage(inherited.id), "oc");
    // Cleared: the parent's again.
    const back = await t.patch(path, { language: null }, { token: t.admin.token, headers: await t.ifMatch(path) });
    assert.equal(back.body.language, null);
    assert.equal((await pub(inherited.slug)).body.language, "fr");
    // Moved out of the French edition: the site's.
    await t.patch(path, { parent: null }, { token: t.admin.token, headers: await t.ifMatch(path) });
    assert.equal((await pub(inherited.slug)).body.language, "en");
  });

  it("the start-up backfill rebuilds documents whose language is not the effective one", async () => {
    const a = await live({ language: "it" });
    await t.db.prisma.$executeRaw`UPDATE "PublishedArticle" SET language = NULL WHERE "articleId" = ${a.id}`;
    await t.db.prisma.$executeRaw`UPDATE "Article" SET language = 'pt-BR' WHERE id = ${a.id}`;
    await backfill(t.db.prisma);
    assert.equal(await rowLanguage(a.id), "pt-BR");
  });

  it("a changed SITE_LANGUAGE is applied by the start-up backfill to the documents inheriting it", async () => {
    const site = await live({});
    const own = await live({ language: "en-GB" });
    try {
      configureReadModel({ SITE_LANGUAGE: "sv" });
      await backfill(t.db.prisma);
      assert.equal(await rowLanguage(site.id), "sv");
      assert.equal(await rowLanguage(own.id), "en-GB");
    } finally {
      configureReadModel(t.config);
      await backfill(t.db.prisma);
    }
    assert.equal(await rowLanguage(site.id), "en");
    assert.equal((await pub(site.slug)).body.language, "en");
  });
});

describe("translations: reciprocal alternates", () => {
  const langs = (body: { alternates: { language: string }[] }) => body.alternates.map((x) => x.language);

  it("links both ways with absolute permalinks and an x-default in the site language", async () => {
    const en = await live({ headline: uniq("Summit opens") });
    // Joining creates the group on the article named (which is written too).
    const frDraft = await makeArticle(t, { headline: uniq("Le sommet"), section: "monde", translationOf: en.id });
    const enAdmin = (await t.get(art(en.id), ed())).body;
    assert.equal(enAdmin.translationGroup, `tg-${en.id}`);
    assert.equal(frDraft.translationGroup, enAdmin.translationGroup);
    assert.equal(enAdmin.version, en.version + 2, "publish, then joined by the translation");
    const revs = (await t.get(`${art(en.id)}/revisions`, ed())).body.data;
    assert.equal(revs[0].action, "translation-linked");
    assert.deepEqual(revs[0].changedFields, ["translationGroup"]);
    assert.deepEqual((await pub(en.slug)).body.alternates, [], "a draft translation is not listed");
    // The desk finds the versions of a story by its group, drafts included.
    const members = await t.get(`/api/v1/admin/articles?translationGroup=${enAdmin.translationGroup}`, ed());
    assert.deepEqual(members.body.data.map((x: { id: number }) => x.id).sort(), [en.id, frDraft.id].sort());

    await publish(t, frDraft.id);
    const a = (await pub(en.slug)).body;
    const b = (await pub(frDraft.slug)).body;
    assert.deepEqual(langs(a), ["en", "fr", "x-default"]);
    assert.deepEqual(langs(b), ["en", "fr", "x-default"]);
    assert.deepEqual(a.alternates, b.alternates, "the same set from both sides");
    assert.equal(a.alternates[0].url, `https://news.example/world/${en.slug}`);
    assert.equal(a.alternates[1].url, `https://news.example/monde/${frDraft.slug}`);
    assert.equal(a.alternates[2].url, a.alternates[0].url, "x-default: the SITE_LANGUAGE version");
    assert.equal(a.alternates[0].url, a.links.canonical);
    // A third language joins through any member.
    const de = await live({ headline: uniq("Der Gipfel"), language: "de", translationOf: frDraft.id });
    assert.deepEqual(langs((await pub(en.slug)).body), ["de", "en", "fr", "x-default"]);
    assert.deepEqual(langs((await pub(frDraft.slug)).body), ["de", "en", "fr", "x-default"]);
    assert.deepEqual(langs((await pub(de.slug)).body), ["de", "en", "fr", "x-default"]);
  });

  it("stays fresh through unpublish, slug change and leaving the group (read, change, read again)", async () => {
    const en = await live({ headline: uniq("Harbour reopens") });
    const fr = await live({ headline: uniq("Le port rouvre"), section: "monde", translationOf: en.id });
    assert.deepEqual(langs((await pub(en.slug)).body), ["en", "fr", "x-default"]);

    assert.equal((await t.post(`/api/v1/admin/articles/${fr.id}/unpublish`, {}, ed())).status, 200);
    assert.deepEqual((await pub(en.slug)).body.alternates, [], "the unpublished translation is gone at once");

    await publish(t, fr.id);
    assert.deepEqual(langs((await pub(en.slug)).body), ["en", "fr", "x-default"]);

    const slug = uniq("le-port-a-rouvert");
    assert.equal((await t.patch(art(fr.id), { slug }, await matched(art(fr.id)))).status, 200);
    const after = (await pub(en.slug)).body;
    assert.equal(after.alternates[1].slug, slug);
    assert.equal(after.alternates[1].url, `https://news.example/monde/${slug}`);

    // The English one changes slug: the French document follows.
    const enSlug = uniq("harbour-reopened");
    assert.equal((await t.patch(art(en.id), { slug: enSlug }, await matched(art(en.id)))).status, 200);
    assert.equal((await pub(slug)).body.alternates[0].url, `https://news.example/world/${enSlug}`);

    assert.equal((await t.patch(art(fr.id), { translationOf: null }, await matched(art(fr.id)))).status, 200);
    assert.deepEqual((await pub(enSlug)).body.alternates, [], "left the group");
    assert.deepEqual((await pub(slug)).body.alternates, []);

    // Trashing a member drops it too.
    assert.equal((await t.patch(art(fr.id), { translationOf: en.id }, await matched(art(fr.id)))).status, 200);
    assert.deepEqual(langs((await pub(enSlug)).body), ["en", "fr", "x-default"]);
    assert.equal((await t.del(art(fr.id), await matched(art(fr.id)))).status, 204);
    assert.deepEqual((await pub(enSlug)).body.alternates, []);
  });

  it("follows a translation's language change, and lists one article per language", async () => {
    const en = await live({ headline: uniq("Rail link") });
    const es = await live({ headline: uniq("Enlace"), language: "es", translationOf: en.id });
    const es2 = await live({ headline: uniq("Enlace bis"), language: "es", translationOf: en.id });
    const listed = (await pub(en.slug)).body.alternates;
    assert.deepEqual(langs({ alternates: listed }), ["en", "es", "x-default"]);
    assert.equal(listed[1].slug, es.slug, "the first published of a language");
    assert.equal((await t.patch(art(es2.id), { language: "es-419" }, await matched(art(es2.id)))).status, 200);
    assert.deepEqual(langs((await pub(en.slug)).body), ["en", "es", "es-419", "x-default"]);
    assert.deepEqual(langs((await pub(es.slug)).body), ["en", "es", "es-419", "x-default"]);
  });

  it("stays reciprocal when two members are written at the same time", async () => {
    const en = await live({ headline: uniq("Parallel") });
    const fr = await live({ headline: uniq("En parallèle"), section: "monde", translationOf: en.id });
    for (let i = 0; i < 3; i++) {
      const enSlug = uniq("parallel");
      const frLang = i % 2 ? "fr" : "fr-CA";
      const [x, y] = await Promise.all([
        t.patch(art(en.id), { slug: enSlug }, await matched(art(en.id))),
        t.patch(art(fr.id), { language: frLang }, await matched(art(fr.id))),
      ]);
      assert.equal(x.status, 200);
      assert.equal(y.status, 200);
      const a = (await pub(enSlug)).body.alternates;
      const b = (await pub(fr.slug)).body.alternates;
      assert.deepEqual(a, b, "both list the same, current set");
      assert.ok(a.some((l: { language: string; slug: string }) => l.language === frLang && l.slug === fr.slug));
      assert.ok(b.some((l: { slug: string; language: string }) => l.slug === enSlug && l.language === "en"));
    }
  });

  it("x-default is the article itself when no version is in SITE_LANGUAGE", async () => {
    const fr = await live({ headline: uniq("Seulement"), section: "monde" });
    const de = await live({ headline: uniq("Nur"), language: "de", translationOf: fr.id });
    const a = (await pub(fr.slug)).body.alternates;
    const b = (await pub(de.slug)).body.alternates;
    assert.equal(a.find((x: { language: string }) => x.language === "x-default").slug, fr.slug);
    assert.equal(b.find((x: { language: string }) => x.language === "x-default").slug, de.slug);
  });

  it("records language changes in revisions and the audit log", async () => {
    const a = await makeArticle(t, { headline: uniq("Revised"), section: "world" });
    await t.patch(art(a.id), { language: "nl" }, await matched(art(a.id)));
    const revs = await t.get(`${art(a.id)}/revisions`, ed());
    const latest = await t.get(`${art(a.id)}/revisions/${revs.body.data[0].number}`, ed());
    assert.equal(latest.body.content.language, "nl");
    assert.deepEqual(latest.body.changedFields, ["language"]);
    const log = await t.get(`/api/v1/admin/audit?targetType=article&targetId=${a.id}`, { token: t.admin.token });
    assert.equal(log.status, 200);
    assert.ok(log.body.data.some((e: { details: { changed?: string[] } | null }) => e.details?.changed?.includes("language")));
    // Restoring the first revision brings the language back.
    await t.post(`${art(a.id)}/revisions/1/restore`, {}, await matched(art(a.id)));
    assert.equal((await t.get(art(a.id), ed())).body.language, null);
  });
});

describe("?language= on public lists", () => {
  it("filters /articles, /latest, /popular and section fronts within the statement budget", async () => {
    const tag = uniq("lang-filter");
    const en = await live({ headline: uniq("English one"), tags: [tag] });
    const zh = await live({ headline: uniq("Chinese one"), language: "zh-Hans", tags: [tag] });
    const fr = await live({ headline: uniq("French one"), section: "monde", tags: [tag] });
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    for (const a of [en, zh, fr]) await t.db.prisma.articleViewHourly.create({ data: { articleId: a.id, hour, views: 3 } });
    const slugs = (res: { body: { data: { slug: string }[] } }) => res.body.data.map((x) => x.slug);
    const check = async (path: string, want: string[], not: string[]) => {
      const res = await t.get(path);
      assert.equal(res.status, 200, path);
      assert.ok(statementsOf(res) <= 2, `${path}: ${statementsOf(res)} statements`);
      const got = res.body.data ? slugs(res) : [res.body.lead, ...res.body.stories].filter(Boolean).map((x: { slug: string }) => x.slug);
      for (const s of want) assert.ok(got.includes(s), `${path} lists ${s}`);
      for (const s of not) assert.ok(!got.includes(s), `${path} leaves out ${s}`);
    };
    await check(`/api/v1/articles?tag=${tag}&language=zh-hans`, [zh.slug], [en.slug, fr.slug]);
    // Items carry their language (for lang attributes in mixed lists).
    const mixed = (await t.get(`/api/v1/articles?tag=${tag}`)).body.data;
    assert.deepEqual(Object.fromEntries(mixed.map((x: { slug: string; language: string }) => [x.slug, x.language])),
      { [en.slug]: "en", [zh.slug]: "zh-Hans", [fr.slug]: "fr" });
    await check(`/api/v1/articles?tag=${tag}&language=en`, [en.slug], [zh.slug, fr.slug]);
    await check(`/api/v1/articles?section=edition-fr&language=fr&limit=50`, [fr.slug], [en.slug, zh.slug]);
    await check(`/api/v1/articles?section=world&language=fr&limit=50`, [], [en.slug, zh.slug, fr.slug]);
    await check(`/api/v1/latest?language=zh-Hans&limit=50`, [zh.slug], [en.slug, fr.slug]);
    await check(`/api/v1/popular?language=fr&limit=50`, [fr.slug], [en.slug, zh.slug]);
    await check(`/api/v1/popular?language=zh-Hans&section=world&limit=50`, [zh.slug], [en.slug, fr.slug]);
    await check(`/api/v1/sections/world/front?language=zh-Hans&limit=50`, [zh.slug], [en.slug, fr.slug]);
    await check(`/api/v1/sections/edition-fr/front?language=fr&limit=50`, [fr.slug], [en.slug, zh.slug]);

    // Cache freshness: the filtered list follows a language change.
    const before = await t.get(`/api/v1/latest?language=zh-Hans&limit=50`);
    assert.ok(slugs(before).includes(zh.slug));
    await t.patch(art(zh.id), { language: "ja" }, await matched(art(zh.id)));
    assert.ok(!slugs(await t.get(`/api/v1/latest?language=zh-Hans&limit=50`)).includes(zh.slug));
    assert.ok(slugs(await t.get(`/api/v1/latest?language=ja&limit=50`)).includes(zh.slug));
  });
});

describe("editorial updatedAt", () => {
  it("moves the public updatedAt only on a significant update", async () => {
    const a = await makeArticle(t, { headline: uniq("Storm warning"), section: "world" });
    const published = await publish(t, a.id, new Date(Date.now() - 3_600_000).toISOString());
    assert.equal(published.editorialUpdatedAt, published.publishedAt, "first publication: updatedAt = publishedAt");
    const first = (await pub(a.slug)).body;
    assert.equal(first.updatedAt, first.publishedAt);
    assert.equal(first.jsonLd.dateModified, first.publishedAt);

    const typo = await t.patch(art(a.id), { summary: "Fixed a typo." }, await matched(art(a.id)));
    assert.equal(typo.status, 200);
    assert.notEqual(typo.body.updatedAt, published.updatedAt, "the system time moves");
    const afterTypo = (await pub(a.slug)).body;
    assert.equal(afterTypo.summary, "Fixed a typo.");
    assert.equal(afterTypo.updatedAt, first.updatedAt, "a non-significant edit leaves the public updatedAt");

    const sig = await t.patch(art(a.id), { body: "<p>Updated: the warning now covers the coast.</p>", significantUpdate: true }, await matched(art(a.id)));
    assert.equal(sig.status, 200);
    assert.ok(sig.body.editorialUpdatedAt > first.updatedAt);
    const afterSig = (await pub(a.slug)).body;
    assert.equal(afterSig.updatedAt, sig.body.editorialUpdatedAt);
    assert.equal(afterSig.jsonLd.dateModified, sig.body.editorialUpdatedAt);
    assert.equal(afterSig.publishedAt, first.publishedAt);

    // Republished after an unpublish: never earlier than the new publication; significant: now.
    await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, {}, ed());
    const again = await t.post(`/api/v1/admin/articles/${a.id}/publish`, { significantUpdate: true }, ed());
    assert.equal(again.status, 200);
    assert.ok(again.body.editorialUpdatedAt >= again.body.publishedAt);
    assert.ok(again.body.editorialUpdatedAt > sig.body.editorialUpdatedAt);
    assert.equal((await pub(a.slug)).body.updatedAt, again.body.editorialUpdatedAt);
  });
});

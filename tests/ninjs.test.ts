// Agency copy in IPTC ninjs (issue 12 §7): the IPTC's example items ingested
// as drafts, read back as ninjs 3.1 and validated against the IPTC's schema.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
const FIXTURES = path.resolve(import.meta.dirname, "fixtures", "ninjs");
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
// The schema points at GeoJSON's for a place's geometry (not fetched: tests run offline). Dateline's
// items carry no geometry, so an object placeholder loses no check of what they contain.
ajv.addSchema({ $id: "https://geojson.org/schema/GeoJSON.json", type: "object" });
const validateNinjs = ajv.compile(fixture("ninjs-schema_3.1.json"));
function assertValidNinjs(item: unknown) {
  assert.ok(validateNinjs(item), `not valid ninjs 3.1: ${ajv.errorsText(validateNinjs.errors)}\n${JSON.stringify(item).slice(0, 1500)}`);
}

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "world");
});
after(() => t.close());

const INGEST = "/api/v1/admin/ingest";
const ingest = (item: unknown, query = "?section=world", token = t.editor.token) => t.post(`${INGEST}${query}`, item, { token });
const text = (html: string) => html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();

async function storedJson(id: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rows = await t.db.prisma.$queryRaw<{ json: string | null }[]>`SELECT json FROM "PublishedArticle" WHERE "articleId" = ${id}`;
    if (rows[0]?.json) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`article ${id}: no stored JSON after 5 s`);
}

describe("ninjs", () => {
  it("the validator knows the schema: the IPTC's 3.1 examples pass, a broken item does not", () => {
    assertValidNinjs(fixture("3.1-simple_text_article.json"));
    assertValidNinjs(fixture("3.1-complex_text_article.json"));
    assert.equal(validateNinjs({ headlines: [{ value: "no uri" }] }), false);
    assert.equal(validateNinjs({ uri: "x", pubStatus: "live" }), false);
  });

  const examples: { file: string; source: string; language: string | null }[] = [
    { file: "3.1-simple_text_article.json", source: "AP", language: null },
    { file: "3.1-complex_text_article.json", source: "AP", language: "en" },
    { file: "2.2-complex_text_article.json", source: "AP", language: "en" },
    { file: "2.1-dpa_text.json", source: "dpa", language: "de" },
  ];
  for (const ex of examples) {
    it(`ingests ${ex.file} as a draft and reads it back as ninjs 3.1`, async () => {
      const item = fixture(ex.file);
      // 3.1 and 2.2 complex examples share a uri: each gets its own here.
      if (ex.file.startsWith("2.2")) item.uri += "-v22";
      const res = await ingest(item, "?section=world&source=AP");
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.outcome, "created");
      assert.equal(res.headers.location, `/api/v1/admin/articles/${res.body.article.id}`);
      const a = res.body.article;
      const headline = item.headlines[0].value;
      assert.equal(a.status, "DRAFT");
      assert.equal(a.headline, headline);
      assert.equal(a.dateline, item.located ?? null);
      assert.equal(a.byline, item.by);
      assert.equal(a.source, ex.source, "the agency: copyrightholder when the item names it, else ?source=");
      assert.equal(a.language, ex.language);
      assert.equal(a.section.slug, "world");
      assert.equal(a.author.id, t.editor.id);
      assert.equal(res.body.wire.uri, item.uri);
      assert.equal(res.body.wire.versionCreated, new Date(item.versionCreated ?? item.versioncreated).toISOString());
      // The body: the item's markup, sanitized (dpa's <section> wrapper is not on the allow-list).
      const html = item.bodies.find((b: { contentType?: string; contenttype?: string }) => /html/.test(b.contentType ?? b.contenttype ?? "")).value;
      assert.equal(text(a.body), text(html));
      assert.doesNotMatch(a.body, /<section/);
      const revisions = await t.get(`/api/v1/admin/articles/${a.id}/revisions`, { token: t.editor.token });
      assert.deepEqual(revisions.body.data.map((r: { action: string }) => r.action), ["ingest"]);

      await publish(t, a.id);
      const plain = await t.get(`/api/v1/articles/${a.slug}`);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.headline, headline);
      // The fast path's article loader must not answer ?format=ninjs with the stored JSON.
      await storedJson(a.id);
      const loaded = await t.get(`/api/v1/articles/${a.slug}`);
      assert.equal(loaded.body.slug, a.slug);
      const res2 = await t.get(`/api/v1/articles/${a.slug}?format=ninjs`);
      assert.equal(res2.status, 200);
      assert.match(res2.headers["content-type"], /^application\/json/);
      const n = res2.body;
      assertValidNinjs(n);
      assert.equal(n.slug, undefined, "not Dateline's own JSON");
      assert.equal(n.uri, plain.body.links.canonical);
      assert.deepEqual(n.altIds.find((x: { role: string }) => x.role === "agency-uri"), { role: "agency-uri", value: item.uri });
      assert.equal(n.headlines[0].value, headline);
      assert.equal(n.bodies[0].contentType, "text/html");
      assert.equal(n.bodies[0].value, plain.body.body);
      assert.equal(text(n.bodies[0].value), text(html));
      assert.equal(n.located, item.located);
      assert.equal(n.by, item.by);
      assert.equal(n.copyrightHolder, ex.source);
      assert.equal(n.language, ex.language ?? t.config.SITE_LANGUAGE);
      assert.equal(n.pubStatus, "usable");
      // The article as the delivery route reads it, then its agency item.
      assert.equal(statementsOf(res2), 2);
      assert.ok(res2.headers["surrogate-key"].split(" ").includes(`article:${a.id}`));
      assert.ok(res2.headers["cache-control"].startsWith("public"));
      // Cached under its own key: a hit is ninjs again, and the plain article stays plain.
      const hit = await t.get(`/api/v1/articles/${a.slug}?format=ninjs`);
      assert.equal(hit.headers.etag, res2.headers.etag);
      assert.match(hit.headers["server-timing"], /db;desc="0 statements"/);
      assert.deepEqual(hit.body, n);
      assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.slug, a.slug);
      assert.equal((await t.get(`/api/v1/articles/${a.slug}?format=json`)).body.slug, a.slug);
    });
  }

  it("a later version updates the same article (editors' changes stay in the revisions); older is 409, the same again a no-op", async () => {
    const v1 = {
      uri: "urn:newsml:example.com:20261126:flood-1",
      version: "1",
      versionCreated: "2026-11-26T08:00:00Z",
      firstCreated: "2026-11-26T08:00:00Z",
      headlines: [{ role: "main", value: "River breaks its banks" }],
      bodies: [{ role: "main", contentType: "text/plain", value: "First paragraph.\n\nSecond <paragraph> & more." }],
      located: "Passau",
      by: "Anna Agency",
      copyrightHolder: "Example Wire",
      subjects: [{ name: "Floods", uri: "http://cv.iptc.org/newscodes/mediatopic/20000146" }],
      "x-agency-priority": "flash",
    };
    const created = await ingest(v1);
    assert.equal(created.status, 201, created.text);
    const id = created.body.article.id;
    assert.equal(created.body.article.body, "<p>First paragraph.</p><p>Second &lt;paragraph&gt; &amp; more.</p>");
    assert.deepEqual(created.body.article.tags.map((x: { slug: string }) => x.slug), ["floods"]);
    const edited = await t.patch(`/api/v1/admin/articles/${id}`, { headline: "River bursts its banks in Passau" },
      { token: t.editor.token, headers: { "If-Match": created.headers.etag } });
    assert.equal(edited.status, 200);

    const v2 = { ...v1, version: "2", versionCreated: "2026-11-26T09:00:00Z", headlines: [{ role: "main", value: "Flood reaches Passau old town" }] };
    const updated = await ingest(v2, "");
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.outcome, "updated");
    assert.equal(updated.body.article.id, id);
    assert.equal(updated.body.article.headline, "Flood reaches Passau old town");
    assert.equal(updated.body.wire.version, "2");
    assert.equal(updated.body.wire.ingestCount, 2);
    assert.equal(updated.headers.etag, `"${updated.body.article.version}"`);
    const revs = await t.get(`/api/v1/admin/articles/${id}/revisions`, { token: t.editor.token });
    assert.deepEqual(revs.body.data.map((r: { action: string }) => r.action), ["ingest", "update", "ingest"]);
    const editorsVersion = await t.get(`/api/v1/admin/articles/${id}/revisions/2`, { token: t.editor.token });
    assert.equal(editorsVersion.body.content.headline, "River bursts its banks in Passau");
    assert.deepEqual(revs.body.data[0].changedFields, ["headline"]);

    const stale = await ingest(v1, "");
    assert.equal(stale.status, 409);
    assert.equal(stale.body.type, "urn:dateline:problem:stale-item");
    const again = await ingest(v2, "");
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, "unchanged");
    assert.equal((await t.get(`/api/v1/admin/articles/${id}/revisions`, { token: t.editor.token })).body.data.length, 3);
    // The item as received, unknown fields included.
    const raw = await t.db.prisma.wireItem.findUnique({ where: { articleId: id }, select: { raw: true } });
    assert.equal((raw!.raw as Record<string, unknown>)["x-agency-priority"], "flash");

    // Published, read as ninjs (cached), then a new version: the ninjs entry is dropped with the article's.
    const live = await publish(t, id);
    const n1 = await t.get(`/api/v1/articles/${live.slug}?format=ninjs`);
    assertValidNinjs(n1.body);
    assert.deepEqual(n1.body.altIds, [{ role: "agency-uri", value: v1.uri }, { role: "agency-version", value: "2" }]);
    assert.deepEqual(n1.body.subjects, [{ name: "Floods", literal: "floods" }]);
    const v3 = { ...v2, version: "3", versionCreated: "2026-11-26T10:00:00Z", headlines: [{ value: "Passau evacuates old town" }] };
    assert.equal((await ingest(v3, "")).status, 200);
    const n2 = await t.get(`/api/v1/articles/${live.slug}?format=ninjs`);
    assert.equal(n2.body.headlines[0].value, "Passau evacuates old town");
    assertValidNinjs(n2.body);
  });

  it("a canceled item withdraws a story that ran (410 with the reason) and trashes one that did not", async () => {
    const item = {
      uri: "urn:newsml:example.com:20261126:wrong-1", version: "1", copyrightHolder: "Example Wire",
      headlines: [{ value: "Story that will be killed" }], bodies: [{ value: "<p>Wrong.</p>", contentType: "text/html" }],
    };
    const a = (await ingest(item)).body.article;
    await publish(t, a.id);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}?format=ninjs`)).status, 200);
    const kill = await ingest({ uri: item.uri, version: "2", pubStatus: "canceled" }, "");
    assert.equal(kill.status, 200, kill.text);
    assert.equal(kill.body.outcome, "canceled");
    assert.equal(kill.body.wire.pubStatus, "canceled");
    assert.equal(kill.body.article.status, "WITHDRAWN");
    assert.equal(kill.body.article.withdrawalReason, "Example Wire canceled this story.");
    const gone = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.reason, "Example Wire canceled this story.");
    const goneNinjs = await t.get(`/api/v1/articles/${a.slug}?format=ninjs`);
    assert.equal(goneNinjs.status, 410, "the tombstone, whatever the format");
    assert.equal(goneNinjs.body.reason, "Example Wire canceled this story.");
    // Sent again: nothing more happens.
    assert.equal((await ingest({ uri: item.uri, version: "2", pubStatus: "canceled" }, "")).body.outcome, "unchanged");

    const draft = (await ingest({ ...item, uri: "urn:newsml:example.com:20261126:wrong-2" })).body.article;
    const killDraft = await ingest({ uri: "urn:newsml:example.com:20261126:wrong-2", version: "2", pubstatus: "canceled" }, "");
    assert.equal(killDraft.body.outcome, "canceled");
    assert.equal(killDraft.body.article.id, draft.id);
    assert.ok(killDraft.body.article.deletedAt, "a draft nobody saw goes to the trash");
    // Nothing to cancel for an item never ingested.
    assert.equal((await ingest({ uri: "urn:never-seen", pubstatus: "canceled" }, "")).status, 404);
  });

  it("reads ninjs 1.x / Superdesk spellings: headline, body_text, byline, subject, embargoed, associations", async () => {
    const res = await ingest({
      uri: "urn:newsml:superdesk:2026:1", version: 1, type: "text",
      headline: "Budget talks stall", body_text: "Line one\nLine two", byline: "Desk Reporter",
      located: "Canberra", source: "AAP", language: "en-au",
      subject: [{ code: "11000000", name: "Politics" }, { code: "04000000", name: "Economy, business and finance" }],
      embargoed: "2030-01-01T00:00:00+00:00",
      associations: { featuremedia: { type: "picture", uri: "urn:picture:1", headline: "Parliament House" } },
    });
    assert.equal(res.status, 201, res.text);
    const a = res.body.article;
    assert.equal(a.headline, "Budget talks stall");
    assert.equal(a.body, "<p>Line one</p><p>Line two</p>");
    assert.equal(a.byline, "Desk Reporter");
    assert.equal(a.source, "AAP");
    assert.equal(a.dateline, "Canberra");
    assert.equal(a.language, "en-AU");
    assert.deepEqual(a.tags.map((x: { slug: string; name: string }) => [x.slug, x.name]).sort(),
      [["economy-business-and-finance", "Economy, business and finance"], ["politics", "Politics"]]);
    assert.equal(res.body.wire.embargoedUntil, "2030-01-01T00:00:00.000Z");
    assert.equal(a.embargoedUntil, "2030-01-01T00:00:00.000Z", "the agency's embargo holds the article");
    assert.equal(res.body.wire.version, "1");
    assert.deepEqual(res.body.pictures, [{ name: "featuremedia", uri: "urn:picture:1", headline: "Parliament House" }]);
  });

  it("refuses malformed items (400 with field details), oversized ones (413), writers (403) and unknown formats", async () => {
    const noUri = await ingest({ headlines: [{ value: "x" }] });
    assert.equal(noUri.status, 400);
    assert.match(noUri.headers["content-type"], /application\/problem\+json/);
    assert.ok(noUri.body.errors.some((e: { path: string }) => e.path === "body.uri"));
    const badParts = await ingest({ uri: "u:1", headlines: "Headline", versionCreated: "yesterday", pubStatus: "live" });
    assert.equal(badParts.status, 400);
    const paths = badParts.body.errors.map((e: { path: string }) => e.path).sort();
    assert.deepEqual(paths, ["body.headlines", "body.pubStatus", "body.versionCreated"]);
    const noHeadline = await ingest({ uri: "u:2", bodies: [{ value: "<p>x</p>" }] });
    assert.equal(noHeadline.status, 400);
    assert.deepEqual(noHeadline.body.errors.map((e: { path: string }) => e.path), ["body.headlines"]);
    const longHeadline = await ingest({ uri: "u:3", headlines: [{ role: "sub", value: "x" }, { role: "main", value: "y".repeat(301) }] });
    assert.deepEqual(longHeadline.body.errors.map((e: { path: string }) => e.path), ["body.headlines.1.value"]);
    const noSection = await ingest({ uri: "u:4", headline: "x" }, "");
    assert.deepEqual(noSection.body.errors.map((e: { path: string }) => e.path), ["query.section"]);
    const unknownSection = await ingest({ uri: "u:4", headline: "x" }, "?section=nowhere");
    assert.equal(unknownSection.status, 400);
    const array = await ingest([{ uri: "u:5" }]);
    assert.equal(array.status, 400);
    const huge = await ingest({ uri: "u:6", headline: "Big", body_html: `<p>${"a".repeat(t.config.BODY_LIMIT)}</p>` });
    assert.equal(huge.status, 413);
    const notJson = await t.call("POST", `${INGEST}?section=world`, { token: t.editor.token, raw: { data: "<newsItem/>", type: "application/xml" } });
    assert.equal(notJson.status, 415);
    assert.equal((await ingest({ uri: "u:7", headline: "x" }, "?section=world", t.writer.token)).status, 403);
    assert.equal((await t.post(`${INGEST}?section=world`, { uri: "u:7", headline: "x" })).status, 401);
    assert.equal((await t.get("/api/v1/articles/whatever?format=xml")).status, 400);
    assert.equal((await t.get("/api/v1/articles/no-such-article?format=ninjs")).status, 404);
  });
});

// Corrections (issue 12 §1): the desk adds corrections, clarifications and
// retractions to published articles; the public article lists them newest
// first and carries them in its JSON-LD (CorrectionComment), the editorial
// updatedAt moves, the write is audited and emits a change event, and the
// public corrections feed pages through them newest first.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

let t: TestApp;
const SITE = "https://news.example";
before(async () => {
  t = await startTestApp({ PUBLIC_SITE_URL: SITE, PERMALINK_PATTERN: "/{section}/{slug}" });
  await makeSection(t, "world", undefined, "World");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
let n = 0;
const uniq = (s: string) => `${s}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function published(headline = "Harbour reopens") {
  const a = await makeArticle(t, { headline, slug: uniq("story"), section: "world" });
  await publish(t, a.id, new Date(Date.now() - 3600_000).toISOString());
  return a as { id: number; slug: string };
}

async function lastEvent() {
  const res = await t.get("/api/v1/admin/events?limit=1", { token: t.admin.token });
  assert.equal(res.status, 200);
  return res.body.data[0] as { type: string; entityId: number; keys: string[]; data: any };
}

describe("corrections", () => {
  it("only EDITOR+ add them, only to published articles, with valid input (problem+json otherwise)", async () => {
    const a = await published();
    const body = { type: "correction", text: "The harbour reopened on Monday, not Sunday." };
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/corrections`, body)).status, 401);
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/corrections`, body, { token: t.writer.token })).status, 403);
    const draft = await makeArticle(t, { headline: "Draft", section: "world" });
    const d = await t.post(`/api/v1/admin/articles/${draft.id}/corrections`, body, ed());
    assert.equal(d.status, 409);
    assert.equal(d.body.currentStatus, "DRAFT");
    assert.match(JSON.stringify(d.body), /not-published/);
    assert.equal((await t.post("/api/v1/admin/articles/999999/corrections", body, ed())).status, 404);
    const bad = await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { type: "erratum", text: " " }, ed());
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), ["body.text", "body.type"]);
    const future = await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { ...body, at: new Date(Date.now() + 3600_000).toISOString() }, ed());
    assert.equal(future.status, 400);
    assert.equal(future.body.errors[0].path, "body.at");
    const early = await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { ...body, at: "2001-01-01T00:00:00Z" }, ed());
    assert.equal(early.status, 400);
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { ...body, extra: 1 }, ed())).status, 400);
    // A stale article ETag, when sent, is refused.
    const stale = await t.post(`/api/v1/admin/articles/${a.id}/corrections`, body, { ...ed(), headers: { "If-Match": '"999"' } });
    assert.equal(stale.status, 412);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.corrections.length, 0, "nothing was written");
  });

  it("a correction shows on the public article and its JSON-LD, moves updatedAt, is audited and emits a change event", async () => {
    const a = await published();
    const before = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(before.status, 200);
    assert.deepEqual(before.body.corrections, []);
    assert.equal(before.body.jsonLd.correction, undefined);
    const etag = (await t.ifMatch(`/api/v1/admin/articles/${a.id}`))["If-Match"];

    const res = await t.post(`/api/v1/admin/articles/${a.id}/corrections`,
      { type: "correction", text: "An earlier version misstated the date." }, { ...ed(), headers: { "If-Match": etag } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.location, `/api/v1/admin/articles/${a.id}/corrections/${res.body.id}`);
    assert.equal(res.headers.etag, '"1"');
    assert.equal(res.body.type, "correction");
    assert.equal(res.body.author.id, t.editor.id);
    assert.ok(Date.now() - Date.parse(res.body.at) < 60_000, "at defaults to now");

    const ev = await lastEvent();
    assert.equal(ev.type, "article.updated");
    assert.equal(ev.entityId, a.id);
    assert.ok(ev.keys.includes(`article:${a.id}`) && ev.keys.includes("corrections"));
    assert.deepEqual(ev.data.correction, { id: res.body.id, type: "correction", action: "created" });

    const audit = await t.get(`/api/v1/admin/audit?action=article.correction-add&targetId=${a.id}`, { token: t.admin.token });
    assert.equal(audit.body.data.length, 1);
    assert.equal(audit.body.data[0].actor.id, t.editor.id);

    const admin = await t.get(`/api/v1/admin/articles/${a.id}`, ed());
    assert.notEqual(admin.headers.etag, etag, "the article's version moved");
    assert.ok(Date.parse(admin.body.editorialUpdatedAt) >= Date.parse(res.body.at) - 1000);

    // A clarification later: newest first.
    const second = await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { type: "clarification", text: "The port is run by the city." }, ed());
    assert.equal(second.status, 201);
    const pub = await t.get(`/api/v1/articles/${a.slug}`);
    assert.deepEqual(pub.body.corrections.map((c: { type: string }) => c.type), ["clarification", "correction"]);
    assert.deepEqual(pub.body.corrections[1], { id: res.body.id, type: "correction", text: "An earlier version misstated the date.", at: res.body.at });
    assert.ok(pub.body.updatedAt > before.body.updatedAt, "the public updatedAt moved");
    assert.equal(pub.body.jsonLd.dateModified, pub.body.updatedAt);
    assert.deepEqual(pub.body.jsonLd.correction, pub.body.corrections.map((c: { text: string; at: string }) => ({
      "@type": "CorrectionComment", text: c.text, datePublished: c.at,
    })));
    // Still one statement for the article on a cache miss.
    await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { type: "retraction", text: "Retracted." }, ed());
    assert.equal(statementsOf(await t.get(`/api/v1/articles/${a.slug}`)), 1);

    const list = await t.get(`/api/v1/admin/articles/${a.id}/corrections`, { token: t.writer.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((c: { type: string }) => c.type), ["retraction", "clarification", "correction"]);
  });

  it("edit and delete need the correction's ETag; the public article follows", async () => {
    const a = await published();
    const c = (await t.post(`/api/v1/admin/articles/${a.id}/corrections`, { type: "correction", text: "First wording." }, ed())).body;
    const path = `/api/v1/admin/articles/${a.id}/corrections/${c.id}`;
    assert.equal((await t.patch(path, { text: "Second wording." }, ed())).status, 428);
    assert.equal((await t.patch(path, { text: "Second wording." }, { ...ed(), headers: { "If-Match": '"7"' } })).status, 412);
    assert.equal((await t.patch(path, { text: "x" }, { token: t.writer.token, headers: { "If-Match": '"1"' } })).status, 403);
    const ok = await t.patch(path, { text: "Second wording.", type: "clarification" }, { ...ed(), headers: await t.ifMatch(path) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.etag, '"2"');
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.corrections[0].text, "Second wording.");
    assert.equal((await t.get(`/api/v1/admin/articles/${a.id}/corrections/99999`, ed())).status, 404);

    assert.equal((await t.del(path, ed())).status, 428);
    assert.equal((await t.del(path, { ...ed(), headers: await t.ifMatch(path) })).status, 204);
    assert.deepEqual((await t.get(`/api/v1/articles/${a.slug}`)).body.corrections, []);
    const audit = await t.get(`/api/v1/admin/audit?action=article.correction-delete&targetId=${a.id}`, { token: t.admin.token });
    assert.equal(audit.body.data[0].details.text, "Second wording.");
  });

  it("the corrections feed: newest first, cursor-paged, with the article's slug, headline and URL; unpublished articles leave it", async () => {
    const x = await published("Bridge opens");
    const y = await published("Dam closes");
    await t.post(`/api/v1/admin/articles/${x.id}/corrections`, { type: "correction", text: "Feed one." }, ed());
    await t.post(`/api/v1/admin/articles/${y.id}/corrections`, { type: "retraction", text: "Feed two." }, ed());
    const first = await t.get("/api/v1/corrections?limit=1");
    assert.equal(first.status, 200);
    assert.equal(statementsOf(first), 1);
    assert.match(first.headers["surrogate-key"], /\bcorrections\b/);
    assert.equal(first.body.data[0].text, "Feed two.");
    assert.deepEqual(first.body.data[0].article, {
      slug: y.slug, headline: "Dam closes", section: { slug: "world", name: "World" },
      publishedAt: first.body.data[0].article.publishedAt, url: `${SITE}/world/${y.slug}`,
    });
    const second = await t.get(`/api/v1/corrections?limit=1&cursor=${first.body.meta.nextCursor}`);
    assert.equal(second.body.data[0].text, "Feed one.");
    assert.equal((await t.get("/api/v1/corrections?cursor=garbage")).status, 400);
    assert.equal((await t.get("/api/v1/corrections?limit=0")).status, 400);

    assert.equal((await t.post(`/api/v1/admin/articles/${y.id}/unpublish`, {}, ed())).status, 200);
    const after = await t.get("/api/v1/corrections?limit=100");
    assert.ok(!after.body.data.some((c: { text: string }) => c.text === "Feed two."), "an unpublished article's corrections leave the feed");
    assert.ok(after.body.data.some((c: { text: string }) => c.text === "Feed one."));
  });
});

describe("the demo newsroom", () => {
  it("has one corrected story and author profiles credited on a few stories", async () => {
    const d = await startTestApp({ PUBLIC_SITE_URL: SITE });
    try {
      const { seedDemo } = await import("../src/seed/demo.ts");
      assert.equal(await seedDemo(d.db.prisma), true);
      const feed = await d.get("/api/v1/corrections");
      assert.equal(feed.status, 200);
      assert.equal(feed.body.data.length, 1);
      const slug = feed.body.data[0].article.slug;
      const story = await d.get(`/api/v1/articles/${slug}`);
      assert.equal(story.body.corrections.length, 1);
      assert.equal(story.body.jsonLd.correction[0]["@type"], "CorrectionComment");
      assert.equal(story.body.updatedAt, story.body.corrections[0].at, "the correction moved the public updatedAt");
      const zhou = await d.get("/api/v1/authors/zhou-min");
      assert.equal(zhou.status, 200);
      assert.equal(zhou.body.data.length, 2);
      const analysis = await d.get(`/api/v1/articles/${zhou.body.data[0].slug}`);
      assert.ok(analysis.body.authors.some((a: { slug: string }) => a.slug === "zhou-min"));
      assert.equal(analysis.body.jsonLd.author[0].url, `${SITE}/authors/${analysis.body.authors[0].slug}`);
    } finally {
      await d.close();
    }
  });
});

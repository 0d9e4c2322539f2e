// Withdrawal (issue 12 §3): EDITOR+ kills a published story with a public
// reason; it leaves every list at once, its URL answers 410 with a
// tombstone in one statement, article.withdrawn reaches webhooks and purges;
// only an ADMIN reinstates it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { webhookType } from "../src/distribution/webhooks/service.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
const REASON = "This article has been withdrawn for legal reasons.";
let n = 0;
async function published(extra: Record<string, unknown> = {}) {
  const a = await makeArticle(t, { headline: `Quarrelsome kumquat story ${++n}`, section: "desk", ...extra });
  return publish(t, a.id);
}
const withdraw = (id: number, body: unknown = { reason: REASON }, token = t.editor.token) =>
  t.post(`/api/v1/admin/articles/${id}/withdraw`, body, { token });

/** Which public surfaces list the article (the by-slug answer separately). */
async function listedOn(slug: string): Promise<string[]> {
  const has = (list: { slug: string }[]) => list.some((x) => x.slug === slug);
  const out: string[] = [];
  if (has((await t.get("/api/v1/latest?limit=50")).body.data)) out.push("latest");
  if (has((await t.get("/api/v1/articles?section=desk&limit=50")).body.data)) out.push("section");
  const front = (await t.get("/api/v1/sections/desk/front?limit=50")).body;
  if ([front.lead, ...front.stories].some((x) => x?.slug === slug)) out.push("front");
  if ((await t.get("/api/v1/search?q=kumquat")).body.data.some((x: { article: { slug: string } }) => x.article.slug === slug)) out.push("search");
  if ((await t.get("/rss.xml")).text.includes(slug)) out.push("rss");
  if ((await t.get("/sitemaps/articles-1.xml")).text.includes(slug)) out.push("sitemap");
  if ((await t.get("/sitemap-news.xml")).text.includes(slug)) out.push("news-sitemap");
  if ((await t.get(`/api/v1/articles/${slug}/comments`)).status === 200) out.push("comments");
  return out;
}

describe("withdrawal", () => {
  it("takes a published article off every list and answers its URL 410 with the tombstone, in one statement", async () => {
    const a = await published();
    // Cached before: the withdrawal must drop it.
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.deepEqual(await listedOn(a.slug), ["latest", "section", "front", "search", "rss", "sitemap", "news-sitemap", "comments"]);

    const res = await withdraw(a.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, "WITHDRAWN");
    assert.equal(res.body.withdrawalReason, REASON);
    assert.equal(res.body.withdrawnFrom, "PUBLISHED");
    assert.ok(res.body.withdrawnAt);

    assert.deepEqual(await listedOn(a.slug), []);
    const gone = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(gone.status, 410);
    assert.deepEqual(gone.body, { slug: a.slug, headline: a.headline, withdrawnAt: res.body.withdrawnAt, reason: REASON });
    assert.equal(statementsOf(gone), 1);
    // Public and cacheable, under the article's surrogate key (purged on reinstatement).
    assert.match(gone.headers["cache-control"], /^public/);
    assert.ok(gone.headers["surrogate-key"].split(" ").includes(`article:${a.id}`));
    assert.equal((await t.get(`/api/v1/articles/${a.slug}/print`)).status, 410);
    // Every representation of the URL says Gone, the ninjs export too.
    const ninjs = await t.get(`/api/v1/articles/${a.slug}?format=ninjs`);
    assert.equal(ninjs.status, 410, ninjs.text);
    assert.equal(ninjs.body.reason, REASON);
    assert.equal((await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "Hm" })).status, 404);

    // The change event: keys for caches and purges, article.withdrawn for webhooks; and the audit entry.
    const [ev] = await t.db.prisma.changeEvent.findMany({ where: { entityId: a.id, type: "article.withdrawn" } });
    assert.ok(ev.keys.includes(`article:${a.id}`) && ev.keys.includes("latest"));
    assert.equal(webhookType(ev, false), "article.withdrawn");
    const audit = await t.get(`/api/v1/admin/audit?action=article.withdraw`, { token: t.admin.token });
    assert.equal(audit.status, 200, audit.text);
    assert.ok(JSON.stringify(audit.body).includes(REASON));

    // No workflow action leaves WITHDRAWN.
    for (const action of ["publish", "unpublish", "archive"]) {
      assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/${action}`, undefined, ed())).status, 409, action);
    }
    assert.equal((await withdraw(a.id)).status, 409);
  });

  it("EDITOR+ only, a reason required; only PUBLISHED or ARCHIVED articles", async () => {
    const a = await published();
    const w = await withdraw(a.id, { reason: REASON }, t.writer.token);
    assert.equal(w.status, 403);
    assert.equal((await withdraw(a.id, {})).status, 400);
    const blank = await withdraw(a.id, { reason: "  " });
    assert.equal(blank.status, 400);
    assert.equal(blank.body.errors[0].path, "body.reason");
    assert.equal((await withdraw(a.id, { reason: REASON, extra: 1 })).status, 400);
    assert.equal((await withdraw(999999)).status, 404);
    const draft = await makeArticle(t, { headline: "Just a draft", section: "desk" });
    const d = await withdraw(draft.id);
    assert.equal(d.status, 409);
    assert.equal(d.body.currentStatus, "DRAFT");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
  });

  it("only an ADMIN reinstates, back to the status it had; the tombstone goes", async () => {
    const a = await published();
    assert.equal((await withdraw(a.id)).status, 200);
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/reinstate`, {}, ed())).status, 403);
    const back = await t.post(`/api/v1/admin/articles/${a.id}/reinstate`, {}, { token: t.admin.token });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.status, "PUBLISHED");
    assert.equal(back.body.publishedAt, a.publishedAt);
    assert.equal(back.body.withdrawnAt, null);
    assert.equal(back.body.withdrawalReason, null);
    const res = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.headline, a.headline);
    assert.ok((await listedOn(a.slug)).includes("latest"));
    const [ev] = await t.db.prisma.changeEvent.findMany({ where: { entityId: a.id, type: "article.reinstated" } });
    assert.equal(webhookType(ev, false), "article.published");
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/reinstate`, {}, { token: t.admin.token })).status, 409);
  });

  it("a withdrawn article in the trash answers 404; a writer cannot edit it", async () => {
    const a = await published();
    assert.equal((await withdraw(a.id)).status, 200);
    const patch = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "x" }, { token: t.writer.token });
    assert.ok([403, 404].includes(patch.status));
    const del = await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(del.status, 204, del.text);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
  });
});

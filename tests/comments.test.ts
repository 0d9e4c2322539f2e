import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
let slug: string;
let articleId: number;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "world");
  const a = await makeArticle(t, { headline: "Comment magnet", section: "world" });
  await publish(t, a.id);
  slug = a.slug;
  articleId = a.id;
});
after(() => t.close());

describe("comments", () => {
  it("stores a submission as PENDING, shows it only after approval, and counts approved ones", async () => {
    const sub = await t.post(`/api/v1/articles/${slug}/comments`, { name: "Reader", body: "Interesting read." });
    assert.equal(sub.status, 202);
    assert.equal(sub.body.status, "PENDING");
    assert.equal(typeof sub.body.id, "number");

    assert.deepEqual((await t.get(`/api/v1/articles/${slug}/comments`)).body.data, []);
    assert.equal((await t.get(`/api/v1/articles/${slug}`)).body.commentCount, 0);

    const pending = await t.get("/api/v1/admin/comments?status=PENDING", { token: t.editor.token });
    assert.equal(pending.status, 200);
    assert.ok(pending.body.data.some((c: { id: number }) => c.id === sub.body.id));
    assert.deepEqual(pending.body.data[0].article, { id: articleId, slug, headline: "Comment magnet" });

    const ok = await t.patch(`/api/v1/admin/comments/${sub.body.id}`, { status: "APPROVED" }, { token: t.editor.token });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.status, "APPROVED");

    const list = await t.get(`/api/v1/articles/${slug}/comments`);
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].name, "Reader");
    assert.equal(list.body.data[0].body, "Interesting read.");
    assert.equal("status" in list.body.data[0], false);
    assert.equal((await t.get(`/api/v1/articles/${slug}`)).body.commentCount, 1);

    const spam = await t.post(`/api/v1/articles/${slug}/comments`, { name: "Bot", body: "Buy now" });
    await t.patch(`/api/v1/admin/comments/${spam.body.id}`, { status: "SPAM" }, { token: t.admin.token });
    assert.equal((await t.get(`/api/v1/articles/${slug}`)).body.commentCount, 1);

    const rej = await t.patch(`/api/v1/admin/comments/${ok.body.id}`, { status: "REJECTED" }, { token: t.editor.token });
    assert.equal(rej.status, 200);
    assert.equal((await t.get(`/api/v1/articles/${slug}`)).body.commentCount, 0);

    assert.equal((await t.del(`/api/v1/admin/comments/${spam.body.id}`, { token: t.editor.token })).status, 204);
    assert.equal((await t.del(`/api/v1/admin/comments/${spam.body.id}`, { token: t.editor.token })).status, 404);
    assert.equal((await t.patch("/api/v1/admin/comments/999999", { status: "APPROVED" }, { token: t.editor.token })).status, 404);
  });

  it("pages approved comments oldest first", async () => {
    const a = await makeArticle(t, { headline: "Busy thread", section: "world" });
    await publish(t, a.id);
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      // One reader each: seven from one client would trip the per-client rate limit.
      const c = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: `R${i}`, body: `Comment ${i}` }, { headers: { "X-Forwarded-For": `192.0.2.${i + 1}` } });
      await t.patch(`/api/v1/admin/comments/${c.body.id}`, { status: "APPROVED" }, { token: t.editor.token });
      ids.push(c.body.id);
    }
    const p1 = await t.get(`/api/v1/articles/${a.slug}/comments?limit=4`);
    const p2 = await t.get(`/api/v1/articles/${a.slug}/comments?limit=4&cursor=${p1.body.meta.nextCursor}`);
    assert.deepEqual([...p1.body.data, ...p2.body.data].map((c: { id: number }) => c.id), ids);
    assert.equal(p2.body.meta.nextCursor, null);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.commentCount, 7);
  });

  it("rejects bad submissions with field-level errors", async () => {
    const empty = await t.post(`/api/v1/articles/${slug}/comments`, { name: "", body: "" });
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body.errors.map((e: { path: string }) => e.path).sort(), ["body.body", "body.name"]);
    const long = await t.post(`/api/v1/articles/${slug}/comments`, { name: "x".repeat(81), body: "y".repeat(5001) });
    assert.equal(long.status, 400);
    assert.equal(long.body.errors.length, 2);
    const extra = await t.post(`/api/v1/articles/${slug}/comments`, { name: "A", body: "B", status: "APPROVED" });
    assert.equal(extra.status, 400);
    assert.deepEqual(extra.body.errors, [{ path: "body.status", message: "Unknown field." }]);
    const bad = await t.patch("/api/v1/admin/comments/1", { status: "PENDING" }, { token: t.editor.token });
    assert.equal(bad.status, 400);
  });

  it("answers 404 for comments on unknown or unpublished articles", async () => {
    assert.equal((await t.post("/api/v1/articles/nope/comments", { name: "A", body: "B" })).status, 404);
    const draft = await makeArticle(t, { headline: "Not yet", section: "world" });
    assert.equal((await t.post(`/api/v1/articles/${draft.slug}/comments`, { name: "A", body: "B" })).status, 404);
  });

  it("counts only what readers see: replies under a hidden parent drop out of commentCount", async () => {
    const a = await makeArticle(t, { headline: "Reply counting", section: "world" });
    await publish(t, a.id);
    const client = { headers: { "X-Forwarded-For": "198.51.100.77" } };
    const parent = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "P", body: "Parent" }, client);
    await t.patch(`/api/v1/admin/comments/${parent.body.id}`, { status: "APPROVED" }, { token: t.editor.token });
    const reply = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "Reply", parentId: parent.body.id }, client);
    await t.patch(`/api/v1/admin/comments/${reply.body.id}`, { status: "APPROVED" }, { token: t.editor.token });
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.commentCount, 2);
    await t.patch(`/api/v1/admin/comments/${parent.body.id}`, { status: "REJECTED" }, { token: t.editor.token });
    assert.deepEqual((await t.get(`/api/v1/articles/${a.slug}/comments`)).body.data, []);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.commentCount, 0);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
  await makeSection(t, "other");
});
after(() => t.close());

const path = (id: number) => `/api/v1/admin/articles/${id}`;

describe("revisions", () => {
  it("stores one per save, with who, what changed and the full content, and restores", async () => {
    const a = await makeArticle(t, { headline: "First take", section: "desk", tags: ["one"], body: "<p>v1</p>" }, t.writer.token);
    const e1 = await t.patch(path(a.id), { headline: "Second take", body: "<p>v2</p>" }, { token: t.writer.token, headers: await t.ifMatch(path(a.id)) });
    assert.equal(e1.status, 200);
    await t.patch(path(a.id), { section: "other", tags: ["one", "two"] }, { token: t.editor.token, headers: { "If-Match": e1.headers.etag } });
    await t.post(`${path(a.id)}/publish`, undefined, { token: t.editor.token });
    await t.post(`${path(a.id)}/unpublish`, undefined, { token: t.editor.token });

    const list = await t.get(`${path(a.id)}/revisions`, { token: t.writer.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((r: { number: number; action: string }) => [r.number, r.action]), [
      [5, "unpublish"], [4, "publish"], [3, "update"], [2, "update"], [1, "create"],
    ]);
    const byNumber = Object.fromEntries(list.body.data.map((r: { number: number }) => [r.number, r]));
    assert.deepEqual(byNumber[2].changedFields.sort(), ["body", "headline"]);
    assert.equal(byNumber[2].editor.id, t.writer.id);
    assert.deepEqual(byNumber[3].changedFields.sort(), ["section", "tags"]);
    assert.equal(byNumber[3].editor.id, t.editor.id);
    assert.deepEqual(byNumber[4].changedFields.sort(), ["publishedAt", "status"]);

    const page = await t.get(`${path(a.id)}/revisions?limit=2`, { token: t.writer.token });
    const page2 = await t.get(`${path(a.id)}/revisions?limit=2&cursor=${page.body.meta.nextCursor}`, { token: t.writer.token });
    assert.deepEqual([...page.body.data, ...page2.body.data].map((r: { number: number }) => r.number), [5, 4, 3, 2]);

    const rev2 = await t.get(`${path(a.id)}/revisions/2`, { token: t.writer.token });
    assert.equal(rev2.body.content.headline, "Second take");
    assert.equal(rev2.body.content.body, "<p>v2</p>");
    assert.deepEqual(
      rev2.body.diff.filter((d: { field: string }) => d.field === "headline"),
      [{ field: "headline", before: "First take", after: "Second take" }],
    );
    const rev1 = await t.get(`${path(a.id)}/revisions/1`, { token: t.writer.token });
    assert.ok(rev1.body.diff.length >= 10, "the first revision diffs against nothing");
    assert.equal((await t.get(`${path(a.id)}/revisions/99`, { token: t.writer.token })).status, 404);

    const restored = await t.post(`${path(a.id)}/revisions/1/restore`, undefined, { token: t.editor.token });
    assert.equal(restored.status, 200);
    assert.equal(restored.body.headline, "First take");
    assert.equal(restored.body.body, "<p>v1</p>");
    assert.equal(restored.body.section.slug, "desk");
    assert.deepEqual(restored.body.tags.map((x: { slug: string }) => x.slug), ["one"]);
    assert.equal(restored.body.status, "DRAFT", "a restore brings back content, not status");
    const after = await t.get(`${path(a.id)}/revisions`, { token: t.writer.token });
    assert.equal(after.body.data[0].number, 6);
    assert.equal(after.body.data[0].action, "restore-revision");
    assert.equal(after.body.data.length, 6, "no revision was lost");
  });

  it("refuses a writer restoring someone else's article, and a stale If-Match", async () => {
    const a = await makeArticle(t, { headline: "Desk copy", section: "desk" });
    // Another's draft is hidden from a writer altogether (see tests/access-policy.test.ts).
    assert.equal((await t.post(`${path(a.id)}/revisions/1/restore`, undefined, { token: t.writer.token })).status, 404);
    const stale = await t.post(`${path(a.id)}/revisions/1/restore`, undefined, { token: t.editor.token, headers: { "If-Match": '"999"' } });
    assert.equal(stale.status, 412);
    assert.equal((await t.get(`/api/v1/admin/articles/424242/revisions`, { token: t.editor.token })).status, 404);
  });
});

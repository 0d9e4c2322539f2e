// GET /api/v1/admin/editor-directory: the active editors any signed-in editor may credit on an article
// (id, name, role), while the accounts themselves (emails, deactivated ones) stay ADMIN-only.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "metro");
});
after(() => t?.close());

describe("the editor directory", () => {
  it("lists active editors with id, name and role only, for every role", async () => {
    const gone = await t.addEditor("EDITOR", "Gone Editor");
    const deactivate = await t.del(`/api/v1/admin/editors/${gone.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${gone.id}`) });
    assert.equal(deactivate.status, 200);
    for (const who of [t.writer, t.editor, t.admin]) {
      const res = await t.get("/api/v1/admin/editor-directory?limit=100", { token: who.token });
      assert.equal(res.status, 200, who.role);
      const ids = res.body.data.map((e: { id: number }) => e.id);
      assert.deepEqual(ids, [t.admin.id, t.editor.id, t.writer.id], `${who.role}: active accounts by id, the deactivated one left out`);
      for (const e of res.body.data) assert.deepEqual(Object.keys(e).sort(), ["id", "name", "role"]);
      assert.equal(res.body.meta.nextCursor, null);
    }
    // The accounts themselves stay ADMIN-only.
    assert.equal((await t.get("/api/v1/admin/editors", { token: t.writer.token })).status, 403);
    assert.equal((await t.get("/api/v1/admin/editors", { token: t.editor.token })).status, 403);
  });

  it("filters by role and pages with a cursor", async () => {
    const extra = await t.addEditor("EDITOR", "Night Editor");
    const editors = await t.get("/api/v1/admin/editor-directory?role=EDITOR", { token: t.writer.token });
    assert.deepEqual(editors.body.data, [
      { id: t.editor.id, name: "EDITOR 2", role: "EDITOR" },
      { id: extra.id, name: "Night Editor", role: "EDITOR" },
    ]);
    const first = await t.get("/api/v1/admin/editor-directory?limit=2", { token: t.writer.token });
    assert.equal(first.body.data.length, 2);
    assert.ok(first.body.meta.nextCursor);
    const second = await t.get(`/api/v1/admin/editor-directory?limit=2&cursor=${first.body.meta.nextCursor}`, { token: t.writer.token });
    assert.deepEqual(second.body.data.map((e: { id: number }) => e.id), [t.writer.id, extra.id]);
  });

  it("a writer credits editors found there, in order", async () => {
    const dir = await t.get("/api/v1/admin/editor-directory?role=EDITOR", { token: t.writer.token });
    const ids = dir.body.data.map((e: { id: number }) => e.id).reverse();
    const a = await makeArticle(t, { headline: "Night market reopens", section: "metro", editors: ids }, t.writer.token);
    assert.deepEqual(a.editors.map((e: { id: number }) => e.id), ids);
  });

  it("answers 401 without a token and 400 with a bad query, as problem+json", async () => {
    assert.equal((await t.get("/api/v1/admin/editor-directory")).status, 401);
    const bad = await t.get("/api/v1/admin/editor-directory?role=OWNER&limit=0", { token: t.writer.token });
    assert.equal(bad.status, 400);
    assert.match(bad.headers["content-type"], /application\/problem\+json/);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), ["query.limit", "query.role"]);
    const cursor = await t.get("/api/v1/admin/editor-directory?cursor=nonsense", { token: t.writer.token });
    assert.equal(cursor.status, 400);
  });
});

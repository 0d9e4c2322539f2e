import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PASSWORD, makeArticle, makeSection, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe("sections (ADMIN)", () => {
  it("creates, moves, renames and refuses to delete a section in use", async () => {
    const root = await makeSection(t, "root-a");
    const child = await makeSection(t, "child-a", "root-a");
    assert.deepEqual(child.parent, { id: root.id, slug: "root-a", name: "root-a" });
    const loop = await t.patch(`/api/v1/admin/sections/${root.id}`, { parent: "child-a" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${root.id}`) });
    assert.equal(loop.status, 400);
    const dup = await t.post("/api/v1/admin/sections", { slug: "root-a", name: "Again" }, { token: t.admin.token });
    assert.equal(dup.status, 409);
    const rename = await t.patch(`/api/v1/admin/sections/${child.id}`, { name: "Child A", position: 3 }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${child.id}`) });
    assert.equal(rename.status, 200);
    assert.equal(rename.body.name, "Child A");
    const hasChild = await t.del(`/api/v1/admin/sections/${root.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${root.id}`) });
    assert.equal(hasChild.status, 409);
    await makeArticle(t, { headline: "Lives in child", section: "child-a" });
    const hasArticle = await t.del(`/api/v1/admin/sections/${child.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${child.id}`) });
    assert.equal(hasArticle.status, 409);
    const empty = await makeSection(t, "empty-a");
    assert.equal((await t.del(`/api/v1/admin/sections/${empty.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${empty.id}`) })).status, 204);
    assert.equal((await t.get(`/api/v1/admin/sections/${empty.id}`, { token: t.admin.token })).status, 404);
  });
});

describe("editors (ADMIN)", () => {
  it("creates an editor who can log in, lists, and never returns password hashes", async () => {
    const res = await t.post("/api/v1/admin/editors", { name: "Wang Lei", email: "Wang.Lei@Test.local", password: "a long enough password", role: "EDITOR" }, { token: t.admin.token });
    assert.equal(res.status, 201);
    assert.equal(res.body.email, "wang.lei@test.local");
    assert.equal("passwordHash" in res.body, false);
    const dup = await t.post("/api/v1/admin/editors", { name: "Dup", email: "WANG.LEI@test.local", password: "a long enough password" }, { token: t.admin.token });
    assert.equal(dup.status, 409);
    const login = await t.post("/api/v1/auth/login", { email: "wang.lei@test.local", password: "a long enough password" });
    assert.equal(login.status, 200);
    const list = await t.get("/api/v1/admin/editors?limit=2", { token: t.admin.token });
    assert.equal(list.body.data.length, 2);
    assert.ok(list.body.meta.nextCursor);
    const short = await t.post("/api/v1/admin/editors", { name: "S", email: "s@test.local", password: "short" }, { token: t.admin.token });
    assert.equal(short.status, 400);
    assert.equal(short.body.errors[0].path, "body.password");
  });

  it("never deactivates or demotes the last active ADMIN", async () => {
    const res = await t.patch(`/api/v1/admin/editors/${t.admin.id}`, { role: "EDITOR" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${t.admin.id}`) });
    assert.equal(res.status, 409);
    const del = await t.del(`/api/v1/admin/editors/${t.admin.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${t.admin.id}`) });
    assert.equal(del.status, 409);
    const second = await t.addEditor("ADMIN");
    const ok = await t.del(`/api/v1/admin/editors/${second.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${second.id}`) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.active, false);
  });

  it("changes a password so the old one stops working", async () => {
    const w = await t.addEditor("WRITER");
    await t.patch(`/api/v1/admin/editors/${w.id}`, { password: "a brand new password" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${w.id}`) });
    assert.equal((await t.post("/api/v1/auth/login", { email: w.email, password: PASSWORD })).status, 401);
    assert.equal((await t.post("/api/v1/auth/login", { email: w.email, password: "a brand new password" })).status, 200);
  });
});

describe("articles (editor API)", () => {
  it("updates fields, replaces credits and tags, filters lists and deletes", async () => {
    await makeSection(t, "desk-b");
    const e1 = await t.addEditor("EDITOR", "First Desk");
    const e2 = await t.addEditor("EDITOR", "Second Desk");
    const a = await makeArticle(t, { headline: "Draft one", section: "desk-b", editors: [e1.id], tags: ["alpha"] }, t.writer.token);
    assert.equal(a.author.id, t.writer.id);
    const upd = await t.patch(`/api/v1/admin/articles/${a.id}`, { editors: [e2.id, e1.id], tags: ["beta", "alpha"], dateline: "KUNMING", byline: null }, { token: t.writer.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(upd.status, 200);
    assert.deepEqual(upd.body.editors.map((e: { name: string }) => e.name), ["Second Desk", "First Desk"]);
    assert.deepEqual(upd.body.tags, [{ slug: "alpha", name: "Alpha" }, { slug: "beta", name: "Beta" }]);
    assert.equal(upd.body.dateline, "KUNMING");
    const mine = await t.get(`/api/v1/admin/articles?author=${t.writer.id}&status=DRAFT&section=desk-b`, { token: t.writer.token });
    assert.deepEqual(mine.body.data.map((x: { id: number }) => x.id), [a.id]);
    assert.equal((await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.writer.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) })).status, 204);
    const trashed = await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.writer.token });
    assert.ok(trashed.body.deletedAt, "DELETE moves the article to the trash");
  });

  it("pages the editor list without duplicates", async () => {
    await makeSection(t, "desk-c");
    for (let i = 0; i < 6; i++) await makeArticle(t, { headline: `C ${i}`, section: "desk-c" });
    const p1 = await t.get("/api/v1/admin/articles?section=desk-c&limit=4", { token: t.editor.token });
    const p2 = await t.get(`/api/v1/admin/articles?section=desk-c&limit=4&cursor=${p1.body.meta.nextCursor}`, { token: t.editor.token });
    const ids = [...p1.body.data, ...p2.body.data].map((x: { id: number }) => x.id);
    assert.equal(ids.length, 6);
    assert.equal(new Set(ids).size, 6);
    assert.equal(p2.body.meta.nextCursor, null);
  });
});

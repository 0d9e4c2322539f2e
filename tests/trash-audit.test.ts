import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { Scheduler } from "../src/articles/scheduler.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

const path = (id: number) => `/api/v1/admin/articles/${id}`;
const trash = async (id: number, token = t.editor.token) => t.del(path(id), { token, headers: await t.ifMatch(path(id)) });

describe("trash", () => {
  it("hides a trashed article, lists it in the trash, and restores it (EDITOR+)", async () => {
    const a = await makeArticle(t, { headline: "Oops", section: "desk" });
    await publish(t, a.id);
    assert.equal((await trash(a.id)).status, 204);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    const live = await t.get("/api/v1/admin/articles?limit=100", { token: t.editor.token });
    assert.ok(!live.body.data.some((x: { id: number }) => x.id === a.id));
    const bin = await t.get("/api/v1/admin/articles?trashed=true", { token: t.editor.token });
    assert.deepEqual(bin.body.data.map((x: { id: number }) => x.id), [a.id]);
    assert.equal((await t.patch(path(a.id), { summary: "x" }, { token: t.editor.token, headers: await t.ifMatch(path(a.id)) })).status, 409);
    assert.equal((await t.post(`${path(a.id)}/restore`, undefined, { token: t.writer.token })).status, 403);
    const back = await t.post(`${path(a.id)}/restore`, undefined, { token: t.editor.token });
    assert.equal(back.status, 200);
    assert.equal(back.body.deletedAt, null);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200, "back where it was");
    assert.equal((await t.post(`${path(a.id)}/restore`, undefined, { token: t.editor.token })).status, 409);
  });

  it("purges only from the trash, only as ADMIN", async () => {
    const a = await makeArticle(t, { headline: "Gone for good", section: "desk" });
    assert.equal((await t.post(`${path(a.id)}/purge`, undefined, { token: t.admin.token })).status, 409);
    await trash(a.id);
    assert.equal((await t.post(`${path(a.id)}/purge`, undefined, { token: t.editor.token })).status, 403);
    assert.equal((await t.post(`${path(a.id)}/purge`, undefined, { token: t.admin.token })).status, 204);
    assert.equal((await t.get(path(a.id), { token: t.admin.token })).status, 404);
  });

  it("stops restoring after the retention period, and the scheduler purges", async () => {
    const a = await makeArticle(t, { headline: "Old rubbish", section: "desk" });
    await trash(a.id);
    await t.db.prisma.article.update({ where: { id: a.id }, data: { deletedAt: new Date(Date.now() - 31 * 86400_000) } });
    assert.equal((await t.post(`${path(a.id)}/restore`, undefined, { token: t.editor.token })).status, 410);
    await new Scheduler(t.db.prisma, pino({ level: "silent" }), { intervalMs: 1000, trashRetentionDays: 30 }).tick();
    assert.equal((await t.get(path(a.id), { token: t.admin.token })).status, 404);
    const purge = await t.get(`/api/v1/admin/audit?action=article.purge&targetId=${a.id}`, { token: t.admin.token });
    assert.equal(purge.body.data[0].actor, null);
  });
});

describe("audit log", () => {
  it("records editorial actions with actor, target, time and client address (ADMIN only)", async () => {
    const a = await makeArticle(t, { headline: "Audited", section: "desk" });
    await t.patch(path(a.id), { summary: "s" }, { token: t.editor.token, headers: { ...(await t.ifMatch(path(a.id))), "X-Forwarded-For": "203.0.113.7" } });
    await publish(t, a.id);
    const c = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "B" });
    await t.patch(`/api/v1/admin/comments/${c.body.id}`, { status: "APPROVED" }, { token: t.editor.token });

    const res = await t.get(`/api/v1/admin/audit?targetType=article&targetId=${a.id}`, { token: t.admin.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.map((r: { action: string }) => r.action), ["article.publish", "article.update", "article.create"]);
    const upd = res.body.data[1];
    assert.equal(upd.actor.id, t.editor.id);
    assert.equal(upd.ip, "203.0.113.7");
    assert.deepEqual(upd.details.changed, ["summary"]);
    assert.ok(Date.now() - Date.parse(upd.createdAt) < 60_000);
    const mod = await t.get(`/api/v1/admin/audit?action=comment.moderate&targetId=${c.body.id}`, { token: t.admin.token });
    assert.deepEqual(mod.body.data[0].details, { from: "PENDING", to: "APPROVED" });
    const prefix = await t.get("/api/v1/admin/audit?action=article.&limit=100", { token: t.admin.token });
    assert.ok(prefix.body.data.every((r: { action: string }) => r.action.startsWith("article.")));
    assert.equal((await t.get("/api/v1/admin/audit", { token: t.editor.token })).status, 403);
  });

  it("writes nothing when the action fails", async () => {
    const before = await t.db.prisma.auditLog.count();
    const a = await makeArticle(t, { headline: "Atomic audit", section: "desk" });
    const res = await t.patch(path(a.id), { headline: "New", related: [424242] }, { token: t.editor.token, headers: await t.ifMatch(path(a.id)) });
    assert.equal(res.status, 400);
    assert.equal(await t.db.prisma.auditLog.count(), before + 1, "only the create");
    const revs = await t.db.prisma.articleRevision.count({ where: { articleId: a.id } });
    assert.equal(revs, 1);
  });

  it("records editor management and logins", async () => {
    const created = await t.post("/api/v1/admin/editors", { name: "Audit Me", email: "audit.me@test.local", password: "a long enough password" }, { token: t.admin.token });
    await t.post("/api/v1/auth/login", { email: "audit.me@test.local", password: "a long enough password" });
    const res = await t.get(`/api/v1/admin/audit?targetType=editor&targetId=${created.body.id}`, { token: t.admin.token });
    assert.deepEqual(res.body.data.map((r: { action: string }) => r.action), ["auth.login", "editor.create"]);
    assert.equal(res.body.data[1].actor.id, t.admin.id);
  });
});

// Lost-update protection and the scheduler, under truly concurrent requests.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { Scheduler } from "../src/articles/scheduler.ts";
import { makeArticle, makeSection, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: "silent" });

describe("ETag / If-Match", () => {
  it("sends an ETag that changes on every write, and requires If-Match on PATCH and DELETE", async () => {
    const a = await makeArticle(t, { headline: "Versioned", section: "desk" });
    const path = `/api/v1/admin/articles/${a.id}`;
    const get = await t.get(path, { token: t.editor.token });
    assert.equal(get.headers.etag, '"1"');
    const missing = await t.patch(path, { summary: "x" }, { token: t.editor.token });
    assert.equal(missing.status, 428);
    const weak = await t.patch(path, { summary: "x" }, { token: t.editor.token, headers: { "If-Match": 'W/"1"' } });
    assert.equal(weak.status, 412, "weak tags never match If-Match");
    const ok = await t.patch(path, { summary: "x" }, { token: t.editor.token, headers: { "If-Match": get.headers.etag } });
    assert.equal(ok.status, 200);
    assert.notEqual(ok.headers.etag, get.headers.etag);
    const stale = await t.del(path, { token: t.editor.token, headers: { "If-Match": get.headers.etag } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.currentEtag, ok.headers.etag);
    assert.equal(stale.body.current.summary, "x");
    assert.equal((await t.del(path, { token: t.editor.token })).status, 428);
    assert.equal((await t.del(path, { token: t.editor.token, headers: { "If-Match": "*" } })).status, 204);
  });

  it("lets exactly one of several concurrent saves win; the others get 412 and nothing vanishes silently", async () => {
    const a = await makeArticle(t, { headline: "Contested", section: "desk" });
    const path = `/api/v1/admin/articles/${a.id}`;
    const { "If-Match": tag } = await t.ifMatch(path);
    const editors = [t.editor, t.admin, await t.addEditor("EDITOR"), await t.addEditor("EDITOR"), await t.addEditor("ADMIN")];
    const results = await Promise.all(editors.map((e, i) =>
      t.patch(path, { headline: `Version by ${i}` }, { token: e.token, headers: { "If-Match": tag } })));
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status === 412);
    assert.equal(won.length, 1, results.map((r) => r.status).join(","));
    assert.equal(lost.length, editors.length - 1);
    for (const r of lost) assert.equal(r.body.current.headline, won[0].body.headline);
    const revs = await t.get(`${path}/revisions`, { token: t.editor.token });
    assert.deepEqual(revs.body.data.map((r: { action: string }) => r.action), ["update", "create"]);
  });

  it("protects sections and editors the same way", async () => {
    const s = await makeSection(t, "versioned-section");
    const sp = `/api/v1/admin/sections/${s.id}`;
    const first = await t.patch(sp, { name: "A" }, { token: t.admin.token, headers: { "If-Match": '"1"' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.etag, '"2"');
    assert.equal((await t.patch(sp, { name: "B" }, { token: t.admin.token, headers: { "If-Match": '"1"' } })).status, 412);
    assert.equal((await t.del(sp, { token: t.admin.token })).status, 428);
    const w = await t.addEditor("WRITER");
    const ep = `/api/v1/admin/editors/${w.id}`;
    assert.equal((await t.patch(ep, { name: "N" }, { token: t.admin.token })).status, 428);
    const results = await Promise.all([1, 2, 3].map((i) =>
      t.patch(ep, { name: `Name ${i}` }, { token: t.admin.token, headers: { "If-Match": '"1"' } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
  });
});

describe("scheduled publishing", () => {
  it("publishes a due article within 5 seconds, with publishedAt = scheduledAt", { timeout: 30_000 }, async () => {
    const scheduler = new Scheduler(t.db.prisma, silent, { intervalMs: 1000, trashRetentionDays: 30 });
    scheduler.start();
    try {
      const a = await makeArticle(t, { headline: "On the hour", section: "desk" });
      const at = new Date(Date.now() + 1500);
      const sch = await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: at.toISOString() }, { token: t.editor.token });
      assert.equal(sch.status, 200);
      let res;
      do {
        await sleep(200);
        res = await t.get(`/api/v1/articles/${a.slug}`);
      } while (res.status === 404 && Date.now() < at.getTime() + 5000);
      assert.equal(res.status, 200, "published within 5 s of scheduledAt");
      assert.equal(res.body.publishedAt, at.toISOString());
      const adm = await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token });
      assert.equal(adm.body.status, "PUBLISHED");
      assert.equal(adm.body.scheduledAt, null);
      const revs = await t.get(`/api/v1/admin/articles/${a.id}/revisions`, { token: t.editor.token });
      assert.equal(revs.body.data[0].action, "scheduled-publish");
      assert.equal(revs.body.data[0].editor, null);
    } finally {
      await scheduler.stop();
    }
  });

  it("publishes schedules missed while no scheduler ran, on its first tick", async () => {
    const a = await makeArticle(t, { headline: "Missed while down", section: "desk" });
    const at = new Date(Date.now() + 300);
    await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: at.toISOString() }, { token: t.editor.token });
    await sleep(500);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    const scheduler = new Scheduler(t.db.prisma, silent, { intervalMs: 60_000, trashRetentionDays: 30 });
    scheduler.start();
    await scheduler.stop();
    const res = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.publishedAt, at.toISOString());
  });

  it("publishes each article exactly once with two schedulers running at once", { timeout: 60_000 }, async () => {
    const peer = await t.openPeer();
    const s1 = new Scheduler(t.db.prisma, silent, { intervalMs: 20, trashRetentionDays: 30 });
    const s2 = new Scheduler(peer.prisma, silent, { intervalMs: 20, trashRetentionDays: 30 });
    try {
      const ids: number[] = [];
      for (let i = 0; i < 30; i++) {
        const a = await makeArticle(t, { headline: `Batch ${i}`, section: "desk" });
        const s = await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: new Date(Date.now() + 3_600_000).toISOString() }, { token: t.editor.token });
        assert.equal(s.status, 200);
        ids.push(a.id);
      }
      // Make them all due at once (as after downtime) without racing the clock.
      const due = new Date(Date.now() - 1000);
      await t.db.prisma.article.updateMany({ where: { id: { in: ids } }, data: { scheduledAt: due } });
      // Both race over the same due rows, tick after tick.
      const published = (await Promise.all([
        (async () => { const out: number[] = []; for (let i = 0; i < 5; i++) out.push(...(await s1.tick())); return out; })(),
        (async () => { const out: number[] = []; for (let i = 0; i < 5; i++) out.push(...(await s2.tick())); return out; })(),
      ])).flat();
      assert.deepEqual([...published].sort((x, y) => x - y), [...ids].sort((x, y) => x - y), "each id published by exactly one tick");
      const revisions = await t.db.prisma.articleRevision.groupBy({
        by: ["articleId"], where: { articleId: { in: ids }, action: "scheduled-publish" }, _count: true,
      });
      assert.equal(revisions.length, 30);
      assert.ok(revisions.every((r) => r._count === 1));
      const audits = await t.db.prisma.auditLog.count({ where: { action: "article.scheduled-publish", targetId: { in: ids } } });
      assert.equal(audits, 30);
      const rows = await t.db.prisma.article.findMany({ where: { id: { in: ids } }, select: { status: true, publishedAt: true } });
      assert.ok(rows.every((r) => r.status === "PUBLISHED" && r.publishedAt?.getTime() === due.getTime()));
    } finally {
      await s1.stop();
      await s2.stop();
      if (peer !== t.db) await peer.close();
    }
  });
});

// Edit locks (issue 12 §4): take, renew, release, force takeover, 423 on
// other editors' writes, expiry, and the lock seen across two app instances.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, startTestApp, type TestApp, type TestEditor } from "./support/harness.ts";

let t: TestApp;
let editor2: TestEditor;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
  editor2 = await t.addEditor("EDITOR", "Second Editor");
});
after(() => t.close());

let n = 0;
const article = async (token = t.editor.token) => makeArticle(t, { headline: `Locked story ${++n}`, section: "desk" }, token);
const lock = (id: number, token: string, force = false) =>
  t.post(`/api/v1/admin/articles/${id}/lock${force ? "?force=true" : ""}`, undefined, { token });
const unlock = (id: number, token: string) => t.del(`/api/v1/admin/articles/${id}/lock`, { token });
const get = (id: number, token = t.admin.token) => t.get(`/api/v1/admin/articles/${id}`, { token });

describe("edit locks", () => {
  it("taking a lock shows lockedBy on the article; renewing keeps since and moves expiresAt", async () => {
    const a = await article();
    assert.equal(a.lockedBy, null);
    const first = await lock(a.id, t.editor.token);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.lockedBy.id, t.editor.id);
    assert.equal(first.body.takenFrom, null);
    const ttl = Date.parse(first.body.lockedBy.expiresAt) - Date.parse(first.body.lockedBy.since);
    assert.ok(ttl >= 60_000 && ttl <= 300_000, `TTL ${ttl}`);
    const seen = await get(a.id);
    assert.deepEqual(seen.body.lockedBy, first.body.lockedBy);
    await new Promise((r) => setTimeout(r, 20));
    const renewed = await lock(a.id, t.editor.token);
    assert.equal(renewed.status, 200);
    assert.equal(renewed.body.lockedBy.since, first.body.lockedBy.since);
    assert.ok(Date.parse(renewed.body.lockedBy.expiresAt) > Date.parse(first.body.lockedBy.expiresAt));
  });

  it("someone else's writes answer 423 with the holder; the holder's own writes pass", async () => {
    const a = await article();
    assert.equal((await lock(a.id, t.editor.token)).status, 200);
    const etag = await t.ifMatch(`/api/v1/admin/articles/${a.id}`);
    const writes = [
      () => t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Theirs" }, { token: editor2.token, headers: etag }),
      () => t.post(`/api/v1/admin/articles/${a.id}/submit`, undefined, { token: editor2.token }),
      () => t.post(`/api/v1/admin/articles/${a.id}/publish`, undefined, { token: t.admin.token }),
      () => t.del(`/api/v1/admin/articles/${a.id}`, { token: t.admin.token, headers: etag }),
      () => t.post(`/api/v1/admin/articles/${a.id}/revisions/1/restore`, undefined, { token: editor2.token }),
      () => t.post("/api/v1/admin/articles", { headline: "Translation", section: "desk", translationOf: a.id }, { token: editor2.token }),
    ];
    for (const write of writes) {
      const res = await write();
      assert.equal(res.status, 423, res.text);
      assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");
      assert.equal(res.body.type, "urn:dateline:problem:locked");
      assert.equal(res.body.lockedBy.id, t.editor.id);
    }
    // Nothing changed.
    assert.equal((await get(a.id)).body.version, a.version);
    const mine = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Mine" }, { token: t.editor.token, headers: etag });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.body.lockedBy.id, t.editor.id);
  });

  it("a lock held by someone else cannot be taken or released without force", async () => {
    const a = await article();
    await lock(a.id, t.editor.token);
    const taken = await lock(a.id, editor2.token);
    assert.equal(taken.status, 423);
    assert.equal(taken.body.lockedBy.id, t.editor.id);
    const released = await unlock(a.id, editor2.token);
    assert.equal(released.status, 423);
    assert.equal((await get(a.id)).body.lockedBy.id, t.editor.id);
  });

  it("release: the article is unlocked and anyone may write again (If-Match still applies)", async () => {
    const a = await article();
    await lock(a.id, t.editor.token);
    assert.equal((await unlock(a.id, t.editor.token)).status, 204);
    assert.equal((await unlock(a.id, t.editor.token)).status, 204, "releasing no lock is fine");
    assert.equal((await get(a.id)).body.lockedBy, null);
    const stale = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "X" }, { token: editor2.token, headers: { "If-Match": '"999"' } });
    assert.equal(stale.status, 412);
    const ok = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "X" }, { token: editor2.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(ok.status, 200, ok.text);
  });

  it("force: EDITOR+ take over (audited); the previous holder's next write is a 423 naming the new holder", async () => {
    const a = await article();
    await lock(a.id, t.editor.token);
    const forced = await lock(a.id, editor2.token, true);
    assert.equal(forced.status, 200, forced.text);
    assert.equal(forced.body.lockedBy.id, editor2.id);
    assert.deepEqual(forced.body.takenFrom, { id: t.editor.id, name: "EDITOR 2" });
    const res = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Old holder" }, {
      token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`),
    });
    assert.equal(res.status, 423);
    assert.equal(res.body.lockedBy.id, editor2.id);
    assert.equal(res.body.lockedBy.name, "Second Editor");
    const auditRes = await t.get(`/api/v1/admin/audit?action=article.lock.force`, { token: t.admin.token });
    assert.equal(auditRes.status, 200, auditRes.text);
    const entry = auditRes.body.data.find((e: any) => e.targetId === a.id);
    assert.ok(entry, "the takeover is audited");
    assert.equal(entry.actor?.id ?? entry.actorId, editor2.id);
  });

  it("a WRITER cannot force, and cannot lock an article they may not change", async () => {
    const own = await article(t.writer.token);
    await lock(own.id, t.editor.token);
    const forced = await lock(own.id, t.writer.token, true);
    assert.equal(forced.status, 403);
    const other = await article();
    const res = await lock(other.id, t.writer.token);
    assert.equal(res.status, 404, "a writer cannot see another's draft");
    assert.equal((await lock(999999, t.editor.token)).status, 404);
    assert.equal((await t.post(`/api/v1/admin/articles/${own.id}/lock?force=maybe`, undefined, { token: t.editor.token })).status, 400);
    assert.equal((await t.post(`/api/v1/admin/articles/${own.id}/lock`, { x: 1 }, { token: t.editor.token })).status, 400);
  });

  it("an expired lock counts as no lock", async () => {
    const a = await article();
    await lock(a.id, t.editor.token);
    await t.db.prisma.articleEditLock.update({ where: { articleId: a.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await get(a.id)).body.lockedBy, null);
    const res = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "After expiry" }, {
      token: editor2.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`),
    });
    assert.equal(res.status, 200, res.text);
    const taken = await lock(a.id, editor2.token);
    assert.equal(taken.status, 200);
    assert.equal(taken.body.takenFrom, null, "taking an expired lock is no takeover");
    assert.equal(taken.body.lockedBy.id, editor2.id);
  });

  it("the lock is a row: a second app instance on the same database sees it", async () => {
    if (!t.schema) return; // PGlite: one process, one connection; the PostgreSQL run covers this.
    const peer = await t.openPeer();
    try {
      const a = await article();
      await lock(a.id, t.editor.token);
      const row = await peer.prisma.articleEditLock.findUnique({ where: { articleId: a.id } });
      assert.equal(row?.editorId, t.editor.id);
    } finally {
      await peer.close();
    }
  });
});

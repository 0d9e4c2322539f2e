// Refresh-token reuse grace (issue 7, item 11): two tabs refreshing with the
// same token at once both get the same new pair; a replay after the grace
// window, or once the new token was itself used, is still theft.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

const login = async (app: TestApp, email: string) => {
  const res = await app.post("/api/v1/auth/login", { email, password: PASSWORD });
  assert.equal(res.status, 200);
  return res.body as { accessToken: string; refreshToken: string };
};
const refresh = (app: TestApp, refreshToken: string) => app.post("/api/v1/auth/refresh", { refreshToken });
const me = (app: TestApp, token: string) => app.get("/api/v1/admin/me", { token });
const reuseAudits = async (app: TestApp, editorId: number) =>
  (await app.db.prisma.auditLog.findMany({ where: { action: "auth.refresh-reuse", targetId: editorId } })).length;

describe("refreshing with the same token at once", () => {
  it("answers both with the same new refresh token and keeps the session", async () => {
    assert.equal(t.config.REFRESH_REUSE_GRACE_SECONDS, 10);
    const w = await t.addEditor("WRITER");
    const l = await login(t, w.email);
    const [a, b] = await Promise.all([refresh(t, l.refreshToken), refresh(t, l.refreshToken)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(a.body.refreshToken, b.body.refreshToken);
    assert.notEqual(a.body.refreshToken, l.refreshToken);
    for (const pair of [a.body, b.body]) assert.equal((await me(t, pair.accessToken)).status, 200);
    // The session goes on: the shared new token rotates as usual.
    const next = await refresh(t, a.body.refreshToken);
    assert.equal(next.status, 200);
    assert.equal((await me(t, next.body.accessToken)).status, 200);
    assert.equal(await reuseAudits(t, w.id), 0);
  });

  it("answers many parallel uses of one token with one new token", async () => {
    const w = await t.addEditor("WRITER");
    const l = await login(t, w.email);
    const all = await Promise.all(Array.from({ length: 8 }, () => refresh(t, l.refreshToken)));
    assert.deepEqual(all.map((r) => r.status), Array(8).fill(200));
    assert.equal(new Set(all.map((r) => r.body.refreshToken)).size, 1);
    assert.equal((await refresh(t, all[0].body.refreshToken)).status, 200);
  });

  it("still treats a replay as theft once the new token was used", async () => {
    const w = await t.addEditor("WRITER");
    const l = await login(t, w.email);
    const r1 = await refresh(t, l.refreshToken);
    const r2 = await refresh(t, r1.body.refreshToken);
    assert.equal(r2.status, 200);
    // Within the grace window, but the successor is already used up.
    assert.equal((await refresh(t, l.refreshToken)).status, 401);
    assert.equal((await refresh(t, r2.body.refreshToken)).status, 401);
    assert.equal((await me(t, r2.body.accessToken)).status, 401);
    assert.equal(await reuseAudits(t, w.id), 1);
    const sealed = await t.db.prisma.refreshToken.count({ where: { session: { editorId: w.id }, successor: { not: null } } });
    assert.equal(sealed, 0, "the sealed successors of a revoked session are wiped");
  });

  it("never stores a refresh token in the clear", async () => {
    const w = await t.addEditor("WRITER");
    const l = await login(t, w.email);
    const r1 = await refresh(t, l.refreshToken);
    const rows = JSON.stringify(await t.db.prisma.refreshToken.findMany({ where: { session: { editorId: w.id } } }));
    for (const token of [l.refreshToken, r1.body.refreshToken]) assert.ok(!rows.includes(token));
  });
});

describe("a replay after the grace window", () => {
  let g: TestApp;
  before(async () => {
    g = await startTestApp({ REFRESH_REUSE_GRACE_SECONDS: "1" });
  });
  after(() => g.close());

  it("revokes the session", async () => {
    const w = await g.addEditor("WRITER");
    const l = await login(g, w.email);
    const r1 = await refresh(g, l.refreshToken);
    assert.equal(r1.status, 200);
    // Wait until the grace window has certainly passed (usedAt is in the database).
    const used = await g.db.prisma.refreshToken.findFirstOrThrow({ where: { session: { editorId: w.id }, usedAt: { not: null } } });
    while (Date.now() <= used.usedAt!.getTime() + 1000) await sleep(100);
    assert.equal((await refresh(g, l.refreshToken)).status, 401);
    assert.equal((await refresh(g, r1.body.refreshToken)).status, 401);
    assert.equal((await me(g, r1.body.accessToken)).status, 401);
    assert.equal(await reuseAudits(g, w.id), 1);
  });
});

// Check-then-act races elsewhere in authentication (issue 7, with items 5 and
// 11): each runs the competing requests in parallel and asserts the outcome a
// serial order would give.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe("parallel password changes with the same current password", () => {
  it("apply one; the other is a 409 and does not overwrite it", async () => {
    const w = await t.addEditor("WRITER");
    const change = (newPassword: string) =>
      t.post("/api/v1/admin/me/password", { currentPassword: PASSWORD, newPassword }, { token: w.token });
    const [a, b] = await Promise.all([change("first new password"), change("second new password")]);
    assert.deepEqual([a.status, b.status].sort(), [204, 409]);
    const lost = a.status === 409 ? a : b;
    assert.equal(lost.body.type, "urn:dateline:problem:password-changed");
    const won = a.status === 204 ? "first new password" : "second new password";
    const other = a.status === 204 ? "second new password" : "first new password";
    assert.equal((await t.post("/api/v1/auth/login", { email: w.email, password: won })).status, 200);
    assert.equal((await t.post("/api/v1/auth/login", { email: w.email, password: other })).status, 401);
    assert.equal(await t.db.prisma.auditLog.count({ where: { action: "auth.password-change", targetId: w.id } }), 1);
  });
});

describe("parallel logouts of one session", () => {
  it("revoke it once and record one logout", async () => {
    const w = await t.addEditor("WRITER");
    const l = await t.post("/api/v1/auth/login", { email: w.email, password: PASSWORD });
    const all = await Promise.all(Array.from({ length: 6 }, () => t.post("/api/v1/auth/logout", { refreshToken: l.body.refreshToken })));
    assert.deepEqual(all.map((r) => r.status), Array(6).fill(204));
    assert.equal((await t.get("/api/v1/admin/me", { token: l.body.accessToken })).status, 401);
    assert.equal(await t.db.prisma.auditLog.count({ where: { action: "auth.logout", targetId: w.id } }), 1);
  });
});

describe("two ADMINs demoted at once", () => {
  it("leave one active ADMIN: the second demotion is a 409 last-admin", async () => {
    const second = await t.addEditor("ADMIN");
    // Only t.admin and `second` are active ADMINs.
    assert.equal(await t.db.prisma.editor.count({ where: { role: "ADMIN", active: true } }), 2);
    const [h1, h2] = [await t.ifMatch(`/api/v1/admin/editors/${t.admin.id}`), await t.ifMatch(`/api/v1/admin/editors/${second.id}`)];
    // Each demotes themselves, so whichever runs second is still an ADMIN.
    const [a, b] = await Promise.all([
      t.patch(`/api/v1/admin/editors/${t.admin.id}`, { role: "WRITER" }, { token: t.admin.token, headers: h1 }),
      t.patch(`/api/v1/admin/editors/${second.id}`, { role: "WRITER" }, { token: second.token, headers: h2 }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    assert.equal((a.status === 409 ? a : b).body.type, "urn:dateline:problem:last-admin");
    assert.equal(await t.db.prisma.editor.count({ where: { role: "ADMIN", active: true } }), 1);
  });
});

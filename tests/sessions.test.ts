import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  // No reuse grace: a replay is always theft here (the grace window has its
  // own tests in refresh-race.test.ts).
  t = await startTestApp({ LOGIN_MAX_FAILURES_PER_IP: "8", REFRESH_REUSE_GRACE_SECONDS: "0" });
});
after(() => t.close());

const login = (email: string, password = PASSWORD, ip = "198.51.100.1") =>
  t.post("/api/v1/auth/login", { email, password }, { headers: { "X-Forwarded-For": ip } });
const me = (token: string) => t.get("/api/v1/admin/me", { token });
const refresh = (refreshToken: string) => t.post("/api/v1/auth/refresh", { refreshToken });

describe("refresh tokens", () => {
  it("rotate on every use", async () => {
    const l = await login(t.editor.email);
    assert.equal(l.status, 200);
    assert.ok(l.body.refreshToken.length >= 40);
    assert.equal(l.body.refreshExpiresIn, 30 * 86400);
    const r1 = await refresh(l.body.refreshToken);
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.refreshToken, l.body.refreshToken);
    assert.equal((await me(r1.body.accessToken)).status, 200);
    const r2 = await refresh(r1.body.refreshToken);
    assert.equal(r2.status, 200);
    assert.equal((await refresh("not-a-real-token")).status, 401);
  });

  it("revoke the whole family when a rotated token is reused", async () => {
    const l = await login(t.editor.email);
    const r1 = await refresh(l.body.refreshToken);
    // An attacker replays the first token.
    const replay = await refresh(l.body.refreshToken);
    assert.equal(replay.status, 401);
    // The legitimate holder's newer tokens are dead too.
    assert.equal((await refresh(r1.body.refreshToken)).status, 401);
    assert.equal((await me(r1.body.accessToken)).status, 401);
    assert.equal((await me(l.body.accessToken)).status, 401);
    const audit = await t.get("/api/v1/admin/audit?action=auth.refresh-reuse", { token: t.admin.token });
    assert.equal(audit.body.data.length, 1);
    assert.equal(audit.body.data[0].targetId, t.editor.id);
    // Other sessions of the same editor are unaffected.
    assert.equal((await me(t.editor.token)).status, 200);
  });

  it("end with logout, for both the refresh and the access token", async () => {
    const l = await login(t.writer.email);
    const out = await t.post("/api/v1/auth/logout", { refreshToken: l.body.refreshToken });
    assert.equal(out.status, 204);
    assert.equal((await refresh(l.body.refreshToken)).status, 401);
    assert.equal((await me(l.body.accessToken)).status, 401);
    assert.equal((await t.post("/api/v1/auth/logout", { refreshToken: "unknown" })).status, 204);
  });

  it("end for other sessions when an editor changes their password", async () => {
    const w = await t.addEditor("WRITER");
    const a = await login(w.email);
    const b = await login(w.email);
    const wrong = await t.post("/api/v1/admin/me/password", { currentPassword: "not it", newPassword: "a much better password" }, { token: a.body.accessToken });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.errors[0].path, "body.currentPassword");
    const weak = await t.post("/api/v1/admin/me/password", { currentPassword: PASSWORD, newPassword: "short" }, { token: a.body.accessToken });
    assert.equal(weak.status, 400);
    const ok = await t.post("/api/v1/admin/me/password", { currentPassword: PASSWORD, newPassword: "a much better password" }, { token: a.body.accessToken });
    assert.equal(ok.status, 204);
    assert.equal((await me(a.body.accessToken)).status, 200, "the session that changed it stays");
    assert.equal((await me(b.body.accessToken)).status, 401);
    assert.equal((await refresh(b.body.refreshToken)).status, 401);
    assert.equal((await me(w.token)).status, 401);
    assert.equal((await login(w.email)).status, 401);
    assert.equal((await login(w.email, "a much better password")).status, 200);
  });

  it("end when an ADMIN deactivates the editor", async () => {
    const w = await t.addEditor("WRITER");
    const l = await login(w.email);
    await t.del(`/api/v1/admin/editors/${w.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${w.id}`) });
    assert.equal((await refresh(l.body.refreshToken)).status, 401);
    assert.equal((await me(l.body.accessToken)).status, 401);
  });
});

describe("login rate limits", () => {
  it("answer 429 with Retry-After after 5 failures for one account from one address, even with the right password", async () => {
    const w = await t.addEditor("WRITER");
    for (let i = 0; i < 5; i++) {
      assert.equal((await login(w.email, "wrong password", "203.0.113.10")).status, 401);
    }
    const blocked = await login(w.email, PASSWORD, "203.0.113.10");
    assert.equal(blocked.status, 429);
    const retry = Number(blocked.headers["retry-after"]);
    assert.ok(retry > 800 && retry <= 900, `Retry-After ${retry}`);
    assert.match(blocked.body.detail, /account/);
    // The same account from another address, and other accounts, are not affected.
    assert.equal((await login(w.email, PASSWORD, "203.0.113.99")).status, 200);
    assert.equal((await login(t.admin.email, PASSWORD, "203.0.113.10")).status, 200);
  });

  it("answer 429 per client address, whichever accounts it tries", async () => {
    const ip = "192.0.2.44";
    for (let i = 0; i < 8; i++) {
      assert.equal((await login(`nobody${i}@test.local`, "guess", ip)).status, 401);
    }
    const blocked = await login(t.admin.email, PASSWORD, ip);
    assert.equal(blocked.status, 429);
    assert.match(blocked.body.detail, /address/);
    assert.equal((await login(t.admin.email, PASSWORD, "192.0.2.45")).status, 200);
  });

  it("record failed logins in the audit log with the address, and the email only when it is an editor's", async () => {
    const res = await t.get("/api/v1/admin/audit?action=auth.login-failed&limit=100", { token: t.admin.token });
    const unknown = res.body.data.filter((r: { ip: string }) => r.ip === "192.0.2.44");
    assert.equal(unknown.length, 8);
    for (const row of unknown) {
      assert.equal(row.email, null);
      assert.equal(row.actor, null);
      assert.match(row.details.emailHash, /^[\w-]{43}$/);
    }
    // One keyed hash per distinct email typed, so repeats can be grouped.
    assert.equal(new Set(unknown.map((r: { details: { emailHash: string } }) => r.details.emailHash)).size, 8);
    const known = res.body.data.find((r: { ip: string }) => r.ip === "203.0.113.10");
    assert.match(known.email, /^writer\d+@test\.local$/);
    assert.equal(known.targetType, "editor");
  });
});

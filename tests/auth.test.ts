import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import jwt from "jsonwebtoken";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

const sign = (payload: object, secret: string, opts: jwt.SignOptions) => jwt.sign(payload, secret, opts);

describe("login", () => {
  it("issues a bearer token that /admin/me accepts", async () => {
    const res = await t.post("/api/v1/auth/login", { email: t.editor.email.toUpperCase(), password: PASSWORD });
    assert.equal(res.status, 200);
    assert.equal(res.body.tokenType, "Bearer");
    assert.equal(res.body.expiresIn, 900);
    assert.equal(res.headers["cache-control"], "no-store");
    const me = await t.get("/api/v1/admin/me", { token: res.body.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, t.editor.id);
    assert.equal(me.body.role, "EDITOR");
    assert.equal("passwordHash" in me.body, false);
    const decoded = jwt.decode(res.body.accessToken, { complete: true })!;
    assert.equal(decoded.header.alg, "HS256");
  });

  it("refuses wrong passwords and unknown emails alike", async () => {
    const wrong = await t.post("/api/v1/auth/login", { email: t.editor.email, password: "wrong password!" });
    const unknown = await t.post("/api/v1/auth/login", { email: "nobody@test.local", password: PASSWORD });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.detail, unknown.body.detail);
    assert.equal((await t.post("/api/v1/auth/login", { email: "x" })).status, 400);
  });
});

describe("token failures", () => {
  const cases: [string, () => string][] = [
    ["expired", () => sign({}, t.secret, { algorithm: "HS256", subject: String(t.admin.id), issuer: "dateline", audience: "dateline-admin", expiresIn: -10 })],
    ["wrong signature", () => sign({}, "another-secret-that-is-long-enough-000", { algorithm: "HS256", subject: String(t.admin.id), issuer: "dateline", audience: "dateline-admin", expiresIn: 60 })],
    ["alg none", () => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const now = Math.floor(Date.now() / 1000);
      return `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: String(t.admin.id), iss: "dateline", aud: "dateline-admin", iat: now, exp: now + 60 })}.`;
    }],
    ["HS512 instead of the pinned HS256", () => sign({}, t.secret, { algorithm: "HS512", subject: String(t.admin.id), issuer: "dateline", audience: "dateline-admin", expiresIn: 60 })],
    ["wrong audience", () => sign({}, t.secret, { algorithm: "HS256", subject: String(t.admin.id), issuer: "dateline", audience: "someone-else", expiresIn: 60 })],
    ["wrong issuer", () => sign({}, t.secret, { algorithm: "HS256", subject: String(t.admin.id), issuer: "elsewhere", audience: "dateline-admin", expiresIn: 60 })],
    ["unknown editor", () => sign({}, t.secret, { algorithm: "HS256", subject: "999999", issuer: "dateline", audience: "dateline-admin", expiresIn: 60 })],
    ["garbage", () => "not.a.token"],
  ];
  for (const [name, make] of cases) {
    it(`answers 401 for a token that is ${name}`, async () => {
      const res = await t.get("/api/v1/admin/me", { token: make() });
      assert.equal(res.status, 401);
      assert.match(res.headers["www-authenticate"], /^Bearer/);
    });
  }

  it("answers 401 without a token or with a non-bearer scheme", async () => {
    assert.equal((await t.get("/api/v1/admin/me")).status, 401);
    assert.equal((await t.get("/api/v1/admin/me", { headers: { Authorization: "Basic YTpi" } })).status, 401);
  });

  it("stops a deactivated editor's token at once, and its login", async () => {
    const w = await t.addEditor("WRITER");
    assert.equal((await t.get("/api/v1/admin/me", { token: w.token })).status, 200);
    const off = await t.patch(`/api/v1/admin/editors/${w.id}`, { active: false }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${w.id}`) });
    assert.equal(off.status, 200);
    assert.equal(off.body.active, false);
    assert.equal((await t.get("/api/v1/admin/me", { token: w.token })).status, 401);
    assert.equal((await t.post("/api/v1/auth/login", { email: w.email, password: PASSWORD })).status, 401);
  });

  it("applies a role change on the next request", async () => {
    const e = await t.addEditor("EDITOR");
    assert.equal((await t.get("/api/v1/admin/comments", { token: e.token })).status, 200);
    await t.patch(`/api/v1/admin/editors/${e.id}`, { role: "WRITER" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${e.id}`) });
    assert.equal((await t.get("/api/v1/admin/comments", { token: e.token })).status, 403);
  });
});

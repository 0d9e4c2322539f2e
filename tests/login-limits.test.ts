// Login limits (issue 7, items 4, 5 and the audit part of 20): counted
// atomically, per account and address, per address, and per account with a
// ceiling that a known client of the account is not subject to. The client
// address is chosen through X-Forwarded-For (the harness listens on loopback,
// which TRUST_PROXY=loopback trusts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PASSWORD, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";

const PER_ACCOUNT = 5;
const PER_IP = 12;
const GLOBAL = 9;

let t: TestApp;
before(async () => {
  t = await startTestApp({
    LOGIN_MAX_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT),
    LOGIN_MAX_FAILURES_PER_IP: String(PER_IP),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL: String(GLOBAL),
  });
});
after(() => t.close());

const login = (email: string, password: string, ip: string) =>
  t.post("/api/v1/auth/login", { email, password }, { headers: { "X-Forwarded-For": ip } });

function assertLimited(res: TestResponse, detail: RegExp) {
  assert.equal(res.status, 429);
  assert.equal(res.body.type, "urn:dateline:problem:too-many-login-attempts");
  const retry = Number(res.headers["retry-after"]);
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 900, `Retry-After ${res.headers["retry-after"]}`);
  assert.match(res.body.detail, detail);
}

const statuses = (all: TestResponse[]) => {
  const count = new Map<number, number>();
  for (const r of all) count.set(r.status, (count.get(r.status) ?? 0) + 1);
  return Object.fromEntries(count);
};

describe("the login limiter counts and checks in one atomic step", () => {
  it("lets exactly LOGIN_MAX_FAILURES_PER_ACCOUNT of 40 parallel wrong guesses on one account be checked", async () => {
    const w = await t.addEditor("WRITER");
    const all = await Promise.all(Array.from({ length: 40 }, () => login(w.email, "wrong password", "198.51.100.7")));
    assert.deepEqual(statuses(all), { 401: PER_ACCOUNT, 429: 40 - PER_ACCOUNT });
    for (const r of all.filter((r) => r.status === 429)) assertLimited(r, /account from your address/);
    // Only the checked ones were recorded as failures.
    const failed = await t.db.prisma.auditLog.count({ where: { action: "auth.login-failed", targetId: w.id } });
    assert.equal(failed, PER_ACCOUNT);
  });

  it("lets exactly LOGIN_MAX_FAILURES_PER_IP of 40 parallel guesses on 40 accounts from one address be checked", async () => {
    const all = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(`nobody${i}@test.local`, "guess", "198.51.100.8")),
    );
    assert.deepEqual(statuses(all), { 401: PER_IP, 429: 40 - PER_IP });
    for (const r of all.filter((r) => r.status === 429)) assertLimited(r, /from this address/);
  });
});

describe("nobody can lock an account out", () => {
  it("keeps the owner signing in from another address after an attacker exhausted the account", async () => {
    const victim = await t.addEditor("ADMIN");
    for (let i = 0; i < PER_ACCOUNT; i++) {
      assert.equal((await login(victim.email, `guess ${i}`, "203.0.113.66")).status, 401);
    }
    // The attacker's address is stopped, even with the right password...
    assertLimited(await login(victim.email, PASSWORD, "203.0.113.66"), /account from your address/);
    // ...the owner, from their own address, is not.
    assert.equal((await login(victim.email, PASSWORD, "192.0.2.10")).status, 200);
  });

  it("caps failures per account over all addresses, except for an address the account signed in from", async () => {
    const victim = await t.addEditor("EDITOR");
    assert.equal((await login(victim.email, PASSWORD, "192.0.2.20")).status, 200);
    // A botnet: few failures from each of many addresses, up to the global ceiling.
    for (let i = 0; i < GLOBAL; i++) {
      assert.equal((await login(victim.email, `guess ${i}`, `203.0.113.${100 + i}`)).status, 401);
    }
    // A new address is now stopped for this account (the ceiling holds)...
    assertLimited(await login(victim.email, "guess again", "203.0.113.200"), /^Too many failed logins for this account;/);
    assertLimited(await login(victim.email, PASSWORD, "198.51.100.200"), /^Too many failed logins for this account;/);
    // ...but the owner's known address gets through with the right password,
    const owner = await login(victim.email, PASSWORD, "192.0.2.20");
    assert.equal(owner.status, 200);
    assert.equal((await t.get("/api/v1/admin/me", { token: owner.body.accessToken })).body.id, victim.id);
    // and a wrong one there is still only counted per account and address.
    assert.equal((await login(victim.email, "typo", "192.0.2.20")).status, 401);
  });

  it("counts an IPv6 client by its /64", async () => {
    const w = await t.addEditor("WRITER");
    for (let i = 1; i <= PER_ACCOUNT; i++) {
      assert.equal((await login(w.email, "wrong password", `2001:db8:5:6::${i}`)).status, 401);
    }
    assertLimited(await login(w.email, PASSWORD, "2001:db8:5:6:ffff:1:2:3"), /account from your address/);
    assert.equal((await login(w.email, PASSWORD, "2001:db8:5:7::1")).status, 200);
  });

  it("clears the failures of an account from an address when it signs in there", async () => {
    const w = await t.addEditor("WRITER");
    for (let i = 0; i < PER_ACCOUNT - 1; i++) {
      assert.equal((await login(w.email, "typo", "192.0.2.30")).status, 401);
    }
    assert.equal((await login(w.email, PASSWORD, "192.0.2.30")).status, 200);
    for (let i = 0; i < PER_ACCOUNT; i++) {
      assert.equal((await login(w.email, "typo", "192.0.2.30")).status, 401);
    }
    assertLimited(await login(w.email, PASSWORD, "192.0.2.30"), /account from your address/);
  });

  it("counts wrong current passwords of a password change as failed logins", async () => {
    const w = await t.addEditor("WRITER");
    const headers = { "X-Forwarded-For": "192.0.2.40" };
    const change = (currentPassword: string) =>
      t.post("/api/v1/admin/me/password", { currentPassword, newPassword: "a much better password" }, { token: w.token, headers });
    for (let i = 0; i < PER_ACCOUNT; i++) assert.equal((await change(`guess ${i}`)).status, 400);
    assertLimited(await change(PASSWORD), /account from your address/);
    assertLimited(await login(w.email, PASSWORD, "192.0.2.40"), /account from your address/);
    assert.equal((await login(w.email, PASSWORD, "192.0.2.41")).status, 200);
  });
});

describe("failed logins in the audit log", () => {
  it("never store what was typed into the email field unless it is an editor's email", async () => {
    const secret = "Tr0ub4dor&3-my-real-password";
    assert.equal((await login(secret, PASSWORD, "192.0.2.50")).status, 401);
    assert.equal((await login(`  ${t.writer.email.toUpperCase()} `, "typo", "192.0.2.50")).status, 401);
    const res = await t.get("/api/v1/admin/audit?action=auth.login-failed&limit=100", { token: t.admin.token });
    assert.equal(res.status, 200);
    assert.ok(!JSON.stringify(res.body).toLowerCase().includes(secret.toLowerCase()));
    const rows = res.body.data.filter((r: { ip: string }) => r.ip === "192.0.2.50");
    assert.equal(rows.length, 2);
    const [known, typed] = rows; // newest first
    assert.equal(known.email, t.writer.email);
    assert.equal(known.targetId, t.writer.id);
    assert.equal(typed.email, null);
    assert.equal(typed.targetId, null);
    assert.match(typed.details.emailHash, /^[\w-]{43}$/);
    // Nor in the limiter's own table.
    const attempts = await t.db.prisma.loginAttempt.findMany();
    assert.ok(attempts.length > 0);
    assert.ok(!JSON.stringify(attempts).toLowerCase().includes(secret.toLowerCase()));
  });
});

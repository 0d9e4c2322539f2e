// First start of several instances at once on an empty database: exactly
// one applies the migrations and creates the first ADMIN (under the bootstrap
// advisory lock, src/db/migrate.ts), the others wait and start. And the ADMIN
// insert is idempotent on its own (src/seed/admin.ts), for where the lock does
// not hold. Three server processes need PostgreSQL (PGlite is one process per
// data directory); the idempotent insert is tested on both databases.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import { loadConfig } from "../src/config.ts";
import { openDatabase, type Database } from "../src/db/client.ts";
import { listMigrations, migrate } from "../src/db/migrate.ts";
import { REPO_ROOT } from "../src/paths.ts";
import { ensureAdmin } from "../src/seed/admin.ts";

const PG_URL = process.env.DATABASE_URL || undefined;
const silent = pino({ level: "silent" });

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A fresh, empty database: its own PostgreSQL schema, or an in-memory PGlite. */
async function emptyDatabase(): Promise<{ db: Database; url?: string; schema?: string }> {
  if (!PG_URL) {
    const db = await openDatabase({});
    cleanups.push(() => db.close());
    return { db };
  }
  const schema = `t_race_${crypto.randomBytes(4).toString("hex")}`;
  const u = new URL(PG_URL);
  u.searchParams.set("schema", schema);
  const db = await openDatabase({ url: PG_URL, schema, poolSize: 5 });
  cleanups.push(async () => {
    await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => {});
    await db.close();
  });
  return { db, url: u.toString(), schema };
}

interface Proc {
  child: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
}

function startServer(env: NodeJS.ProcessEnv): Proc {
  const full: NodeJS.ProcessEnv = { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", NODE_ENV: "development", ...env };
  for (const k of ["REDIS_URL", "SEED_DEMO"]) if (!(k in env)) delete full[k];
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], { cwd: REPO_ROOT, env: full, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b) => (out += b));
  child.stderr!.on("data", (b) => (out += b));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, out: () => out, exited };
}

/** The port once the server logs that it listens; rejects if it exits first. */
function listening(p: Proc): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /"port":(\d+),"msg":"Dateline listening/.exec(p.out());
      if (m) return resolve(Number(m[1]));
      if (p.child.exitCode !== null) return reject(new Error(`server exited ${p.child.exitCode} before listening:\n${p.out()}`));
      setTimeout(check, 50);
    };
    check();
  });
}

const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, "g")) ?? []).length;

describe("three instances starting at once on an empty database", { skip: !PG_URL && "PGlite: one process per data directory" }, () => {
  it("all three become ready; migrations run once, by one of them; one ADMIN; one demo seed", { timeout: 240_000 }, async () => {
    const { db, url } = await emptyDatabase();
    const dataDirs = [0, 1, 2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), "dateline-race-")));
    cleanups.push(() => dataDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const env = {
      DATABASE_URL: url!, JWT_SECRET: "startup-race-secret-0123456789abcdef0123456789",
      ADMIN_EMAIL: "chief@race.test", ADMIN_PASSWORD: "a long enough password",
    };
    // Separate data directories, as separate machines would have.
    const procs = dataDirs.map((DATA_DIR) => startServer({ ...env, DATA_DIR }));
    const ports = await Promise.all(procs.map(listening));
    for (const port of ports) assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);

    const migrations = listMigrations().map((m) => m.name);
    const rows = await db.withConnection((c) => c.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations"`));
    assert.deepEqual(rows.map((r) => r.migration_name).sort(), [...migrations].sort(), "each migration recorded once");
    const applied = procs.map((p) => count(p.out(), /applied migration /));
    assert.deepEqual([...applied].sort((a, b) => a - b), [0, 0, migrations.length], "one instance applied them all");

    assert.equal(await db.prisma.editor.count({ where: { role: "ADMIN" } }), 1);
    assert.equal(procs.filter((p) => /created the first ADMIN editor/.test(p.out())).length, 1);
    assert.equal(procs.filter((p) => /seeded demo content/.test(p.out())).length, 1);
    const slugs = await db.prisma.article.findMany({ select: { slug: true } });
    assert.ok(slugs.length > 0);

    // Without REDIS_URL every instance says what it keeps to itself; the later ones see the others.
    for (const p of procs) assert.match(p.out(), /REDIS_URL is not set/);
    assert.ok(procs.some((p) => /instances are running on this database without REDIS_URL/.test(p.out())), "someone warned");

    // A token from one instance works on the others (one JWT_SECRET).
    const login = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/auth/login`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    for (const port of ports.slice(1)) {
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/v1/admin/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status, 200);
    }
    for (const p of procs) p.child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(procs.map((p) => p.exited)), [0, 0, 0]);
  });
});

describe("creating the first ADMIN", () => {
  const config = (env: Record<string, string> = {}) =>
    loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", JWT_SECRET: "x".repeat(32), ...env });

  it("is idempotent: three at once, outside the bootstrap lock, make one ADMIN and no error", async () => {
    const { db } = await emptyDatabase();
    await migrate(db);
    const cfg = config({ ADMIN_EMAIL: "First@Race.test", ADMIN_PASSWORD: "a long enough password" });
    const results = await Promise.allSettled([0, 1, 2].map(() => ensureAdmin(db.prisma, cfg, silent)));
    assert.deepEqual(results.map((r) => (r.status === "rejected" ? String(r.reason) : "ok")), ["ok", "ok", "ok"]);
    const admins = await db.prisma.editor.findMany({ where: { role: "ADMIN" }, select: { email: true } });
    assert.deepEqual(admins, [{ email: "first@race.test" }]);
    assert.equal(await db.prisma.auditLog.count({ where: { action: "editor.create" } }), 1);
    // And again later: nothing to do.
    await ensureAdmin(db.prisma, cfg, silent);
    assert.equal(await db.prisma.editor.count(), 1);
  });

  it("refuses with a clear message when ADMIN_EMAIL belongs to an editor who is not an ADMIN", async () => {
    const { db } = await emptyDatabase();
    await migrate(db);
    await db.prisma.editor.create({ data: { name: "Writer", email: "taken@race.test", passwordHash: "x", role: "WRITER" } });
    const cfg = config({ ADMIN_EMAIL: "taken@race.test", ADMIN_PASSWORD: "a long enough password" });
    await assert.rejects(ensureAdmin(db.prisma, cfg, silent), /taken@race\.test belongs to an editor who is not an ADMIN/);
    assert.equal(await db.prisma.editor.count({ where: { role: "ADMIN" } }), 0);
  });
});

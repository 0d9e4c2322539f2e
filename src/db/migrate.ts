// Applies prisma/migrations/*/migration.sql in order and records them in
// Prisma's own `_prisma_migrations` table, so `prisma migrate status` and
// `prisma migrate deploy` agree with what the app did. Running the SQL here
// instead of shelling out to the Prisma CLI keeps start-up fast and works the
// same on PGlite (one in-process connection) and PostgreSQL.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../paths.ts";
import type { Database, RawConnection } from "./client.ts";

export const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma", "migrations");

// The key Prisma Migrate itself uses (see withBootstrapLock).
const ADVISORY_LOCK_KEY = 72707369;

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

// Migration files do not change while the process runs: read and hash them
// once, not on every /readyz probe.
const cache = new Map<string, Migration[]>();

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  let list = cache.get(dir);
  if (!list) cache.set(dir, (list = readMigrations(dir)));
  return list;
}

function readMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

async function applied(conn: RawConnection): Promise<Map<string, string>> {
  const rows = await conn.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  return new Map(rows.map((r) => [r.migration_name, r.checksum]));
}

/**
 * Runs `fn` while holding the database-wide advisory lock that serializes
 * first-start work across processes: migrations, the first ADMIN, the demo
 * seed. Two instances starting at once on an empty database would otherwise
 * both find "no ADMIN yet" and both create one.
 *
 * `conn` is the session holding the lock; run migrations on it
 * (applyMigrations). Other work inside `fn` may use the pool, so on
 * PostgreSQL `db` should not be the pool that work waits on when it has a
 * single connection (server.ts opens a separate one-connection handle). The
 * key is the one Prisma Migrate uses, so the CLI and the app never migrate at once.
 */
export async function withBootstrapLock<T>(db: Database, fn: (conn: RawConnection) => Promise<T>): Promise<T> {
  return db.withConnection(async (conn) => {
    await conn.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    try {
      return await fn(conn);
    } finally {
      await conn.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]);
    }
  });
}

/** Applies pending migrations on `conn`, which must hold the bootstrap lock; returns the names applied. */
export async function applyMigrations(conn: RawConnection, log: (msg: string) => void = () => {}): Promise<string[]> {
  const migrations = listMigrations();
  await conn.exec(CREATE_TABLE);
  const done = await applied(conn);
  const ran: string[] = [];
  for (const m of migrations) {
    const checksum = done.get(m.name);
    if (checksum !== undefined) {
      if (checksum !== m.checksum) log(`migration ${m.name} was edited after it was applied`);
      continue;
    }
    const id = crypto.randomUUID();
    // Each migration and its record commit together or not at all.
    await conn.exec("BEGIN");
    try {
      await conn.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, m.checksum, m.name],
      );
      await conn.exec(m.sql);
      await conn.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      await conn.exec("COMMIT");
    } catch (err) {
      await conn.exec("ROLLBACK");
      throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
    }
    log(`applied migration ${m.name}`);
    ran.push(m.name);
  }
  return ran;
}

/** Applies pending migrations under the bootstrap lock; returns the names applied. */
export async function migrate(db: Database, log: (msg: string) => void = () => {}): Promise<string[]> {
  return withBootstrapLock(db, (conn) => applyMigrations(conn, log));
}

/** Names of migrations in the repo that the database has not applied. */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const all = listMigrations();
  const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const done = new Set(rows.map((r) => r.migration_name));
  return all.filter((m) => !done.has(m.name)).map((m) => m.name);
}

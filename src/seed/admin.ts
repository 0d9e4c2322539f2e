// The first administrator. From ADMIN_EMAIL / ADMIN_PASSWORD when set; in
// development without them, a random password is generated, printed once and
// kept in DATA_DIR/initial-admin-password (like Jenkins' initialAdminPassword)
// so the README walkthrough can read it.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { RawConnection } from "../db/client.ts";
import { hashPassword, randomPassword } from "../auth/passwords.ts";
import { audit } from "../audit/service.ts";
import { normalizeEmail } from "../editors/service.ts";

export const DEFAULT_ADMIN_EMAIL = "admin@dateline.local";

const MISSING_ADMIN =
  "No ADMIN editor exists yet and NODE_ENV=production: set ADMIN_EMAIL and ADMIN_PASSWORD for the first start.";

/**
 * Why ensureAdmin would fail, checked on `conn` before any migration runs, so
 * a production start without ADMIN_EMAIL leaves an empty database empty
 * instead of failing after creating the tables. Null when it would succeed.
 */
export async function adminBootstrapProblem(conn: RawConnection, config: Config): Promise<string | null> {
  if (config.NODE_ENV !== "production" || config.ADMIN_EMAIL) return null;
  const [table] = await conn.query<{ exists: boolean }>(`SELECT to_regclass('"Editor"') IS NOT NULL AS "exists"`);
  if (!table?.exists) return MISSING_ADMIN;
  const [admins] = await conn.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Editor" WHERE role = 'ADMIN'`);
  return admins && admins.n > 0 ? null : MISSING_ADMIN;
}

/**
 * Inserts the first ADMIN unless its email is taken: true when this call
 * created it. Idempotent on its own, so instances starting together cannot
 * fail on the unique email even where the bootstrap advisory lock does not
 * hold (e.g. a transaction-pooling PgBouncer in front of PostgreSQL).
 */
async function createFirstAdmin(prisma: PrismaClient, name: string, email: string, password: string): Promise<boolean> {
  const passwordHash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    // ON CONFLICT DO NOTHING: a concurrent insert of the same email waits for the other to commit, then skips.
    const [created] = await tx.editor.createManyAndReturn({
      data: [{ name, email: normalizeEmail(email), passwordHash, role: "ADMIN" }],
      skipDuplicates: true,
      select: { id: true },
    });
    if (!created) return false;
    await audit(tx, { actorId: null, action: "editor.create", targetType: "editor", targetId: created.id, details: { role: "ADMIN" } });
    return true;
  });
}

/** After losing the insert: another instance created the ADMIN (fine), or the email belongs to a non-ADMIN editor. */
async function afterConflict(prisma: PrismaClient, email: string, logger: Logger): Promise<void> {
  if ((await prisma.editor.count({ where: { role: "ADMIN" } })) > 0) {
    logger.info({ email }, "the first ADMIN editor was created by another instance starting at the same time");
    return;
  }
  throw new Error(`No ADMIN editor exists and ${email} belongs to an editor who is not an ADMIN: promote that editor, or set another ADMIN_EMAIL.`);
}

export async function ensureAdmin(prisma: PrismaClient, config: Config, logger: Logger): Promise<void> {
  const admins = await prisma.editor.count({ where: { role: "ADMIN" } });
  if (admins > 0) return;
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    if (!(await createFirstAdmin(prisma, config.ADMIN_NAME, config.ADMIN_EMAIL, config.ADMIN_PASSWORD))) {
      return afterConflict(prisma, config.ADMIN_EMAIL, logger);
    }
    logger.info({ email: config.ADMIN_EMAIL }, "created the first ADMIN editor from ADMIN_EMAIL");
    return;
  }
  if (config.NODE_ENV === "production") {
    throw new Error(MISSING_ADMIN);
  }
  const password = randomPassword();
  if (!(await createFirstAdmin(prisma, config.ADMIN_NAME, DEFAULT_ADMIN_EMAIL, password))) {
    return afterConflict(prisma, DEFAULT_ADMIN_EMAIL, logger);
  }
  const file = path.join(config.DATA_DIR, "initial-admin-password");
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  // Printed once, on purpose, outside the structured log.
  process.stdout.write(
    `\n  First ADMIN editor created.\n    email:    ${DEFAULT_ADMIN_EMAIL}\n    password: ${password}\n` +
      `  (also saved in ${file}; set ADMIN_EMAIL/ADMIN_PASSWORD to choose your own)\n\n`,
  );
}

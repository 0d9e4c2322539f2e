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
import { randomPassword } from "../auth/passwords.ts";
import { createEditor } from "../editors/service.ts";

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

export async function ensureAdmin(prisma: PrismaClient, config: Config, logger: Logger): Promise<void> {
  const admins = await prisma.editor.count({ where: { role: "ADMIN" } });
  if (admins > 0) return;
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await createEditor(prisma, {
      name: config.ADMIN_NAME, email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD, role: "ADMIN",
    });
    logger.info({ email: config.ADMIN_EMAIL }, "created the first ADMIN editor from ADMIN_EMAIL");
    return;
  }
  if (config.NODE_ENV === "production") {
    throw new Error(MISSING_ADMIN);
  }
  const password = randomPassword();
  await createEditor(prisma, { name: config.ADMIN_NAME, email: DEFAULT_ADMIN_EMAIL, password, role: "ADMIN" });
  const file = path.join(config.DATA_DIR, "initial-admin-password");
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  // Printed once, on purpose, outside the structured log.
  process.stdout.write(
    `\n  First ADMIN editor created.\n    email:    ${DEFAULT_ADMIN_EMAIL}\n    password: ${password}\n` +
      `  (also saved in ${file}; set ADMIN_EMAIL/ADMIN_PASSWORD to choose your own)\n\n`,
  );
}

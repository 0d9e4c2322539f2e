// `npm run db:migrate`: applies pending migrations and exits, for deployments
// that migrate before rolling out new app instances.
import path from "node:path";
import { ConfigError, loadConfig } from "../config.ts";
import { openDatabase } from "./client.ts";
import { DataDirLockedError, lockDataDir } from "./lock.ts";
import { migrate } from "./migrate.ts";

try {
  const config = loadConfig();
  const dataDir = path.join(config.DATA_DIR, "pglite");
  // Like the server: never open a PGlite directory another process has open.
  const lock = config.DATABASE_URL ? undefined : lockDataDir(dataDir);
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir, poolSize: 1 });
  try {
    const ran = await migrate(db, (m) => console.log(m));
    console.log(ran.length ? `applied ${ran.length} migration(s) on ${db.kind}` : `database (${db.kind}) is up to date`);
  } finally {
    await db.close();
    lock?.release();
  }
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof DataDirLockedError ? err.message : err);
  process.exit(1);
}

// `npm run read-model:rebuild`: rebuilds every row of the published read
// model from the normalized tables (after a change to what documents hold, or
// to refresh automatic recommendations), and drops rows of articles that are
// no longer public. Safe while instances run on PostgreSQL (each batch locks
// its articles against concurrent writers); on PGlite, stop the server first.
import path from "node:path";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { DataDirLockedError, lockDataDir } from "../db/lock.ts";
import { migrate } from "../db/migrate.ts";
import { rebuildAll } from "./read-model.ts";

try {
  const config = loadConfig();
  const logger = pino({ level: config.LOG_LEVEL });
  const dataDir = path.join(config.DATA_DIR, "pglite");
  const lock = config.DATABASE_URL ? undefined : lockDataDir(dataDir);
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir, poolSize: 4 });
  try {
    await migrate(db, (m) => logger.info(m));
    // Four transactions at a time on PostgreSQL; PGlite is one connection.
    const n = await rebuildAll(db.prisma, logger, db.kind === "postgresql" ? 4 : 1);
    console.log(`rebuilt ${n} published article document(s) on ${db.kind}`);
  } finally {
    await db.close();
    lock?.release();
  }
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof DataDirLockedError ? err.message : err);
  process.exit(1);
}

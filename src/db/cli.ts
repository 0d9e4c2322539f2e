// The shared frame of the one-shot commands (db:migrate, read-model:rebuild):
// configuration, the PGlite data-directory lock (never open a directory
// another process has open, like the server), the database, and a clean exit
// with one line on a configuration or lock error.
import path from "node:path";
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { openDatabase, type Database } from "./client.ts";
import { DATA_DIR_LOCK_HELD_ENV, DataDirLockedError, lockDataDir } from "./lock.ts";

export async function runWithDatabase(poolSize: number, fn: (db: Database, config: Config) => Promise<void>): Promise<void> {
  try {
    const config = loadConfig();
    const dataDir = path.join(config.DATA_DIR, "pglite");
    // The server's start-up read-model build runs this with the server's lock held for it.
    const lock = config.DATABASE_URL || process.env[DATA_DIR_LOCK_HELD_ENV] === "1" ? undefined : lockDataDir(dataDir);
    const db = await openDatabase({ url: config.DATABASE_URL, dataDir, poolSize });
    try {
      await fn(db, config);
    } finally {
      await db.close();
      lock?.release();
    }
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof DataDirLockedError ? err.message : err);
    process.exit(1);
  }
}

// `npm run read-model:rebuild`: rebuilds every row of the published read
// model from the normalized tables (after a change to what documents hold, or
// to refresh automatic recommendations), and drops rows of articles that are
// no longer public. Safe while instances run on PostgreSQL (each batch locks
// its articles against concurrent writers); on PGlite, stop the server first.
import { pino } from "pino";
import { runWithDatabase } from "../db/cli.ts";
import { migrate } from "../db/migrate.ts";
import { rebuildAll } from "./read-model.ts";

await runWithDatabase(4, async (db, config) => {
  const logger = pino({ level: config.LOG_LEVEL });
  await migrate(db, (m) => logger.info(m));
  // Four transactions at a time on PostgreSQL; PGlite is one connection.
  const n = await rebuildAll(db.prisma, logger, db.kind === "postgresql" ? 4 : 1);
  console.log(`rebuilt ${n} published article document(s) on ${db.kind}`);
});

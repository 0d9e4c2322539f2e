// `npm run read-model:rebuild`: rebuilds every row of the published read
// model from the normalized tables (after a change to what documents hold, or
// to refresh automatic recommendations), drops rows of articles that are no
// longer public, and renders every article's stored public JSON. Safe while
// instances run on PostgreSQL (each batch locks its articles against
// concurrent writers); on PGlite, stop the server first.
//
// `--missing` (the server runs it as a child process at start-up on
// PostgreSQL when many rows are missing, e.g. a corpus loaded in SQL): builds
// only the rows that are missing, then renders. A child, so that the heap
// grown by building a hundred thousand documents leaves with it.
import { pino } from "pino";
import { runWithDatabase } from "../db/cli.ts";
import { migrate } from "../db/migrate.ts";
import { publicView } from "../articles/presentation.ts";
import { backfill, rebuildAll } from "./read-model.ts";
import { createArticleRenderer } from "./rendered.ts";
import { LiveSectionTree } from "./section-tree.ts";

const missingOnly = process.argv.includes("--missing");

await runWithDatabase(4, async (db, config) => {
  const logger = pino({ level: config.LOG_LEVEL });
  // --missing runs under the server's start-up lock, after its migrations: taking the lock here would wait forever.
  if (!missingOnly) await migrate(db, (m) => logger.info(m));
  // Four transactions at a time on PostgreSQL; PGlite is one connection.
  const concurrency = db.kind === "postgresql" ? 4 : 1;
  const n = missingOnly ? await backfill(db.prisma, logger, concurrency) : await rebuildAll(db.prisma, logger, concurrency);
  // With this configuration's render key, as the server computes it.
  const renderer = createArticleRenderer({ db, logger, sections: new LiveSectionTree(db.prisma), view: publicView(config) }, { start: false });
  await renderer.drain();
  await renderer.stop();
  console.log(`${missingOnly ? "built" : "rebuilt"} ${n} published article document(s) on ${db.kind}, and rendered their public JSON`);
});

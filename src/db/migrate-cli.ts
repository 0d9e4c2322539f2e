// `npm run db:migrate`: applies pending migrations and exits, for deployments
// that migrate before rolling out new app instances.
import { runWithDatabase } from "./cli.ts";
import { migrate } from "./migrate.ts";

await runWithDatabase(1, async (db) => {
  const ran = await migrate(db, (m) => console.log(m));
  console.log(ran.length ? `applied ${ran.length} migration(s) on ${db.kind}` : `database (${db.kind}) is up to date`);
});

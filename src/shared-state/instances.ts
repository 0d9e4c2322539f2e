// Without REDIS_URL some state is per instance (index.ts,
// PER_INSTANCE_WITHOUT_REDIS). On PostgreSQL this says so at start, and warns
// when other instances run on the same database: each instance's event bus
// holds one LISTEN connection named "dateline-listener[:schema]"
// (db/client.ts), so counting those in pg_stat_activity counts instances at
// the cost of one catalog query a minute. PGlite is one process per data
// directory, so there is nothing to detect.
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import { PER_INSTANCE_WITHOUT_REDIS, type SharedState } from "./index.ts";

const CHECK_EVERY_MS = 60_000;

/** The listener's application_name, as db/client.ts sets it. */
function listenerName(databaseUrl: string): string {
  const schema = new URL(databaseUrl).searchParams.get("schema");
  return `dateline-listener${schema ? `:${schema}` : ""}`;
}

/** Instances with a live event-bus listener on this database (and schema), this one included. */
export async function countInstances(db: Database, databaseUrl: string): Promise<number> {
  // withConnection: the primary, whatever routes the pool's reads elsewhere.
  const [row] = await db.withConnection((c) => c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [listenerName(databaseUrl)],
  ));
  return row?.n ?? 0;
}

export interface InstanceWatch {
  stop(): void;
}

/**
 * Logs what is per instance (PostgreSQL without REDIS_URL), then checks now
 * and every minute whether other instances share the database, warning each
 * time more are seen than before. Call after the event bus has started.
 */
export function watchInstances(db: Database, databaseUrl: string | undefined, shared: SharedState, logger: Logger, everyMs = CHECK_EVERY_MS): InstanceWatch {
  if (db.kind !== "postgresql" || !databaseUrl || shared.kind === "redis") return { stop() {} };
  logger.info({ perInstance: PER_INSTANCE_WITHOUT_REDIS },
    "REDIS_URL is not set: this instance keeps view de-duplication and beacon limits to itself (set REDIS_URL when running several)");
  let warnedAt = 1;
  let stopped = false;
  const check = async () => {
    try {
      const n = await countInstances(db, databaseUrl);
      if (stopped || n <= warnedAt) return;
      warnedAt = n;
      logger.warn({ instances: n, notShared: PER_INSTANCE_WITHOUT_REDIS },
        `${n} Dateline instances are running on this database without REDIS_URL: view de-duplication and beacon rate limits are not shared between them; set REDIS_URL on every instance`);
    } catch (err) {
      logger.debug({ err }, "could not count the instances on this database");
    }
  };
  void check();
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

// What only the database knows, read once per scrape with one cheap statement
// each (primary-key and index lookups, no scans): how far each durable
// change-event consumer is behind, and scheduled articles left unpublished
// past their time. A scrape never waits on a slow database for long and never
// fails because of one: the figures are left out and
// dateline_metrics_database_up says why.
import { Gauge } from "prom-client";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { registry } from "./metrics.ts";

/** How long past scheduledAt an unpublished SCHEDULED article counts as missed. */
export const MISSED_AFTER_SECONDS = 60;
const QUERY_TIMEOUT_MS = 2000;

// The database the scrape-time figures come from: the latest registered (one per process outside tests).
const sources: PrismaClient[] = [];

/** Reads consumer lag and overdue schedules from `prisma` at scrape time, until the returned function is called. */
export function registerDatabaseMetrics(prisma: PrismaClient): () => void {
  sources.push(prisma);
  return () => {
    const i = sources.lastIndexOf(prisma);
    if (i >= 0) sources.splice(i, 1);
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {});
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

type LagRow = { name: string; events: number; seconds: number };
type OverdueRow = { n: number; oldest: number | null };

// What the last scrape read; undefined when it could not (no source, an error, a timeout).
let last: { lag: LagRow[]; overdue: OverdueRow } | undefined;

/** Reads the database figures for one scrape (the metrics handler awaits it before rendering). */
export async function refreshDatabaseMetrics(): Promise<void> {
  const prisma = sources[sources.length - 1];
  if (!prisma) {
    last = undefined;
    databaseUp.reset();
    return;
  }
  try {
    last = await withTimeout((async () => {
      // Lag: newest event id minus the consumer's position, and the age of the
      // oldest event it has not handled (0 when it is up to date).
      const lag = await prisma.$queryRaw<LagRow[]>`
        SELECT c.name,
               GREATEST(COALESCE((SELECT max(id) FROM "ChangeEvent"), 0) - c.position, 0)::float8 AS events,
               COALESCE(EXTRACT(EPOCH FROM now() - (
                 SELECT e."createdAt" FROM "ChangeEvent" e WHERE e.id > c.position ORDER BY e.id LIMIT 1)), 0)::float8 AS seconds
          FROM "EventConsumer" c`;
      const [overdue] = await prisma.$queryRaw<OverdueRow[]>`
        SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min("scheduledAt"))::float8 AS oldest
          FROM "Article"
         WHERE status = 'SCHEDULED' AND "deletedAt" IS NULL
           AND "scheduledAt" <= now() - make_interval(secs => ${MISSED_AFTER_SECONDS})`;
      return { lag, overdue };
    })(), QUERY_TIMEOUT_MS);
    databaseUp.set(1);
  } catch {
    last = undefined;
    databaseUp.set(0);
  }
}

const databaseUp = new Gauge({
  name: "dateline_metrics_database_up",
  help: "Whether the scrape-time database figures (consumer lag, overdue schedules) could be read (1) or not (0: the database did not answer within 2 s).",
  registers: [registry],
});

new Gauge({
  name: "dateline_event_consumer_lag_events",
  help: "Change events a durable consumer (webhooks, cdn-purge...) has not handled yet: the newest event id minus its position.",
  labelNames: ["consumer"] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const row of last?.lag ?? []) this.set({ consumer: row.name }, row.events);
  },
});

new Gauge({
  name: "dateline_event_consumer_lag_seconds",
  help: "Age of the oldest change event a durable consumer has not handled yet (0 when it is up to date).",
  labelNames: ["consumer"] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const row of last?.lag ?? []) this.set({ consumer: row.name }, row.seconds);
  },
});

new Gauge({
  name: "dateline_scheduled_overdue_articles",
  help: `SCHEDULED articles due more than ${MISSED_AFTER_SECONDS} s ago and still unpublished (read from the database: above 0 also when no scheduler runs at all).`,
  registers: [registry],
  collect() {
    if (last) this.set(last.overdue.n);
    else this.reset();
  },
});

new Gauge({
  name: "dateline_scheduled_overdue_oldest_seconds",
  help: "How long ago the oldest overdue SCHEDULED article was due (0 when none is overdue).",
  registers: [registry],
  collect() {
    if (last) this.set(last.overdue.oldest ?? 0);
    else this.reset();
  },
});

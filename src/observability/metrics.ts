// Prometheus metrics of this process (README "Metrics"), with prom-client.
// One registry per process: every instance reports its own figures and the
// scraper adds them up. Labels are bounded by construction: route templates
// from the code, never raw URLs; consumer, pool and dependency names from the
// code or configuration.
//
// Three kinds of source feed it:
// - counters and histograms the code updates as things happen (requests,
//   statements, scheduler runs, view flushes);
// - figures other modules already keep, read at scrape time through a
//   registered callback (response cache, view buffer, connection pools,
//   dependency health), so their hot paths only bump plain numbers;
// - one cheap database query per scrape for what only the database knows
//   (change-event consumer lag, overdue scheduled articles: collectors.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();

let defaults = false;
/** Node process metrics (CPU, memory, event-loop delay, GC), started with the first metrics endpoint: a process that serves none pays nothing. */
export function startProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: registry });
}

/** The Prometheus text format this registry writes (0.0.4). */
export const METRICS_CONTENT_TYPE = registry.contentType;

// ---- HTTP ----

const httpDuration = new Histogram({
  name: "dateline_http_request_duration_seconds",
  help: "HTTP requests by route template, method and status: latency from the first middleware to the response's end (_count is the request count). route is the Express route template, or the in-process cache's pattern for answers given before routing, or unmatched.",
  labelNames: ["route", "method", "status"] as const,
  // From an in-process cache hit (well under a millisecond) to a slow editor write.
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

type Labels = { route: string; method: string; status: number };
// route -> method -> status -> the labels object, made once: observing then
// allocates nothing of ours (prom-client hashes the labels on every observe).
const labelCache = new Map<string, Map<string, Map<number, Labels>>>();

/** Records one finished request. `route` must be a template (bounded), never a raw path. */
export function observeHttp(route: string, method: string, status: number, seconds: number): void {
  let byMethod = labelCache.get(route);
  if (!byMethod) labelCache.set(route, (byMethod = new Map()));
  let byStatus = byMethod.get(method);
  if (!byStatus) byMethod.set(method, (byStatus = new Map()));
  let labels = byStatus.get(status);
  if (!labels) byStatus.set(status, (labels = { route, method, status }));
  httpDuration.observe(labels, seconds);
}

// ---- in-process response cache ----

export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
}

const cacheSources = new Set<() => CacheStats>();

/** A response cache's running totals, read at scrape time (summed when a process holds several: tests). */
export function registerCacheStats(read: () => CacheStats): () => void {
  cacheSources.add(read);
  return () => void cacheSources.delete(read);
}

function cacheTotal<K extends keyof CacheStats>(key: K): number {
  let n = 0;
  for (const read of cacheSources) n += read()[key];
  return n;
}

/** A counter whose value is a running total kept elsewhere, copied at scrape time. */
function mirroredCounter(name: string, help: string, read: () => number) {
  return new Counter({
    name, help, registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

mirroredCounter("dateline_response_cache_hits_total", "Public GETs answered from the in-process response cache (200 or 304, no database).", () => cacheTotal("hits"));
mirroredCounter("dateline_response_cache_misses_total", "Cacheable public GETs not found in the in-process response cache (answered from the database).", () => cacheTotal("misses"));
mirroredCounter("dateline_response_cache_evictions_total", "Entries the in-process response cache dropped for space (DELIVERY_CACHE_MAX_BYTES).", () => cacheTotal("evictions"));
new Gauge({
  name: "dateline_response_cache_bytes", help: "Bytes held by the in-process response cache (counted as DELIVERY_CACHE_MAX_BYTES counts them).",
  registers: [registry], collect() { this.set(cacheTotal("bytes")); },
});
new Gauge({
  name: "dateline_response_cache_entries", help: "Responses held by the in-process response cache.",
  registers: [registry], collect() { this.set(cacheTotal("entries")); },
});

// ---- database ----

const statementDuration = new Histogram({
  name: "dateline_db_statement_duration_seconds",
  help: "SQL statements Prisma sends through its driver adapter, by operation (query, execute, script), from send to result.",
  labelNames: ["operation"] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  registers: [registry],
});
const OPERATION_LABELS = {
  queryRaw: { operation: "query" },
  executeRaw: { operation: "execute" },
  executeScript: { operation: "script" },
} as const;

export function observeStatement(kind: keyof typeof OPERATION_LABELS, seconds: number): void {
  statementDuration.observe(OPERATION_LABELS[kind], seconds);
}

let statementsSent = 0;
/** Counts statements sent (db/statements.ts calls it for each one it counts, Prisma's and raw ones alike). */
export function countStatementSent(n: number): void {
  statementsSent += n;
}
mirroredCounter("dateline_db_statements_total", "SQL statements sent to the database (Prisma's, the delivery side's raw reads, migrations and locks).", () => statementsSent);

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

const pools = new Map<string, () => PoolStats>();

/** A connection pool (pg.Pool), reported under `name` (e.g. primary, replica-1) until the returned function is called. */
export function registerPool(name: string, read: () => PoolStats): () => void {
  pools.set(name, read);
  return () => {
    if (pools.get(name) === read) pools.delete(name);
  };
}

function poolGauge(name: string, help: string, key: keyof PoolStats) {
  return new Gauge({
    name, help, labelNames: ["pool"] as const, registers: [registry],
    collect() {
      this.reset();
      for (const [pool, read] of pools) this.set({ pool }, read()[key]);
    },
  });
}
poolGauge("dateline_db_pool_connections", "Open connections of a PostgreSQL pool (absent on PGlite: one in-process connection).", "total");
poolGauge("dateline_db_pool_idle_connections", "Open connections of a pool not lent out.", "idle");
poolGauge("dateline_db_pool_waiting_clients", "Requests waiting for a connection of a pool (the pool is exhausted while this is above 0).", "waiting");
poolGauge("dateline_db_pool_max_connections", "The most connections a pool opens (DATABASE_POOL_SIZE).", "max");

// ---- scheduler ----

export const schedulerRuns = new Counter({
  name: "dateline_scheduler_runs_total",
  help: "Scheduler ticks (publish what is due, purge expired trash, prune events), by result (ok, error).",
  labelNames: ["result"] as const,
  registers: [registry],
});
export const scheduledPublished = new Counter({
  name: "dateline_scheduled_published_total", help: "Scheduled articles this instance published.", registers: [registry],
});
export const scheduledMissed = new Counter({
  name: "dateline_scheduled_publish_missed_total",
  help: "Scheduled articles this instance found still unpublished more than a minute after they were due (each counted once per instance; also logged as an error).",
  registers: [registry],
});
export const schedulerLastRun = new Gauge({
  name: "dateline_scheduler_last_run_timestamp_seconds",
  help: "When this instance's scheduler last finished a tick without error (Unix time); 0 while it has not (or does not run here).",
  registers: [registry],
});

// ---- view counter ----

export interface ViewBufferStats {
  /** (article, hour) pairs waiting to be written. */
  rows: number;
  /** Views those pairs add up to. */
  views: number;
}

const viewBuffers = new Set<() => ViewBufferStats>();

export function registerViewBuffer(read: () => ViewBufferStats): () => void {
  viewBuffers.add(read);
  return () => void viewBuffers.delete(read);
}

function viewTotal(key: keyof ViewBufferStats): number {
  let n = 0;
  for (const read of viewBuffers) n += read()[key];
  return n;
}

new Gauge({
  name: "dateline_view_buffer_rows", help: "(article, hour) view counts buffered in memory, waiting for the next flush.",
  registers: [registry], collect() { this.set(viewTotal("rows")); },
});
new Gauge({
  name: "dateline_view_buffer_views", help: "Views buffered in memory, waiting for the next flush.",
  registers: [registry], collect() { this.set(viewTotal("views")); },
});
export const viewFlushes = new Counter({
  name: "dateline_view_flushes_total",
  help: "Flushes of buffered view counts that had something to write, by result (ok; error: the counts are kept for the next flush).",
  labelNames: ["result"] as const,
  registers: [registry],
});
export const viewsWritten = new Counter({
  name: "dateline_views_written_total", help: "Views written to the database by flushes.", registers: [registry],
});

// ---- dependencies ----

type HealthFn = () => boolean | number | Promise<boolean | number>;
const health = new Map<string, HealthFn>();

/**
 * Reports a dependency's health as dateline_dependency_up{dependency=name}
 * (1 up, 0 down; a check that throws counts as down), read at scrape time. A
 * check returning a number is reported as is. Returns the unregister function.
 */
export function registerHealthGauge(name: string, fn: HealthFn): () => void {
  health.set(name, fn);
  return () => {
    if (health.get(name) === fn) health.delete(name);
  };
}

new Gauge({
  name: "dateline_dependency_up",
  help: "Health of a dependency as this instance sees it (1 up, 0 down), e.g. redis; absent when not configured.",
  labelNames: ["dependency"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    await Promise.all([...health].map(async ([dependency, fn]) => {
      let v: number;
      try {
        const r = await fn();
        v = typeof r === "number" ? r : r ? 1 : 0;
      } catch {
        v = 0;
      }
      this.set({ dependency }, v);
    }));
  },
});

// Read counting for "Most Popular".
//
// A burst of beacons must not become a burst of UPDATEs, so reads are summed
// in memory per (article, hour) and written in one upsert per flush. Several
// instances each buffer their own and add them up in the database.
//
// Who may count (rate limit, de-duplication, per-network cap) is decided by a
// beacon gate (src/shared-state): in this process by default, or shared by
// every instance in Redis when REDIS_URL is set (README "Running several
// instances").
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { registerViewBuffer, viewFlushes, viewsWritten } from "../observability/metrics.ts";
import { localBeaconGate, type BeaconGate, type BeaconLimits, type ViewOutcome } from "../shared-state/beacon-gate.ts";

export type { ViewOutcome };

export interface ViewCounter {
  /**
   * Counts a read unless it is over the network's beacon rate, a repeat by the
   * same reader, or past what one network may add to one article; never waits
   * on the database. `network` keys the limits (see http/client-hash.ts) and
   * `reader` the de-duplication; a reader is its network when not given.
   */
  record(articleId: number, network: string, reader?: string): ViewOutcome;
  /**
   * As record, decided by the shared gate when there is one (Redis: one round
   * trip, falling back to this process's gate when Redis fails).
   */
  admit(articleId: number, network: string, reader?: string): Promise<ViewOutcome>;
  /** Writes buffered counts now. */
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and flushes what is buffered. */
  stop(): Promise<void>;
  /** Calls `fn` after each flush that wrote counts (this instance's Most Popular cache drops its entries). */
  onWritten(fn: () => void): void;
}

export interface ViewCounterOptions extends BeaconLimits {
  flushIntervalMs: number;
  /** The shared gate (src/shared-state); absent: this process's own, as `record` uses. */
  gate?: BeaconGate;
}

const HOUR_MS = 3_600_000;
// Three bind parameters per row; PostgreSQL allows 65,535 per statement. One
// flush is one statement unless more (article, hour) pairs than this are
// buffered, e.g. after the database was unreachable for a long time.
const MAX_ROWS_PER_STATEMENT = 10_000;

type Row = [articleId: number, hour: number, views: number];

function upsertSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => `($${i * 3 + 1}::int, $${i * 3 + 2}::timestamptz, $${i * 3 + 3}::int)`);
  // The join drops articles purged since their views were buffered, so one
  // deleted article cannot fail everyone's counts. ORDER BY fixes the row-lock
  // order, so two instances flushing the same rows cannot deadlock.
  return `INSERT INTO "ArticleViewHourly" ("articleId", "hour", "views")
SELECT v.id, v.hour, v.n FROM (VALUES ${values.join(", ")}) AS v(id, hour, n)
JOIN "Article" a ON a.id = v.id
ORDER BY v.id, v.hour
ON CONFLICT ("articleId", "hour") DO UPDATE SET "views" = "ArticleViewHourly"."views" + EXCLUDED."views"`;
}

export function createViewCounter(prisma: PrismaClient, logger: Logger, opts: ViewCounterOptions): ViewCounter {
  const clock = opts.now ?? Date.now;
  const local = localBeaconGate(opts);
  const shared = opts.gate;

  /** hour (epoch ms) -> article id -> reads not yet written. */
  let buffer = new Map<number, Map<number, number>>();
  // What waits to be written, for /metrics (read at scrape time only).
  const unregisterMetrics = registerViewBuffer(() => {
    let rows = 0;
    let views = 0;
    for (const perArticle of buffer.values()) {
      rows += perArticle.size;
      for (const n of perArticle.values()) views += n;
    }
    return { rows, views };
  });

  let timer: NodeJS.Timeout | undefined;
  const written = new Set<() => void>();
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;

  function add(hour: number, articleId: number, n: number) {
    let perArticle = buffer.get(hour);
    if (!perArticle) buffer.set(hour, (perArticle = new Map()));
    perArticle.set(articleId, (perArticle.get(articleId) ?? 0) + n);
  }

  function record(articleId: number, network: string, reader = network): ViewOutcome {
    const outcome = local.admit(articleId, network, reader);
    if (outcome === "counted") add(Math.floor(clock() / HOUR_MS) * HOUR_MS, articleId, 1);
    return outcome;
  }

  async function admit(articleId: number, network: string, reader = network): Promise<ViewOutcome> {
    if (!shared) return record(articleId, network, reader);
    const outcome = await shared.admit(articleId, network, reader);
    if (outcome === "counted") add(Math.floor(clock() / HOUR_MS) * HOUR_MS, articleId, 1);
    return outcome;
  }

  async function write(): Promise<void> {
    if (buffer.size === 0) return;
    const batch = buffer;
    buffer = new Map();
    const rows: Row[] = [];
    for (const [hour, perArticle] of batch) {
      for (const [articleId, n] of perArticle) rows.push([articleId, hour, n]);
    }
    for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + MAX_ROWS_PER_STATEMENT);
      const params = chunk.flatMap(([articleId, hour, n]) => [articleId, new Date(hour).toISOString(), n]);
      try {
        await prisma.$executeRawUnsafe(upsertSql(chunk.length), ...params);
        viewsWritten.inc(chunk.reduce((s, r) => s + r[2], 0));
      } catch (err) {
        viewFlushes.inc({ result: "error" });
        // Keep this chunk and the rest for the next flush; later beacons add to them.
        const unwritten = rows.slice(i);
        for (const [articleId, hour, n] of unwritten) add(hour, articleId, n);
        logger.error(
          { err, rows: unwritten.length, views: unwritten.reduce((s, r) => s + r[2], 0) },
          "could not write view counts; kept for the next flush",
        );
        throw err;
      }
    }
    viewFlushes.inc({ result: "ok" });
    logger.debug({ rows: rows.length }, "view counts written");
    for (const fn of written) fn();
  }

  /** Flushes run one after another: a second call waits and then writes what arrived meanwhile. */
  function flush(): Promise<void> {
    queued += 1;
    const run = tail.then(write).finally(() => {
      queued -= 1;
    });
    tail = run.catch(() => {});
    return run;
  }

  return {
    record,
    admit,
    flush,
    onWritten(fn) {
      written.add(fn);
    },
    start() {
      if (timer) return;
      timer = setInterval(() => {
        // A slow database must not pile up flushes behind each other.
        if (queued === 0) flush().catch(() => {}); // logged in write()
      }, opts.flushIntervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      try {
        await flush();
      } catch {
        // Shutdown must go on; say what is lost.
        let views = 0;
        for (const perArticle of buffer.values()) for (const n of perArticle.values()) views += n;
        logger.error({ views }, "view counts not written before stopping; they are lost");
      }
      unregisterMetrics();
    },
  };
}

// Read counting for "Most Popular".
//
// A burst of beacons must not become a burst of UPDATEs, so reads are summed
// in memory per (article, hour) and written in one upsert per flush.
//
// De-duplication and rate-limit state live in this process only: with several
// instances behind a balancer a client may count once per instance, and its
// rate budget is per instance. That is fine for ranking (the error is small and
// the same for every article); sharing the state across instances (Redis) is
// planned, not built.
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";

export type ViewOutcome = "counted" | "duplicate" | "capped" | "rate-limited";

export interface ViewCounter {
  /**
   * Counts a read unless it is over the network's beacon rate, a repeat by the
   * same reader, or past what one network may add to one article; never waits
   * on the database. `network` keys the limits (see http/client-hash.ts) and
   * `reader` the de-duplication; a reader is its network when not given.
   */
  record(articleId: number, network: string, reader?: string): ViewOutcome;
  /** Writes buffered counts now. */
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and flushes what is buffered. */
  stop(): Promise<void>;
  /** Calls `fn` after each flush that wrote counts (this instance's Most Popular cache drops its entries). */
  onWritten(fn: () => void): void;
}

export interface ViewCounterOptions {
  flushIntervalMs: number;
  /** A reader counts once per article within this many seconds. */
  dedupSeconds: number;
  /** Beacons accepted per network per minute. */
  rateMaxPerMinute: number;
  /**
   * Views one network may add to one article per de-duplication period (per
   * minute when de-duplication is off). Readers behind one address are told
   * apart by their User-Agent, which the client chooses: without this cap one
   * client rotating it could count without bound.
   */
  maxPerNetworkPerArticle: number;
  /**
   * Most (reader, article) pairs, (network, article) pairs and networks
   * remembered, each; past it the oldest are forgotten first, so a flood of
   * distinct clients cannot exhaust memory (at worst it lets a forgotten client
   * count again). Default 200,000.
   */
  maxTracked?: number;
  /** Milliseconds since the epoch; tests move time with it. */
  now?: () => number;
}

const HOUR_MS = 3_600_000;
const RATE_WINDOW_MS = 60_000;
const PRUNE_EVERY_MS = 10_000;
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
  const dedupMs = opts.dedupSeconds * 1000;
  const capMs = dedupMs > 0 ? dedupMs : RATE_WINDOW_MS;
  const maxTracked = opts.maxTracked ?? 200_000;

  /** hour (epoch ms) -> article id -> reads not yet written. */
  let buffer = new Map<number, Map<number, number>>();
  // Every entry gets the same lifetime when it is (re)inserted, so Map
  // insertion order is expiry order: pruning stops at the first live entry and
  // evicting the first key evicts the oldest.
  const seen = new Map<string, number>(); // `${reader}:${articleId}` -> expires at
  const rate = new Map<string, { resetAt: number; n: number }>(); // network -> beacons this minute
  const perArticle = new Map<string, { resetAt: number; n: number }>(); // `${network}:${articleId}` -> views counted
  let lastPrune = clock();

  let timer: NodeJS.Timeout | undefined;
  const written = new Set<() => void>();
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;

  function add(hour: number, articleId: number, n: number) {
    let perArticle = buffer.get(hour);
    if (!perArticle) buffer.set(hour, (perArticle = new Map()));
    perArticle.set(articleId, (perArticle.get(articleId) ?? 0) + n);
  }

  function prune(now: number) {
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    for (const [k, expires] of seen) {
      if (expires > now) break;
      seen.delete(k);
    }
    for (const windows of [rate, perArticle]) {
      for (const [k, r] of windows) {
        if (r.resetAt > now) break;
        windows.delete(k);
      }
    }
  }

  function evictOldest(map: Map<string, unknown>) {
    if (map.size <= maxTracked) return;
    // A tenth at a time, in one pass: evicting one key per insert restarts an
    // iterator that has to skip every slot deleted before, which turned a
    // 100k burst at the cap from ~0.1 s into seconds.
    let drop = map.size - Math.floor(maxTracked * 0.9);
    for (const k of map.keys()) {
      if (drop-- <= 0) break;
      map.delete(k);
    }
  }

  /** The fixed window of `key` (started by its first use), renewed once expired. */
  function windowOf(windows: Map<string, { resetAt: number; n: number }>, key: string, ms: number, now: number) {
    let w = windows.get(key);
    if (!w || w.resetAt <= now) {
      windows.delete(key);
      windows.set(key, (w = { resetAt: now + ms, n: 0 }));
      evictOldest(windows);
    }
    return w;
  }

  function record(articleId: number, network: string, reader = network): ViewOutcome {
    const now = clock();
    prune(now);

    // Every beacon uses up the network's budget, duplicates included.
    const r = windowOf(rate, network, RATE_WINDOW_MS, now);
    if (r.n >= opts.rateMaxPerMinute) return "rate-limited";
    r.n += 1;

    const key = `${reader}:${articleId}`;
    if (dedupMs > 0) {
      const expires = seen.get(key);
      if (expires !== undefined && expires > now) return "duplicate";
    }
    const cap = windowOf(perArticle, `${network}:${articleId}`, capMs, now);
    // Not remembered as seen: a capped reader was never counted.
    if (cap.n >= opts.maxPerNetworkPerArticle) return "capped";
    cap.n += 1;
    if (dedupMs > 0) {
      seen.delete(key);
      seen.set(key, now + dedupMs);
      evictOldest(seen);
    }

    add(Math.floor(now / HOUR_MS) * HOUR_MS, articleId, 1);
    return "counted";
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
      } catch (err) {
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
    },
  };
}

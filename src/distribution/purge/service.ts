// CDN purge: a durable consumer of the change events that queues their
// surrogate keys, and a sender that purges them at the configured CDN.
//
// Why a queue ("PurgeRequest") rather than holding the consumer's position
// until the CDN answers: a CDN that is down for an hour would otherwise stop
// the consumer (and keep change events from being pruned), and every retry
// would redo the batch. Here the consumer's transaction reads a batch of
// events, de-duplicates their keys, splits them into requests of at most the
// provider's limit and inserts those rows, then advances its position: each
// key is queued exactly once, however many instances run (consumers.ts). The
// sender claims due rows with FOR UPDATE SKIP LOCKED (each attempt is made by
// one instance), sends them outside any transaction, and records the outcome:
// done, retried later with exponential backoff and jitter (Retry-After wins
// when longer), or failed after PURGE_MAX_ATTEMPTS or a refusal (a 4xx other
// than 408/429). A claim is a lease: an instance that dies mid-send leaves the
// row to be sent again once PURGE_TIMEOUT_MS + 30 s have passed (purging twice
// is harmless).
//
// PURGE_PROVIDER=log (the default) is a dry run: the consumer logs, at info,
// the keys it would purge, and queues nothing. PURGE_PROVIDER=none starts nothing.
import { rerunning } from "../../events/rerunning.ts";
import type { Logger } from "pino";
import type { Config } from "../../config.ts";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import type { CommittedEvent, EventBus } from "../../events/bus.ts";
import { createConsumer, type Consumer } from "../../events/consumers.ts";
import { createPurger, type Fetch, type Purger } from "./purgers.ts";

export const PURGE_CONSUMER = "cdn-purge";

/** Finished requests are kept this long (GET-able for diagnosis), then pruned. */
const RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Events that take a story off the site: their keys are purged hard (see handle). */
const WITHDRAWALS = new Set([
  "article.unpublished", "article.trashed", "article.purged", "article.archived",
  // Issue 12: a kill, and an embargo put on a story already out.
  "article.withdrawn", "article.embargoed",
]);
/**
 * Rows claimed per round trip: one, so a claim's lease (PURGE_TIMEOUT_MS + 30 s)
 * covers its one send; rows claimed in bulk and sent one after another could
 * outlive their lease and be sent by another instance too. A claim costs one
 * statement next to an HTTP request.
 */
const CLAIM = 1;

export interface PurgeServiceOptions {
  /** The consumer's name (its position and its queue rows); default "cdn-purge". */
  name?: string;
  /** Replaces the purger the config names (tests). */
  purger?: Purger;
  fetch?: Fetch;
  /** Milliseconds since the epoch; decides when retries are due (tests inject one). */
  now?: () => number;
  /** In [0, 1): the jitter (tests inject one). */
  random?: () => number;
  /** How often the sender looks for due retries (default 1 s). */
  pollIntervalMs?: number;
  /** Events per consumer transaction (default 100). */
  batch?: number;
}

export interface PurgeRow {
  id: number;
  provider: string;
  keys: string[];
  soft: boolean;
  status: "pending" | "done" | "failed";
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PurgeService {
  readonly provider: Config["PURGE_PROVIDER"];
  /** The durable consumer (undefined with PURGE_PROVIDER=none). */
  readonly consumer: Consumer | undefined;
  /** Creates the consumer's position at the newest event if it has none: enabling purge does not replay history. */
  init(): Promise<void>;
  /** Queues (or, dry run, logs) the keys of every event not handled yet; resolves with how many events. */
  drain(): Promise<number>;
  /** Sends every request due now, one attempt each; resolves with how many attempts were made. */
  sendDue(): Promise<number>;
  /**
   * Queues keys directly (not from events), e.g. an operator's manual purge;
   * `also` runs in the same transaction (an audit entry). Resolves with how many requests were queued.
   */
  enqueue(keys: string[], soft?: boolean, also?: (tx: Prisma.TransactionClient) => Promise<void>): Promise<number>;
  /** The newest queued requests of this consumer, newest first. */
  list(q: { status?: PurgeRow["status"]; limit: number }): Promise<PurgeRow[]>;
  start(bus: EventBus): Promise<void>;
  stop(): Promise<void>;
}

const unique = (keys: Iterable<string>) => [...new Set(keys)].filter(Boolean);

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Delay before attempt `attempts + 1`: base * 2^(attempts-1), capped, jittered into its upper half; Retry-After when longer. */
export function backoffMs(
  attempts: number, base: number, max: number, random: () => number, retryAfterMs?: number,
): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  const jittered = Math.round(exp / 2 + random() * (exp / 2));
  return Math.max(jittered, retryAfterMs ?? 0);
}

export function createPurgeService(
  prisma: PrismaClient, logger: Logger, config: Config, opts: PurgeServiceOptions = {},
): PurgeService {
  const name = opts.name ?? PURGE_CONSUMER;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const log = logger.child({ component: "cdn-purge", provider: config.PURGE_PROVIDER });
  const provider = config.PURGE_PROVIDER;
  const purger = opts.purger ?? createPurger(config, { fetch: opts.fetch, now });
  const soft = config.PURGE_SOFT && (purger?.supportsSoft ?? true);
  const lease = config.PURGE_TIMEOUT_MS + 30_000;

  const consumer: Consumer | undefined = provider === "none" ? undefined : createConsumer(prisma, logger, {
    name,
    batch: opts.batch,
    async handle(tx, events: CommittedEvent[]) {
      const keys = unique(events.flatMap((e) => e.keys));
      if (!keys.length) return;
      const first = events[0].id;
      const last = events[events.length - 1].id;
      if (!purger) {
        log.info({ keys, soft, events: [first, last] }, "cdn purge (dry run: PURGE_PROVIDER=log)");
        return;
      }
      const at = new Date(now());
      // A withdrawal is purged hard even when PURGE_SOFT is on: a soft purge would let the CDN
      // serve the withdrawn story once more (stale-while-revalidate) while it revalidates.
      const hard = new Set(soft ? events.filter((e) => WITHDRAWALS.has(e.type)).flatMap((e) => e.keys) : []);
      const groups: [string[], boolean][] = [[keys.filter((k) => !hard.has(k)), soft], [[...hard], false]];
      for (const [list, asSoft] of groups) {
        for (const part of chunks(list, purger.maxKeys)) {
          await tx.$executeRaw`
            INSERT INTO "PurgeRequest" (consumer, provider, keys, soft, "nextAttemptAt", "firstEventId", "lastEventId", "createdAt", "updatedAt")
            VALUES (${name}, ${purger.provider}, ${part}::text[], ${asSoft}, ${at}, ${first}, ${last}, ${at}, ${at})`;
        }
      }
    },
  });

  async function enqueue(keys: string[], asSoft = soft, also?: (tx: Prisma.TransactionClient) => Promise<void>): Promise<number> {
    const list = unique(keys);
    if (!purger) {
      if (also) await prisma.$transaction(also);
      if (provider === "log") log.info({ keys: list, soft: asSoft }, "cdn purge (dry run: PURGE_PROVIDER=log)");
      return 0;
    }
    const at = new Date(now());
    const parts = chunks(list, purger.maxKeys);
    await prisma.$transaction(async (tx) => {
      for (const part of parts) {
        await tx.$executeRaw`
          INSERT INTO "PurgeRequest" (consumer, provider, keys, soft, "nextAttemptAt", "firstEventId", "lastEventId", "createdAt", "updatedAt")
          VALUES (${name}, ${purger.provider}, ${part}::text[], ${asSoft && purger.supportsSoft}, ${at}, 0, 0, ${at}, ${at})`;
      }
      await also?.(tx);
    });
    return parts.length;
  }

  async function list(q: { status?: PurgeRow["status"]; limit: number }): Promise<PurgeRow[]> {
    type Row = Omit<PurgeRow, "id"> & { id: bigint };
    // Two statements rather than one with an optional filter, so each reads its index (consumer[, status], id) backwards.
    const rows = q.status
      ? await prisma.$queryRaw<Row[]>`
          SELECT id, provider, keys, soft, status, attempts, "nextAttemptAt", "lastStatus", "lastError", "createdAt", "updatedAt"
            FROM "PurgeRequest" WHERE consumer = ${name} AND status = ${q.status} ORDER BY id DESC LIMIT ${q.limit}`
      : await prisma.$queryRaw<Row[]>`
          SELECT id, provider, keys, soft, status, attempts, "nextAttemptAt", "lastStatus", "lastError", "createdAt", "updatedAt"
            FROM "PurgeRequest" WHERE consumer = ${name} ORDER BY id DESC LIMIT ${q.limit}`;
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async function sendOne(row: { id: bigint; keys: string[]; soft: boolean; attempts: number }): Promise<void> {
    const result = await purger!.send(row.keys, row.soft);
    const at = now();
    if (result.ok) {
      await prisma.$executeRaw`
        UPDATE "PurgeRequest" SET status = 'done', "lastStatus" = ${result.status ?? null}, "lastError" = NULL, "updatedAt" = ${new Date(at)}
         WHERE id = ${row.id}`;
      log.debug({ id: Number(row.id), keys: row.keys.length, attempts: row.attempts }, "cdn purge sent");
      return;
    }
    const giveUp = !result.retry || row.attempts >= config.PURGE_MAX_ATTEMPTS;
    const next = giveUp
      ? at
      : at + backoffMs(row.attempts, config.PURGE_RETRY_BASE_MS, config.PURGE_RETRY_MAX_MS, random, result.retryAfterMs);
    await prisma.$executeRaw`
      UPDATE "PurgeRequest" SET status = ${giveUp ? "failed" : "pending"}, "nextAttemptAt" = ${new Date(next)},
             "lastStatus" = ${result.status ?? null}, "lastError" = ${result.error}, "updatedAt" = ${new Date(at)}
       WHERE id = ${row.id}`;
    const detail = { id: Number(row.id), keys: row.keys.length, attempts: row.attempts, status: result.status, error: result.error };
    if (giveUp) log.error(detail, "cdn purge failed; giving up (the keys stay cached until they expire)");
    else log.warn({ ...detail, retryInMs: next - at }, "cdn purge failed; will retry");
  }

  let lastPrune = 0;
  async function prune(): Promise<void> {
    const at = now();
    if (at - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = at;
    await prisma.$executeRaw`
      DELETE FROM "PurgeRequest" WHERE id IN (
        SELECT id FROM "PurgeRequest" WHERE "updatedAt" < ${new Date(at - RETENTION_MS)} AND status <> 'pending' LIMIT 1000)`;
  }

  let sending: Promise<number> | undefined;
  let sendAgain = false;
  function sendDue(): Promise<number> {
    if (!purger) return Promise.resolve(0);
    if (sending) {
      sendAgain = true;
      return sending;
    }
    sending = (async () => {
      let total = 0;
      try {
        await prune();
        do {
          sendAgain = false;
          for (;;) {
            const at = now();
            const rows = await prisma.$queryRaw<{ id: bigint; keys: string[]; soft: boolean; attempts: number }[]>`
              UPDATE "PurgeRequest" SET attempts = attempts + 1, "nextAttemptAt" = ${new Date(at + lease)}, "updatedAt" = ${new Date(at)}
               WHERE id IN (
                 SELECT id FROM "PurgeRequest"
                  WHERE consumer = ${name} AND status = 'pending' AND "nextAttemptAt" <= ${new Date(at)}
                  ORDER BY "nextAttemptAt", id LIMIT ${CLAIM} FOR UPDATE SKIP LOCKED)
              RETURNING id, keys, soft, attempts`;
            rows.sort((a, b) => (a.id < b.id ? -1 : 1));
            for (const row of rows) await sendOne(row);
            total += rows.length;
            if (rows.length < CLAIM) break;
          }
        } while (sendAgain);
        // Nothing may be awaited between that check and clearing `sending`: a call in between would be lost.
        return total;
      } finally {
        sending = undefined;
      }
    })();
    return sending;
  }

  async function init(): Promise<void> {
    if (!consumer) return;
    await prisma.$executeRaw`
      INSERT INTO "EventConsumer" (name, position) SELECT ${name}, COALESCE(max(id), 0) FROM "ChangeEvent"
      ON CONFLICT (name) DO NOTHING`;
  }

  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  // With a purger, this module drives its consumer itself, so the sender runs right after the
  // consumer's batch commits: a bus wake-up drains and then sends; the timer sends due retries
  // and drains again only after a failed batch.
  let drainFailed = false;
  let active = false;
  // The consumer's own loop repeats a drain asked for during one only once started on a bus
  // (consumer.start); driven from here it is not, so this loop does it: a wake-up that arrives
  // while a drain runs (which may have read before that event committed) drains once more after it.
  const drainLoop = rerunning(async () => {
    await consumer!.run().catch(() => void (drainFailed = true));
  }, { repeat: () => active });
  const inFlight = new Set<Promise<void>>();
  const kick = (drainFirst: boolean) => {
    if (!active) return;
    const p = (async () => {
      if (drainFirst || drainFailed) {
        drainFailed = false;
        await drainLoop();
      }
      if (active) await sendDue();
    })().catch((err) => log.warn({ err }, "cdn purge sender failed; retrying"));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  return {
    provider,
    consumer,
    init,
    drain: () => consumer?.run() ?? Promise.resolve(0),
    sendDue,
    enqueue,
    list,
    async start(bus) {
      if (!consumer) {
        // Off: drop the position so it does not hold back pruning of change events
        // (turning purge on again starts at the newest event).
        await prisma.$executeRaw`DELETE FROM "EventConsumer" WHERE name = ${name}`;
        return;
      }
      await init();
      if (!purger) {
        // Dry run: the consumer only logs; it runs on the bus's wake-ups (and retries failed batches itself).
        await consumer.start(bus);
        log.info("cdn purge dry run: logging the keys it would purge (set PURGE_PROVIDER to purge)");
        return;
      }
      active = true;
      unsubscribe = bus.subscribe(() => kick(true));
      timer = setInterval(() => kick(false), opts.pollIntervalMs ?? 1000);
      timer.unref();
      kick(true);
      log.info({ soft }, "cdn purge started");
    },
    async stop() {
      active = false;
      clearInterval(timer);
      timer = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      await consumer?.stop();
      await Promise.all([...inFlight]);
      await sending?.catch(() => {});
    },
  };
}

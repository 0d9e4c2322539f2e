// Durable consumers of change events: each named consumer handles every event
// exactly once, in id order, however many instances run it. Its position is
// a row in "EventConsumer"; a batch is read, handled and the position moved
// in ONE transaction that holds that row locked, so an instance that finds
// the row locked (FOR UPDATE SKIP LOCKED) knows another is working and skips,
// and a handler that fails rolls its batch back to be retried.
//
// Adding a consumer (webhooks, CDN purge, a search index) is one module:
//
//   export const purge = (db: PrismaClient, logger: Logger) =>
//     createConsumer(db, logger, { name: "cdn-purge", handle: async (tx, events) => { ... } });
//
// and `consumer.start(ctx.events)` where the app starts (stop() on shutdown).
// Side effects outside the database (an HTTP call) happen at least once:
// make them idempotent, or record them in `tx`.
import { rerunning, sum } from "./rerunning.ts";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { CommittedEvent, EventBus } from "./bus.ts";

type Tx = Prisma.TransactionClient;

export interface ConsumerOptions {
  /** Unique and stable: the position is stored under it. */
  name: string;
  /** Handles one batch inside the transaction that advances the position; throwing rolls both back. */
  handle(tx: Tx, events: CommittedEvent[]): Promise<void>;
  /** Events per transaction (default 100). */
  batch?: number;
  /** Longest a batch's transaction may run (default 30 s). */
  timeoutMs?: number;
  /** When another instance holds the consumer, look again after this long (default 100 ms): it may have read before the newest event committed. */
  busyRetryMs?: number;
  /** After a failed batch, wait this long before retrying (default 1 s). */
  failureRetryMs?: number;
}

export interface Consumer {
  readonly name: string;
  /** Handles what is pending now; resolves with how many events this call handled. */
  run(): Promise<number>;
  /** Runs at once, then whenever the bus brings new events. */
  start(bus: EventBus): Promise<void>;
  /** Stops reacting to the bus and waits for a batch in progress. */
  stop(): Promise<void>;
}

type Step = { handled: number; more: boolean } | "busy";

export function createConsumer(prisma: PrismaClient, logger: Logger, opts: ConsumerOptions): Consumer {
  const batch = opts.batch ?? 100;
  const log = logger.child({ consumer: opts.name });
  let stopped = true;
  let unsubscribe: (() => void) | undefined;
  let retry: NodeJS.Timeout | undefined;

  // One batch: lock the consumer's row, read after its position, handle, advance.
  const step = (): Promise<Step> =>
    prisma.$transaction(async (tx) => {
      await tx.$executeRaw`INSERT INTO "EventConsumer" (name) VALUES (${opts.name}) ON CONFLICT (name) DO NOTHING`;
      const [row] = await tx.$queryRaw<{ position: bigint }[]>`
        SELECT position FROM "EventConsumer" WHERE name = ${opts.name} FOR UPDATE SKIP LOCKED`;
      if (!row) return "busy";
      const rows = await tx.$queryRaw<(Omit<CommittedEvent, "id"> & { id: bigint })[]>`
        SELECT id, type, "entityType", "entityId", keys, "createdAt" FROM "ChangeEvent"
         WHERE id > ${row.position} ORDER BY id LIMIT ${batch}`;
      if (!rows.length) return { handled: 0, more: false };
      const events = rows.map((r) => ({ ...r, id: Number(r.id) }));
      await opts.handle(tx, events);
      await tx.$executeRaw`
        UPDATE "EventConsumer" SET position = ${events[events.length - 1].id}, "updatedAt" = now() WHERE name = ${opts.name}`;
      return { handled: events.length, more: events.length === batch };
    }, { timeout: opts.timeoutMs ?? 30_000, maxWait: opts.timeoutMs ?? 30_000 });

  const later = (ms: number) => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void run().catch(() => {});
    }, ms);
    retry.unref();
  };

  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await step();
      if (r === "busy") {
        later(opts.busyRetryMs ?? 100);
        return total;
      }
      total += r.handled;
      if (!r.more) return total;
    }
  }

  // One drain at a time per instance; a wake-up meanwhile drains once more after it.
  const run = rerunning(async () => {
    try {
      return await drain();
    } catch (err) {
      log.error({ err }, "change-event consumer failed; retrying");
      later(opts.failureRetryMs ?? 1000);
      throw err;
    }
  }, { combine: sum, repeat: () => !stopped });

  return {
    name: opts.name,
    run,
    async start(bus) {
      stopped = false;
      unsubscribe ??= bus.subscribe(() => void run().catch(() => {}));
      await run().catch(() => {});
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      unsubscribe = undefined;
      clearTimeout(retry);
      retry = undefined;
      await run.running?.catch(() => {});
    },
  };
}

// The delivery side's view of change events on one instance: every event
// committed after the bus started, in id order, handed to local subscribers
// (cache invalidation, and later anything that must run on every instance).
// Durable, exactly-once consumers across instances live in consumers.ts.
import { rerunning } from "./rerunning.ts";
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Database } from "../db/client.ts";

/** The channel the ChangeEvent trigger notifies (migration 20261126120000_change_events). */
export const CHANGE_CHANNEL = "dateline_changes";

export interface CommittedEvent {
  id: number;
  type: string;
  entityType: string;
  entityId: number | null;
  keys: string[];
  createdAt: Date;
}

export type Subscriber = (events: CommittedEvent[]) => void | Promise<void>;

export interface EventBus {
  /** Calls `fn` with each batch of newly committed events, in id order. Returns an unsubscribe function. */
  subscribe(fn: Subscriber): () => void;
  /** Reads what has committed since the last read and dispatches it now (writers call it after their commit). */
  poll(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface EventBusOptions {
  /** Fallback polling interval; notifications make delivery immediate. */
  pollIntervalMs: number;
  batch?: number;
}

/**
 * Pass the Database to be woken by LISTEN/NOTIFY at once; with only a
 * PrismaClient the bus polls (every `pollIntervalMs`).
 */
export function createEventBus(source: Database | PrismaClient, logger: Logger, opts: EventBusOptions): EventBus {
  const db = "withConnection" in source ? source : undefined;
  const prisma = db ? db.prisma : (source as PrismaClient);
  let unlisten: (() => Promise<void>) | undefined;
  const subscribers = new Set<Subscriber>();
  let lastId: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const batch = opts.batch ?? 500;

  async function readOnce(): Promise<void> {
    if (lastId === undefined) {
      const [row] = await prisma.$queryRaw<{ max: bigint | null }[]>`SELECT max(id) AS max FROM "ChangeEvent"`;
      lastId = Number(row?.max ?? 0);
      return;
    }
    for (;;) {
      const from: number = lastId;
      const rows: (Omit<CommittedEvent, "id"> & { id: bigint })[] = await prisma.$queryRaw`
        SELECT id, type, "entityType", "entityId", keys, "createdAt" FROM "ChangeEvent"
         WHERE id > ${from} ORDER BY id LIMIT ${batch}`;
      if (!rows.length) return;
      const events: CommittedEvent[] = rows.map((r) => ({ ...r, id: Number(r.id) }));
      lastId = events[events.length - 1].id;
      // A snapshot: one that subscribes while this batch is handed out gets
      // only later events (a Set's iterator would visit it too).
      for (const fn of [...subscribers]) {
        if (!subscribers.has(fn)) continue;
        try {
          await fn(events);
        } catch (err) {
          logger.error({ err }, "change-event subscriber failed");
        }
      }
      if (rows.length < batch) return;
    }
  }

  // One read at a time; a poll that arrives meanwhile runs once more after it.
  const poll = rerunning(readOnce);

  return {
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    poll,
    async start() {
      if (db && !unlisten) {
        // Listening before the first read: an event committed in between is
        // either in that read or wakes a later one.
        unlisten = await db.listen(
          CHANGE_CHANNEL,
          () => void poll().catch((err) => logger.warn({ err }, "change-event read failed")),
          (err) => logger.warn({ err }, "change-event listener lost its connection; reconnecting"),
        );
      }
      await poll();
      if (timer) return;
      timer = setInterval(() => {
        poll().catch((err) => logger.warn({ err }, "change-event poll failed"));
      }, opts.pollIntervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      const u = unlisten;
      unlisten = undefined;
      await u?.();
      await poll.running?.catch(() => {});
    },
  };
}

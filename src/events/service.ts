// Reading and pruning the change-event table (the operator's view and retention).
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";

export interface ListedEvent {
  id: number;
  type: string;
  entityType: string;
  entityId: number | null;
  keys: string[];
  data: Prisma.JsonValue | null;
  actorId: number | null;
  createdAt: Date;
}

export interface EventQuery {
  /** Ascending from after this id (tailing); absent: the newest, newest first. */
  after?: number;
  limit: number;
  /** An exact type, or a prefix ending in "." (article.). */
  type?: string;
  entityType?: string;
  entityId?: number;
}

export async function listEvents(prisma: PrismaClient, q: EventQuery): Promise<ListedEvent[]> {
  const where: Prisma.ChangeEventWhereInput = {
    ...(q.after !== undefined ? { id: { gt: q.after } } : {}),
    ...(q.type ? (q.type.endsWith(".") ? { type: { startsWith: q.type } } : { type: q.type }) : {}),
    ...(q.entityType ? { entityType: q.entityType } : {}),
    ...(q.entityId !== undefined ? { entityId: q.entityId } : {}),
  };
  const rows = await prisma.changeEvent.findMany({
    where,
    orderBy: { id: q.after !== undefined ? "asc" : "desc" },
    take: q.limit,
  });
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Deletes events older than `retentionDays`, except any a durable consumer
 * has not processed yet (past the lowest position): a consumer that was down
 * for longer than the retention still gets every event it missed.
 */
export async function pruneEvents(prisma: PrismaClient, retentionDays: number, batch = 5000): Promise<number> {
  const cutoff = new Date(Date.now() - retentionDays * 86400_000);
  let total = 0;
  for (;;) {
    // In batches, so one prune never holds a long transaction over a big backlog.
    const n = await prisma.$executeRaw`
      DELETE FROM "ChangeEvent" WHERE id IN (
        SELECT id FROM "ChangeEvent"
         WHERE "createdAt" < ${cutoff}
           AND id <= COALESCE((SELECT min(position) FROM "EventConsumer"), 9223372036854775807)
         ORDER BY id LIMIT ${batch})`;
    total += n;
    if (n < batch) return total;
  }
}

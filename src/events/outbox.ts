// The editorial side's half of change events: append them in the writer's own
// transaction. Whatever a reader can see changes only together with an event
// saying so, and an event exists only if its change committed.
import type { Prisma } from "../generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

export interface ChangeEventInput {
  /** e.g. article.published, section.renamed, comment.approved. */
  type: string;
  entityType: string;
  entityId?: number;
  /** Surrogate keys the change invalidates: article:42, section:7, front:china, latest, popular… */
  keys: string[];
  data?: Prisma.InputJsonValue;
  actorId?: number | null;
}

/** A change applied inside the writing transaction, before it commits (e.g. the published read model). */
export type Projection = (tx: Tx, events: ChangeEventInput[]) => Promise<void>;

const projections: Projection[] = [];

/** Registers a projection; every emit runs all of them, in registration order. */
export function registerProjection(p: Projection): void {
  if (!projections.includes(p)) projections.push(p);
}

// Any fixed key: all writers that append events take it, so event ids become
// visible in commit order (a consumer reading "after id N" never misses a
// smaller id that commits later). Held from the append to the commit, which
// is the end of the writing transaction: emit is the last thing a writer does.
const OUTBOX_LOCK = 72707370;

/**
 * Appends change events in `tx` and runs the projections over them. Call it
 * last in the transaction, after every row lock the writer takes.
 */
export async function emit(tx: Tx, input: ChangeEventInput | ChangeEventInput[]): Promise<void> {
  const events = (Array.isArray(input) ? input : [input]).map((e) => ({ ...e, keys: [...new Set(e.keys)] }));
  if (!events.length) return;
  for (const p of projections) await p(tx, events);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${OUTBOX_LOCK})`;
  await tx.changeEvent.createMany({
    data: events.map((e) => ({
      type: e.type,
      entityType: e.entityType,
      entityId: e.entityId ?? null,
      keys: e.keys,
      data: e.data,
      actorId: e.actorId ?? null,
    })),
  });
}

// Rebuilding derived rows (the read model, the search index) for many
// articles at once, safely beside live writers: in batches, each its own
// transaction that first takes FOR SHARE locks on the batch's "Article" rows.
// Writers lock an article's row first (FOR UPDATE), so this waits for them and
// holds them off: nothing is rebuilt from a read older than a concurrent
// writer's projection.
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

export interface ArticleBatchOptions {
  size: number;
  /** Transactions at a time (PostgreSQL: several connections, so several cores work). */
  concurrency: number;
  /** Progress lines ("<label>: building") when there is more than one batch. */
  label: string;
  logger?: Logger;
}

export async function inArticleBatches(
  prisma: PrismaClient, ids: number[], opts: ArticleBatchOptions,
  fn: (tx: Prisma.TransactionClient, batch: number[]) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const batch = ids.slice(next, next + opts.size);
      next += opts.size;
      await prisma.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Article" WHERE id = ANY(${batch}::int[]) FOR SHARE`;
        await fn(tx, batch);
      }, { timeout: 120_000 });
      done += batch.length;
      if (ids.length > opts.size) opts.logger?.info({ built: done, of: ids.length }, `${opts.label}: building`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
}

// Tombstones of withdrawn articles (issue 12 §3): one row per WITHDRAWN
// article that is not in the trash, with what its URL's 410 shows. Kept by
// the read model's projection (project() in read-model.ts) in the writer's
// transaction, like "PublishedArticle": the withdrawal's commit removes the
// public document and writes the tombstone together, and a reinstatement
// removes it again. GET /articles/{slug} reads both tables in one statement
// (articleBySlug in reads.ts), so the public 410 costs what a 200 costs.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

type Db = PrismaClient | Prisma.TransactionClient;

/** What a withdrawn article's URL answers with (410 Gone). */
export interface Tombstone {
  slug: string;
  headline: string;
  withdrawnAt: string;
  reason: string;
}

/**
 * Writes the tombstones of those of `ids` that are withdrawn (and not
 * trashed) and deletes the others', in one statement. The slug index is
 * not unique: the DELETE and the INSERT of one statement see the same
 * snapshot, and an article's slug is unique in "Article" anyway.
 */
export async function syncTombstones(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db.$executeRaw`
    WITH w AS (
      SELECT id, slug, headline, "withdrawnAt", COALESCE("withdrawalReason", '') AS reason FROM "Article"
       WHERE id = ANY(${ids}::int[]) AND status = 'WITHDRAWN' AND "deletedAt" IS NULL AND "withdrawnAt" IS NOT NULL
    ), gone AS (
      DELETE FROM "ArticleTombstone" t
       WHERE t."articleId" = ANY(${ids}::int[]) AND NOT EXISTS (SELECT 1 FROM w WHERE w.id = t."articleId")
    )
    INSERT INTO "ArticleTombstone" ("articleId", slug, headline, "withdrawnAt", reason)
    SELECT id, slug, headline, "withdrawnAt", reason FROM w
    ON CONFLICT ("articleId") DO UPDATE SET
      slug = EXCLUDED.slug, headline = EXCLUDED.headline, "withdrawnAt" = EXCLUDED."withdrawnAt", reason = EXCLUDED.reason`;
}

-- Issue 12 §2 and §3: embargoes and withdrawals.

-- Nothing in this migration uses the new value (PostgreSQL refuses that before it commits).
ALTER TYPE "ArticleStatus" ADD VALUE IF NOT EXISTS 'WITHDRAWN';

-- embargoedUntil: set while an embargo is pending (the scheduler clears it at the instant).
-- withdrawnAt/withdrawalReason/withdrawnFrom: set while WITHDRAWN (reinstating goes back to withdrawnFrom).
ALTER TABLE "Article"
  ADD COLUMN "embargoedUntil" TIMESTAMPTZ(3),
  ADD COLUMN "withdrawnAt" TIMESTAMPTZ(3),
  ADD COLUMN "withdrawalReason" TEXT,
  ADD COLUMN "withdrawnFrom" "ArticleStatus";

-- The scheduler's look-up of due embargoes.
CREATE INDEX "Article_embargoedUntil_idx" ON "Article"("embargoedUntil");

-- The public tombstone of each withdrawn article: GET /articles/{slug} answers 410 from it in the same statement.
CREATE TABLE "ArticleTombstone" (
    "articleId" INTEGER NOT NULL,
    "slug" TEXT NOT NULL,
    "headline" TEXT NOT NULL,
    "withdrawnAt" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "ArticleTombstone_pkey" PRIMARY KEY ("articleId")
);

CREATE INDEX "ArticleTombstone_slug_idx" ON "ArticleTombstone"("slug");

ALTER TABLE "ArticleTombstone" ADD CONSTRAINT "ArticleTombstone_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

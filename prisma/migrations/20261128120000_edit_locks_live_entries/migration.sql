-- Issue 12 §4 and §6: advisory edit locks, and live coverage (the LIVE kind and its entries).

-- Nothing in this migration uses the new value (PostgreSQL refuses that before it commits).
ALTER TYPE "ArticleKind" ADD VALUE IF NOT EXISTS 'LIVE';

-- CreateTable
CREATE TABLE "ArticleEditLock" (
    "articleId" INTEGER NOT NULL,
    "editorId" INTEGER NOT NULL,
    "since" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ArticleEditLock_pkey" PRIMARY KEY ("articleId")
);

-- CreateTable
CREATE TABLE "LiveEntry" (
    "id" SERIAL NOT NULL,
    "articleId" INTEGER NOT NULL,
    "title" TEXT,
    "body" TEXT NOT NULL,
    "keyEvent" BOOLEAN NOT NULL DEFAULT false,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "authorId" INTEGER,
    "version" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGSERIAL NOT NULL,
    "deletedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "LiveEntry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ArticleEditLock_editorId_idx" ON "ArticleEditLock"("editorId");

-- CreateIndex
CREATE INDEX "LiveEntry_articleId_id_idx" ON "LiveEntry"("articleId", "id");

-- CreateIndex
CREATE INDEX "LiveEntry_articleId_seq_idx" ON "LiveEntry"("articleId", "seq");

-- CreateIndex
CREATE INDEX "LiveEntry_authorId_idx" ON "LiveEntry"("authorId");

-- AddForeignKey
ALTER TABLE "ArticleEditLock" ADD CONSTRAINT "ArticleEditLock_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArticleEditLock" ADD CONSTRAINT "ArticleEditLock_editorId_fkey" FOREIGN KEY ("editorId") REFERENCES "Editor"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveEntry" ADD CONSTRAINT "LiveEntry_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveEntry" ADD CONSTRAINT "LiveEntry_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "Editor"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The published read model: one row per publicly readable article (PUBLISHED,
-- or ARCHIVED: readers filter by status at read time, per ARCHIVED_PUBLIC),
-- kept in step by a projection inside every writer's transaction (see
-- src/delivery/read-model.ts). "doc" is the public article document without
-- what depends on configuration (media URL base, permalinks, local times) or
-- on the section tree (section name, breadcrumb): those are applied at read.
CREATE TABLE "PublishedArticle" (
    "articleId" INTEGER NOT NULL,
    "slug" TEXT NOT NULL,
    "status" "ArticleStatus" NOT NULL,
    "sectionId" INTEGER NOT NULL,
    "kind" "ArticleKind" NOT NULL,
    "publishedAt" TIMESTAMPTZ(3),
    "tagSlugs" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    -- What "We Recommend" shows (picked or automatic): for reverse lookups.
    "relatedIds" INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[],
    "commentCount" INTEGER NOT NULL DEFAULT 0,
    "doc" JSONB NOT NULL,
    "item" JSONB NOT NULL,
    "builtAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PublishedArticle_pkey" PRIMARY KEY ("articleId"),
    CONSTRAINT "PublishedArticle_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE UNIQUE INDEX "PublishedArticle_slug_key" ON "PublishedArticle"("slug");
CREATE INDEX "PublishedArticle_tagSlugs_idx" ON "PublishedArticle" USING GIN ("tagSlugs");
CREATE INDEX "PublishedArticle_relatedIds_idx" ON "PublishedArticle" USING GIN ("relatedIds");
-- Lists show PUBLISHED only (ARCHIVED is readable by slug at most).
CREATE INDEX "PublishedArticle_latest_idx" ON "PublishedArticle"("publishedAt" DESC, "articleId" DESC) WHERE "status" = 'PUBLISHED';
CREATE INDEX "PublishedArticle_section_idx" ON "PublishedArticle"("sectionId", "publishedAt" DESC, "articleId" DESC) WHERE "status" = 'PUBLISHED';
-- A section front's lead falls back to the newest story with a lead image:
-- found without walking the section's stories that have none.
CREATE INDEX "PublishedArticle_section_image_idx" ON "PublishedArticle"("sectionId", "publishedAt" DESC, "articleId" DESC)
  WHERE "status" = 'PUBLISHED' AND ("item"->>'leadImage') IS NOT NULL;

-- Full-text search (issue 9 §1): one row per article in any status, kept by
-- the projection in src/search/index.ts inside the writer's transaction (like
-- "PublishedArticle"). `document` is the weighted tsvector (headline A,
-- summary B, body text C, dateline/byline/tag names D) built with the text
-- search configuration of the article's effective language (`config`, a
-- pg_ts_config name; 'simple' where PostgreSQL has no stemmer). The filter
-- columns copy "Article" so a search never joins the editorial tables.
--
-- No SQL backfill: the effective language depends on SITE_LANGUAGE
-- (configuration), so the start-up step backfillSearch() (src/search/index.ts)
-- builds the rows of articles that have none, and rebuilds those whose
-- language no longer matches the configuration.
CREATE TABLE "ArticleSearch" (
  "articleId"   INTEGER NOT NULL,
  "status"      "ArticleStatus" NOT NULL,
  "deleted"     BOOLEAN NOT NULL DEFAULT false,
  "sectionId"   INTEGER NOT NULL,
  "kind"        "ArticleKind" NOT NULL,
  "publishedAt" TIMESTAMPTZ(3),
  "tagSlugs"    TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
  "language"    TEXT NOT NULL,
  "config"      TEXT NOT NULL,
  "document"    TSVECTOR NOT NULL,
  "builtAt"     TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "ArticleSearch_pkey" PRIMARY KEY ("articleId"),
  CONSTRAINT "ArticleSearch_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Matching.
CREATE INDEX "ArticleSearch_document_idx" ON "ArticleSearch" USING GIN ("document");
-- Public results newest first (sort=newest, and the newest-matches window ranked for sort=relevance).
CREATE INDEX "ArticleSearch_public_idx" ON "ArticleSearch" ("publishedAt" DESC, "articleId" DESC)
  WHERE "status" = 'PUBLISHED' AND NOT "deleted";
-- ?section= (bitmap-ANDed with the GIN match when a common word meets a small section).
CREATE INDEX "ArticleSearch_section_idx" ON "ArticleSearch" ("sectionId", "publishedAt" DESC, "articleId" DESC)
  WHERE "status" = 'PUBLISHED' AND NOT "deleted";
-- ?tag=.
CREATE INDEX "ArticleSearch_tagSlugs_idx" ON "ArticleSearch" USING GIN ("tagSlugs");
-- The configurations in use (a skip scan: one probe per distinct value).
CREATE INDEX "ArticleSearch_config_idx" ON "ArticleSearch" ("config");

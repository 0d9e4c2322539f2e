-- Languages in the read model (issue 9): each document's effective language
-- (the article's own, else its section's or the nearest ancestor section's,
-- else SITE_LANGUAGE), written by the projection (src/delivery/read-model.ts)
-- for the public `?language=` filters, feeds and sitemaps (hreflang).
--
-- Rows built before this migration have NULL here: the start-up backfill
-- (backfill() in read-model.ts) rebuilds every row whose language is NULL or
-- differs from the effective language under the current SITE_LANGUAGE, so
-- no SQL backfill is needed (SITE_LANGUAGE is configuration, not data).
ALTER TABLE "PublishedArticle" ADD COLUMN "language" TEXT;

-- ?language= on the site-wide lists (/articles, /latest): one walk, newest first.
CREATE INDEX "PublishedArticle_language_idx" ON "PublishedArticle"("language", "publishedAt" DESC, "articleId" DESC)
  WHERE "status" = 'PUBLISHED';
-- ?language= with a section (per-section walks of /articles?section=, fronts):
-- a section of another language is skipped at once instead of read to the end.
CREATE INDEX "PublishedArticle_section_language_idx" ON "PublishedArticle"("sectionId", "language", "publishedAt" DESC, "articleId" DESC)
  WHERE "status" = 'PUBLISHED';

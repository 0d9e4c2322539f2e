-- The periodic refresh of the read model (automatic recommendations) takes
-- the longest-unrefreshed documents first.
CREATE INDEX "PublishedArticle_builtAt_articleId_idx" ON "PublishedArticle"("builtAt", "articleId");

-- Which articles show an image as their lead: the read model's media
-- projection and the media delete check ask this, and without an index each
-- asked by scanning every article.
CREATE INDEX "Article_leadImageId_idx" ON "Article"("leadImageId");

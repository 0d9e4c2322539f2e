-- Feeds per editor (issue 9, src/delivery/feeds.ts): the newest published
-- stories an editor wrote, one index walk stopping after a feed's worth,
-- however many stories the editor has. A partial index (like the read
-- model's list indexes), so it is kept in SQL only, not in schema.prisma.
CREATE INDEX "Article_author_published_idx" ON "Article"("authorId", "publishedAt" DESC, "id" DESC)
  WHERE "status" = 'PUBLISHED' AND "deletedAt" IS NULL;

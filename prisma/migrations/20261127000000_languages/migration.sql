-- Languages and editions (issue 9): an optional BCP 47 language per article
-- and per section (unset: the section's, then SITE_LANGUAGE), a translation
-- group linking the same story across languages, and the editorial
-- modification time (moves only on an update an editor marks significant).
ALTER TABLE "Article" ADD COLUMN "language" TEXT;
ALTER TABLE "Article" ADD COLUMN "translationGroup" TEXT;
ALTER TABLE "Article" ADD COLUMN "editorialUpdatedAt" TIMESTAMPTZ(3);
ALTER TABLE "Section" ADD COLUMN "language" TEXT;

CREATE INDEX "Article_translationGroup_idx" ON "Article"("translationGroup");

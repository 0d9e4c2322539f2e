-- The exact public JSON of each article, stored ready to send (issue 8 §2):
-- "json" and its strong "etag", rendered from "doc" by the delivery side's
-- renderer (src/delivery/rendered.ts) with the configuration and section tree
-- named by "renderKey". A cache-missing read sends "json" when its renderKey
-- is the reader's own, else renders "doc" itself.
ALTER TABLE "PublishedArticle" ADD COLUMN "json" TEXT;
ALTER TABLE "PublishedArticle" ADD COLUMN "etag" TEXT;
ALTER TABLE "PublishedArticle" ADD COLUMN "renderKey" TEXT;
-- The response's surrogate keys (space-separated), rendered with the JSON.
ALTER TABLE "PublishedArticle" ADD COLUMN "jsonKeys" TEXT;

-- Any change to what the JSON is made of makes it stale at once, in the
-- writer's own transaction: no reader can get the old bytes after the commit.
-- (A column the public article is rendered from must be listed here.)
CREATE FUNCTION "dateline_published_article_stale"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.doc, NEW."commentCount", NEW.status, NEW.slug, NEW."sectionId", NEW."relatedIds")
     IS DISTINCT FROM (OLD.doc, OLD."commentCount", OLD.status, OLD.slug, OLD."sectionId", OLD."relatedIds") THEN
    NEW.json := NULL;
    NEW.etag := NULL;
    NEW."renderKey" := NULL;
    NEW."jsonKeys" := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "PublishedArticle_stale" BEFORE UPDATE ON "PublishedArticle"
  FOR EACH ROW EXECUTE FUNCTION "dateline_published_article_stale"();

-- The renderer's queue: rows whose JSON is missing or stale.
CREATE INDEX "PublishedArticle_unrendered_idx" ON "PublishedArticle"("articleId") WHERE "renderKey" IS NULL;

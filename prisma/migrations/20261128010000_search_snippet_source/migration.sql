-- Search snippets (issue 9 §1) read a short plain-text copy of the body's
-- opening kept in the search row, instead of extracting "bodyText" from the
-- published document (a compressed JSON of 10 KB or more, decompressed whole
-- for each hit) and parsing 2,500 characters of it: ts_headline's cost is in
-- proportion to the text it is given. The projection (src/search/index.ts,
-- SNIPPET_SOURCE_CHARS) writes it with every row; this fills the rows that
-- exist: the first 1,200 characters, cut back to a whole word, without the
-- private-use characters that the snippet markers use.
ALTER TABLE "ArticleSearch" ADD COLUMN "snippetSource" TEXT NOT NULL DEFAULT '';

UPDATE "ArticleSearch" s
   SET "snippetSource" = translate(
         CASE WHEN length(a."bodyText") > 1200 THEN regexp_replace(left(a."bodyText", 1200), '\s+\S*$', '') ELSE a."bodyText" END,
         U&'\E000\E001', '')
  FROM "Article" a
 WHERE a.id = s."articleId";

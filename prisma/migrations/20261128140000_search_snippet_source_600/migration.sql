-- Snippet sources shortened from 1,200 to 600 characters (SNIPPET_SOURCE_CHARS,
-- src/search/query.ts): ts_headline's cost is in proportion to the text it
-- parses, and it was the larger part of an uncached search (bench/ANALYSIS.md:
-- 247-255 -> 322 searches a second on the 100k benchmark). Each stored source
-- is a prefix of the body text, so its first 600 characters cut back to a
-- whole word are what the projection now writes.
UPDATE "ArticleSearch"
   SET "snippetSource" = regexp_replace(left("snippetSource", 600), '\s+\S*$', '')
 WHERE length("snippetSource") > 600;

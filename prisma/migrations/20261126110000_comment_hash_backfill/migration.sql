-- Comments stored without a duplicate-check hash (the demo seed before this
-- fix) let their first copy through. Fill in bodyHash as bodyHash() in
-- src/comments/service.ts computes it: SHA-256 (hex) of the body lower-cased,
-- with every run of JavaScript whitespace (\s) made one space, and trimmed.
--
-- lower() follows the database's LC_CTYPE (C.UTF-8 and other UTF-8 locales
-- map all of Unicode; a plain "C" ctype only ASCII). It uses simple case
-- mapping, where JavaScript also applies the two language-independent special
-- cases, handled first here: U+0130 (capital I with dot) becomes "i" plus a
-- combining dot, and a capital sigma at the end of a word becomes the final
-- sigma. The whitespace class is spelled out rather than \s, whose meaning
-- depends on the locale (UESCAPE '!' keeps its backslashes regex escapes).
UPDATE "Comment"
   SET "bodyHash" = encode(sha256(convert_to(
         btrim(
           regexp_replace(
             lower(
               regexp_replace(
                 replace("body", U&'\0130', U&'i\0307'),
                 U&'(?<=[[:upper:][:lower:]][''.:\00B7\2018\2019\0300-\036F]*)\03A3(?![''.:\00B7\2018\2019\0300-\036F]*[[:upper:][:lower:]])',
                 U&'\03C2', 'g')),
             U&'[\t\n\v\f\r !00A0!1680!2000-!200A!2028!2029!202F!205F!3000!FEFF]+' UESCAPE '!', ' ', 'g'),
           ' '),
         'UTF8')), 'hex')
 WHERE "bodyHash" IS NULL;

// The benchmark corpus, built with set-based SQL (INSERT ... SELECT
// generate_series) straight into a migrated, empty schema: N published
// articles with 3-5 KB bodies of invented text, 60 sections in a tree under an
// `english` root, 20 editors, tags, credits, related lists, ~N/2 comments and
// ~140,000 hourly view rows over the last 30 days. No Prisma, no app code:
// loading 100,000 articles through the services would take longer than the
// benchmark itself. Every statement is plain PostgreSQL, so the same SQL runs
// on a server and on PGlite.

// Invented vocabulary: the text reads like news but reports nothing.
const WORDS = (
  "council minister harbour market trade river province ministry delegation bridge railway festival " +
  "exporters farmers commuters engineers officials residents analysts students volunteers investors " +
  "announced reviewed approved delayed expanded opened discussed proposed measured reported rebuilt " +
  "quarterly annual regional coastal northern southern eastern western municipal provisional " +
  "budget schedule report proposal forecast inquiry survey agreement framework programme project " +
  "the a of in on for with after before during while across under between and but as " +
  "said would could might will has have was were is are new old local national early late " +
  "talks plans figures prices rates costs services routes shipments harvests exhibitions elections"
).split(" ");
const HEAD_A = ["Council", "Ministry", "Harbour", "Railway", "Market", "Festival", "Province", "Exporters", "Engineers", "Residents"];
const HEAD_B = ["approves", "delays", "expands", "reviews", "opens", "debates", "revises", "measures", "rebuilds", "reports on"];
const HEAD_C = ["new budget", "river bridge", "coastal route", "annual survey", "trade framework", "harvest forecast", "transit plan", "school programme", "water project", "port schedule"];

/** Words of the corpus (body and headline vocabulary, no stop words) that the search scenario queries. */
export const SEARCH_VOCABULARY = [...new Set([...WORDS, ...HEAD_A, ...HEAD_B, ...HEAD_C]
  .flatMap((x) => x.toLowerCase().split(" ")))].filter((w) => w.length > 3);

const lit = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(",")}]::text[]`;

export interface CorpusOptions {
  articles: number;
  /** Approximate number of comments (default articles / 2). */
  comments?: number;
  /** Hourly view rows over the last 30 days (720 hours; default 140,000). */
  viewRows?: number;
}

/** SQL statements to run in order on a freshly migrated schema (search_path set to it). */
export function corpusStatements(opts: CorpusOptions): { label: string; sql: string }[] {
  const n = opts.articles;
  const comments = opts.comments ?? Math.round(n / 2);
  const perHour = Math.max(1, Math.round((opts.viewRows ?? 140_000) / 720));
  // The view rows fall on the newest `hotPool` articles, so "popular" has a real ranking to compute.
  const hotPool = Math.max(perHour + 1, Math.min(n, 3000));
  const W = WORDS.length;
  const stmts: { label: string; sql: string }[] = [];
  const add = (label: string, sql: string) => stmts.push({ label, sql });

  add("editors", `
    INSERT INTO "Editor" (name, email, "passwordHash", role, active, "createdAt", "updatedAt")
    SELECT 'Desk Editor ' || i, 'editor' || i || '@bench.invalid',
           -- Well-formed but matching no password: nobody logs in as these.
           'scrypt$16384$8$1$' || encode(sha256(('salt' || i)::bytea), 'base64') || '$' || encode(sha256(('hash' || i)::bytea), 'base64'),
           (CASE WHEN i <= 5 THEN 'EDITOR' ELSE 'WRITER' END)::"Role", true, now(), now()
    FROM generate_series(1, 20) i`);

  // 60 sections: english, 11 desks under it, 48 subsections spread over the desks.
  add("sections", `
    INSERT INTO "Section" (slug, name, description, "parentId", position, "createdAt", "updatedAt")
    VALUES ('english', 'English', 'The English-language edition of the portal.', NULL, 0, now(), now());
    INSERT INTO "Section" (slug, name, description, "parentId", position, "createdAt", "updatedAt")
    SELECT 'desk-' || d, 'Desk ' || d, 'Stories from desk ' || d || '.', (SELECT id FROM "Section" WHERE slug = 'english'), d * 10, now(), now()
    FROM generate_series(1, 11) d;
    INSERT INTO "Section" (slug, name, description, "parentId", position, "createdAt", "updatedAt")
    SELECT 'desk-' || (1 + (s % 11)) || '-' || s, 'Desk ' || (1 + (s % 11)) || ' / ' || s, '',
           (SELECT id FROM "Section" WHERE slug = 'desk-' || (1 + (s % 11))), s, now(), now()
    FROM generate_series(1, 48) s`);

  add("tags", `
    INSERT INTO "Tag" (slug, name)
    SELECT 'topic-' || t, 'Topic ' || t FROM generate_series(1, 500) t`);

  // 64 invented paragraphs (~70 words, ~450 characters each); a body is 7-10 of them.
  add("articles", `
    CREATE TEMP TABLE bench_par AS
    SELECT p, (SELECT string_agg((${lit(WORDS)})[1 + ((p * 7919 + w * 104729 + w * w * 31) % ${W})], ' ')
               FROM generate_series(1, 70) w) AS t
    FROM generate_series(0, 63) p;
    INSERT INTO "Article" (slug, headline, summary, dateline, byline, body, "bodyText", kind, status,
                           "publishedAt", version, "createdAt", "updatedAt", "sectionId", "authorId")
    SELECT 'story-' || i || '-' || lower(replace(h, ' ', '-')),
           h, 'An invented report, number ' || i || ', for load testing.', 'PORT TOWN', 'Bench Reporter',
           b.html, b.plain,
           (CASE WHEN i % 10 = 0 THEN 'ANALYSIS' WHEN i % 10 = 5 THEN 'OPINION' ELSE 'STORY' END)::"ArticleKind",
           'PUBLISHED'::"ArticleStatus",
           pub, 1, pub, pub,
           -- Ids are consecutive in the fresh schema: english first, then the 59 others.
           (SELECT min(id) FROM "Section") + 1 + i % 59,
           (SELECT min(id) FROM "Editor") + i % 20
    FROM (
      SELECT i,
             (${lit(HEAD_A)})[1 + i % 10] || ' ' || (${lit(HEAD_B)})[1 + (i / 10) % 10] || ' ' || (${lit(HEAD_C)})[1 + (i / 100) % 10] AS h,
             -- Oldest first, one every 10 minutes: the newest is a minute old.
             now() - interval '1 minute' - (${n} - i) * interval '10 minutes' AS pub
      FROM generate_series(1, ${n}) i
    ) a
    CROSS JOIN LATERAL (
      SELECT string_agg('<p>' || t || '</p>', '' ORDER BY k) AS html, string_agg(t, E'\\n\\n' ORDER BY k) AS plain
      FROM generate_series(1, 7 + a.i % 4) k JOIN bench_par ON p = (a.i * 13 + k * 29) % 64
    ) b;
    DROP TABLE bench_par`);

  add("credits, tags, related", `
    INSERT INTO "ArticleEditor" ("articleId", "editorId", position)
    SELECT a.id, e.id, 0 FROM "Article" a JOIN "Editor" e ON e.id = (SELECT min(id) FROM "Editor") + (a.id % 5);
    INSERT INTO "ArticleTag" ("articleId", "tagId")
    SELECT a.id, t.id FROM "Article" a
    CROSS JOIN generate_series(0, 2) j
    JOIN "Tag" t ON t.id = (SELECT min(id) FROM "Tag") + ((a.id * 7 + j * 167) % 500);
    INSERT INTO "ArticleRelated" ("articleId", "relatedId", position)
    SELECT a.id, a.id - j, j FROM "Article" a CROSS JOIN generate_series(1, 3) j
    WHERE a.id - j >= (SELECT min(id) FROM "Article")`);

  // Comments on the newest articles (the ones readers comment on); the newest
  // has 200. 80 % approved, the rest pending or rejected.
  add("comments", `
    INSERT INTO "Comment" ("articleId", "authorName", body, "bodyHash", "clientHash", status, "createdAt", "updatedAt")
    SELECT (SELECT max(id) FROM "Article"), 'Reader ' || c, 'Comment ' || c || ' on the newest story: ' || (${lit(WORDS)})[1 + c % ${W}],
           encode(sha256(('Comment ' || c || ' on the newest story: ' || (${lit(WORDS)})[1 + c % ${W}])::bytea), 'hex'),
           encode(sha256(('client' || (c % 997))::bytea), 'hex'), 'APPROVED'::"CommentStatus",
           now() - c * interval '1 minute', now() - c * interval '1 minute'
    FROM generate_series(1, 200) c;
    INSERT INTO "Comment" ("articleId", "authorName", body, "bodyHash", "clientHash", status, "createdAt", "updatedAt")
    SELECT x.aid, 'Reader ' || c, x.body, encode(sha256(x.body::bytea), 'hex'),
           encode(sha256(('client' || (c % 997))::bytea), 'hex'),
           (CASE WHEN c % 10 < 8 THEN 'APPROVED' WHEN c % 10 = 8 THEN 'PENDING' ELSE 'REJECTED' END)::"CommentStatus",
           now() - (c % 43200) * interval '1 minute', now() - (c % 43200) * interval '1 minute'
    FROM generate_series(1, ${Math.max(0, comments - 200)}) c
    CROSS JOIN LATERAL (
      SELECT (SELECT max(id) FROM "Article") - (c % ${Math.min(n, 20_000)}) AS aid,
             'Reader comment ' || c || ': ' || (${lit(WORDS)})[1 + c % ${W}] || ' ' || (${lit(WORDS)})[1 + (c / 7) % ${W}] AS body
    ) x`);

  // ~perHour articles per hour for 720 hours, all among the newest hotPool.
  add("views", `
    INSERT INTO "ArticleViewHourly" ("articleId", hour, views)
    SELECT (SELECT max(id) FROM "Article") - ((h * 7919 + k * 104729) % ${hotPool}),
           date_trunc('hour', now()) - h * interval '1 hour',
           1 + ((h * 31 + k * 17) % 500)
    FROM generate_series(0, 719) h CROSS JOIN generate_series(1, ${perHour}) k
    ON CONFLICT DO NOTHING`);

  add("collection and leads", `
    INSERT INTO "Collection" (slug, name, "createdAt", "updatedAt") VALUES ('selections-for-you', 'Selections for you', now(), now());
    INSERT INTO "CollectionItem" ("collectionId", "articleId", position)
    SELECT (SELECT id FROM "Collection" WHERE slug = 'selections-for-you'), id, row_number() OVER (ORDER BY id DESC)
    FROM (SELECT id FROM "Article" ORDER BY id DESC LIMIT 10) a;
    UPDATE "Section" s SET "leadArticleId" = (
      SELECT a.id FROM "Article" a WHERE a."sectionId" = s.id ORDER BY a."publishedAt" DESC LIMIT 1 OFFSET 3)
    WHERE s.slug LIKE 'desk-%' AND s.slug NOT LIKE 'desk-%-%'`);

  add("analyze", `ANALYZE`);
  return stmts;
}

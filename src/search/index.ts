// The full-text search index: "ArticleSearch" holds one row per article, in
// any status (the editor API searches drafts too), with a weighted tsvector
// built in the language of the article and the columns searches filter and
// sort by. Like the published read model (src/delivery/read-model.ts) it is
// kept by a projection that runs inside the writer's transaction: a search
// never finds what the writer's commit did not also make true.
//
// - Article events (entityType "article") rebuild that article's row with one
//   INSERT ... SELECT ... ON CONFLICT from "Article" (a purged article's row
//   goes with it: ON DELETE CASCADE).
// - Section events rebuild the rows of articles (in the section and below, as
//   section languages are inherited) whose effective language changed.
// - At start-up, backfillSearch() builds rows for articles that have none
//   (demo content, the bench corpus, anything written in SQL) and rebuilds the
//   rows whose language no longer matches SITE_LANGUAGE.
//
// The document: headline (weight A), summary (B), body text (C: "bodyText",
// the plain text of the sanitized body, its first BODY_CHARS characters), and
// dateline, byline and tag names (D), each parsed with the text search
// configuration of the article's effective language (searchConfigFor:
// stemming and stop words; `simple` where PostgreSQL has no dictionary).
import type { Logger } from "pino";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import { registerProjection, type ChangeEventInput } from "../events/outbox.ts";
import { inArticleBatches } from "../db/article-batches.ts";
import { loadTree, type SectionTree } from "../sections/service.ts";
import { effectiveLanguage, searchConfigFor } from "../i18n/languages.ts";
import { snippetSourceSql } from "./query.ts";

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Body characters indexed. A tsvector holds at most 1 MB; 100,000 characters
 * (a very long feature is 30,000) stay far below it whatever the text, so a
 * save never fails on its index. Positions past 16,383 count as 16,383.
 */
export const BODY_CHARS = 100_000;

let siteLanguage = "en";

/**
 * SITE_LANGUAGE, for the articles that inherit it. Set from the configuration
 * when the app is created (one site language per process: two apps with
 * different SITE_LANGUAGE in one process would share the last one set).
 */
export function setSearchSiteLanguage(tag: string): void {
  siteLanguage = tag;
}

export const searchSiteLanguage = () => siteLanguage;


/** The effective language of an article (own, else the section chain's, else the site's). */
function languageOf(tree: SectionTree, own: string | null, sectionId: number): string {
  return effectiveLanguage(own, tree.languageOf(sectionId), siteLanguage);
}

/** Rebuilds the search rows of `ids` (those that still exist) in `db`. */
export async function reindexArticles(db: Db, ids: number[], tree?: SectionTree): Promise<void> {
  ids = [...new Set(ids)];
  if (!ids.length) return;
  const rows = await db.$queryRaw<{ id: number; language: string | null; sectionId: number }[]>`
    SELECT id, language, "sectionId" FROM "Article" WHERE id = ANY(${ids}::int[])`;
  if (!rows.length) return;
  tree ??= await loadTree(db);
  const langs = rows.map((r) => languageOf(tree, r.language, r.sectionId));
  await upsert(db, rows.map((r) => r.id), langs);
}

async function upsert(db: Db, ids: number[], langs: string[]): Promise<void> {
  const configs = langs.map(searchConfigFor);
  await db.$executeRaw`
    INSERT INTO "ArticleSearch"
      ("articleId", status, deleted, "sectionId", kind, "publishedAt", "tagSlugs", language, config, document, "snippetSource", "builtAt")
    -- "deleted": hidden from the public search (trashed, or under a pending embargo: src/articles/embargo.ts).
    SELECT a.id, a.status, a."deletedAt" IS NOT NULL OR a."embargoedUntil" IS NOT NULL, a."sectionId", a.kind, a."publishedAt",
           COALESCE(t.slugs, ARRAY[]::text[]), x.lang, x.cfg,
           setweight(to_tsvector(x.cfg::regconfig, a.headline), 'A') ||
           setweight(to_tsvector(x.cfg::regconfig, a.summary), 'B') ||
           setweight(to_tsvector(x.cfg::regconfig, left(a."bodyText", ${BODY_CHARS})), 'C') ||
           setweight(to_tsvector(x.cfg::regconfig, concat_ws(' ', a.dateline, a.byline, t.names)), 'D'),
           ${snippetSourceSql(Prisma.sql`a."bodyText"`)},
           now()
      FROM unnest(${ids}::int[], ${langs}::text[], ${configs}::text[]) AS x(id, lang, cfg)
      JOIN "Article" a ON a.id = x.id
      LEFT JOIN LATERAL (
        SELECT array_agg(g.slug ORDER BY g.slug) AS slugs, string_agg(g.name, ' ' ORDER BY g.slug) AS names
          FROM "ArticleTag" at JOIN "Tag" g ON g.id = at."tagId" WHERE at."articleId" = a.id) t ON true
    ON CONFLICT ("articleId") DO UPDATE SET
      status = EXCLUDED.status, deleted = EXCLUDED.deleted, "sectionId" = EXCLUDED."sectionId", kind = EXCLUDED.kind,
      "publishedAt" = EXCLUDED."publishedAt", "tagSlugs" = EXCLUDED."tagSlugs", language = EXCLUDED.language,
      config = EXCLUDED.config, document = EXCLUDED.document, "snippetSource" = EXCLUDED."snippetSource",
      "builtAt" = EXCLUDED."builtAt"`;
}

/**
 * Articles in `sectionIds` that inherit their language and whose row says
 * otherwise than `tree` does now (a section's language was set, changed or
 * removed, or the section moved under another).
 */
async function staleInSections(db: Db, tree: SectionTree, sectionIds: number[]): Promise<number[]> {
  if (!sectionIds.length) return [];
  const rows = await db.$queryRaw<{ id: number; sectionId: number; language: string }[]>`
    SELECT a.id, a."sectionId", s.language FROM "Article" a JOIN "ArticleSearch" s ON s."articleId" = a.id
     WHERE a."sectionId" = ANY(${sectionIds}::int[]) AND a.language IS NULL`;
  return rows.filter((r) => r.language !== languageOf(tree, null, r.sectionId)).map((r) => r.id);
}

/** The projection: applies a batch of change events to the search index, in the writer's transaction. */
export async function projectSearch(db: Db, events: ChangeEventInput[]): Promise<void> {
  const articles = new Set<number>();
  const sections = new Set<number>();
  for (const e of events) {
    if (e.entityType === "article" && e.entityId) articles.add(e.entityId);
    if (e.entityType === "section" && e.entityId) sections.add(e.entityId);
  }
  if (!articles.size && !sections.size) return;
  const tree = await loadTree(db);
  if (sections.size) {
    const below = [...new Set([...sections].flatMap((id) => (tree.byId.has(id) ? tree.descendantIds(id) : [])))];
    for (const id of await staleInSections(db, tree, below)) articles.add(id);
  }
  await reindexArticles(db, [...articles], tree);
}

registerProjection(projectSearch);

const BATCH = 1000;

/**
 * Builds the rows of articles that have none and rebuilds those whose
 * language is no longer their effective one (SITE_LANGUAGE changed), in
 * batches of BATCH, each its own transaction. Returns how many were built.
 */
export async function backfillSearch(prisma: PrismaClient, site: string, logger?: Logger, concurrency = 1): Promise<number> {
  setSearchSiteLanguage(site);
  const tree = await loadTree(prisma);
  const missing = await prisma.$queryRaw<{ id: number }[]>`
    SELECT a.id FROM "Article" a
     WHERE NOT EXISTS (SELECT 1 FROM "ArticleSearch" s WHERE s."articleId" = a.id) ORDER BY a.id`;
  // Only articles that inherit the site's language can be stale: their section chain has none.
  const inheriting = [...tree.byId.keys()].filter((id) => !tree.languageOf(id));
  const stale = inheriting.length
    ? await prisma.$queryRaw<{ id: number }[]>`
        SELECT a.id FROM "Article" a JOIN "ArticleSearch" s ON s."articleId" = a.id
         WHERE a.language IS NULL AND a."sectionId" = ANY(${inheriting}::int[]) AND s.language <> ${site}
         ORDER BY a.id`
    : [];
  const ids = [...missing, ...stale].map((r) => r.id);
  // Locked batches (src/db/article-batches.ts): a concurrent save is not overwritten by an older read.
  await inArticleBatches(prisma, ids, { size: BATCH, concurrency, label: "search index", logger }, (tx, batch) =>
    reindexArticles(tx, batch, tree));
  if (ids.length) {
    // Statistics and a flushed GIN pending list for the planner: before them it
    // guesses, and may scan the whole table for a word no article contains.
    await prisma.$executeRawUnsafe(`VACUUM ANALYZE "ArticleSearch"`);
    logger?.info({ articles: ids.length }, "search index: built rows for articles that had none or changed language");
  }
  return ids.length;
}

// GET /api/v1/search: full-text search over published articles, one SQL
// statement per request (plus, after an article or section change, one to
// learn which text search configurations are in use). The matching runs on
// "ArticleSearch" (src/search/index.ts) through its GIN index; only the page's
// rows are joined to "PublishedArticle" for their list items, and only they
// get a snippet (ts_headline parses the text, so it runs on at most limit+1
// short snippet sources).
//
// sort=relevance ranks (ts_rank_cd, weighted, length-normalized) the newest
// WINDOW matches and pages through them by (rank, id); sort=newest pages by
// (publishedAt, id) through every match. `meta.total` counts the matches up
// to WINDOW (`totalIsEstimate` when there may be more). Each step is bounded
// whatever the archive's size: the GIN index (rare words) or a walk of the
// newest published rows (common words) finds at most WINDOW rows. The
// statement goes through Database.read, not Prisma: Prisma's per-query
// compile-and-map cost was a fifth of a search's time.
import { Router, type Response } from "express";
import { z } from "zod";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { AppContext } from "../context.ts";
import type { Database } from "../db/client.ts";
import type { EventBus } from "../events/bus.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { route, slugSchema } from "../http/validate.ts";
import { publicView } from "../articles/presentation.ts";
import { searchConfigFor } from "../i18n/languages.ts";
import { languageSchema } from "../i18n/schema.ts";
import { setSearchSiteLanguage } from "../search/index.ts";
import {
  RANK_SCALE, WINDOW, decodeSearchCursor, encodeSearchCursor, headlineSql, matchSql, parseSearch, queryTextSchema,
  rankSql, snippetHtml, type ParsedSearch,
} from "../search/query.ts";
import type { ItemDoc } from "./read-model.ts";
import { renderItem } from "./render.ts";
import { surrogateKeys } from "./response-cache.ts";
import { LiveSectionTree } from "./section-tree.ts";
import { publicReads } from "../db/replicas.ts";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A calendar date (UTC; as `to`, the whole day) or an ISO date-time with offset. */
const instant = (bound: "from" | "to") =>
  z.string().max(40).transform((v, ctx) => {
    const dateOnly = DATE_ONLY.test(v);
    const ok = dateOnly || z.iso.datetime({ offset: true }).safeParse(v).success;
    const t = ok ? Date.parse(dateOnly ? `${v}T00:00:00Z` : v) : NaN;
    if (Number.isNaN(t) || t < Date.UTC(1000, 0, 1) || t >= Date.UTC(10000, 0, 1) - DAY_MS) {
      ctx.addIssue({ code: "custom", message: "Must be a date (2026-11-27) or a date-time with offset, years 1000 to 9999." });
      return z.NEVER;
    }
    // Upper bounds are kept exclusive: the day after a date, the next millisecond after a date-time.
    return new Date(bound === "from" ? t : t + (dateOnly ? DAY_MS : 1));
  });

const searchQuery = z.object({
  q: queryTextSchema,
  section: slugSchema.optional(),
  tag: slugSchema.optional(),
  kind: z.enum(["STORY", "ANALYSIS", "OPINION", "PHOTO_STORY", "LIVE"]).optional(),
  language: languageSchema.optional(),
  from: instant("from").optional(),
  to: instant("to").optional(),
  sort: z.enum(["relevance", "newest"]).default("relevance"),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(200).optional(),
});

/**
 * The text search configurations of the indexed articles (a skip scan over
 * the config index: one probe per configuration), cached until an article
 * or section change arrives from any instance.
 */
export class ConfigsInUse {
  private configs: Promise<string[]> | undefined;
  private generation = 0;

  constructor(private readonly prisma: PrismaClient, events?: EventBus) {
    events?.subscribe((batch) => {
      if (batch.some((e) => e.entityType === "article" || e.entityType === "section")) this.invalidate();
    });
  }

  invalidate(): void {
    this.generation += 1;
    this.configs = undefined;
  }

  get(): Promise<string[]> {
    if (!this.configs) {
      const gen = this.generation;
      const loading = configsInUse(this.prisma).then(
        (list) => list,
        (err) => {
          if (this.configs === loading) this.configs = undefined;
          throw err;
        },
      );
      this.configs = loading;
      // A change that arrived while reading may have added one: read again next time.
      void loading.then(() => {
        if (gen !== this.generation && this.configs === loading) this.configs = undefined;
      }, () => {});
    }
    return this.configs;
  }
}

export async function configsInUse(db: PrismaClient | Prisma.TransactionClient): Promise<string[]> {
  const rows = await db.$queryRaw<{ config: string }[]>`
    WITH RECURSIVE c(config) AS (
      (SELECT config FROM "ArticleSearch" ORDER BY config LIMIT 1)
      UNION ALL
      SELECT (SELECT s.config FROM "ArticleSearch" s WHERE s.config > c.config ORDER BY s.config LIMIT 1)
        FROM c WHERE c.config IS NOT NULL)
    SELECT config FROM c WHERE config IS NOT NULL`;
  return rows.map((r) => r.config);
}

export interface PublicSearch {
  parsed: ParsedSearch;
  configs: string[];
  sectionIds?: number[];
  tag?: string;
  kind?: string;
  language?: string;
  from?: Date;
  /** Exclusive. */
  toBefore?: Date;
  sort: "relevance" | "newest";
  after?: { r: number; id: number } | { t: Date; id: number };
  /** Rows to fetch (the page size plus one). */
  take: number;
}

export interface SearchRow {
  total: number;
  articleId: number | null;
  sectionId: number;
  item: ItemDoc;
  rank: number;
  snippet: string | null;
}

/** The public search in one statement; with no match on the page, one row carrying only `total`. */
export async function publicSearchRows(db: Pick<Database, "read">, f: PublicSearch): Promise<SearchRow[]> {
  const sql = publicSearchSql(f);
  return db.read<SearchRow>(sql.text, sql.values);
}

/** The statement of publicSearchRows (EXPLAIN it with the same parameters). */
export function publicSearchSql(f: PublicSearch): Prisma.Sql {
  const where = [Prisma.sql`s.status = 'PUBLISHED'`, Prisma.sql`NOT s.deleted`, matchSql(f.configs, f.parsed)];
  if (f.tag) where.push(Prisma.sql`s."tagSlugs" @> ARRAY[${f.tag}]::text[]`);
  if (f.kind) where.push(Prisma.sql`s.kind = ${f.kind}::"ArticleKind"`);
  if (f.language) where.push(Prisma.sql`(s.language = ${f.language} OR s.language LIKE ${`${f.language}-%`})`);
  if (f.from) where.push(Prisma.sql`s."publishedAt" >= ${f.from}::timestamptz`);
  if (f.toBefore) where.push(Prisma.sql`s."publishedAt" < ${f.toBefore}::timestamptz`);
  const cond = Prisma.join(where, " AND ");
  // The newest `limit` matches ("articleId", "publishedAt"). With sections: one walk per section down
  // ("sectionId", "publishedAt", "articleId"), each stopping after `limit` matches, merged (as
  // listItems in reads.ts): one walk of the site-wide index filtered by section reads the whole site
  // to fill a small section's window.
  const newest = (limit: number, extra: Prisma.Sql = Prisma.empty) => f.sectionIds
    ? Prisma.sql`
        SELECT x."articleId", x."publishedAt" FROM unnest(${f.sectionIds}::int[]) AS sec(id)
         CROSS JOIN LATERAL (
           SELECT s."articleId", s."publishedAt" FROM "ArticleSearch" s
            WHERE s."sectionId" = sec.id AND ${cond} ${extra}
            ORDER BY s."publishedAt" DESC, s."articleId" DESC LIMIT ${limit}) x
         ORDER BY x."publishedAt" DESC, x."articleId" DESC LIMIT ${limit}`
    : Prisma.sql`
        SELECT s."articleId", s."publishedAt" FROM "ArticleSearch" s WHERE ${cond} ${extra}
         ORDER BY s."publishedAt" DESC, s."articleId" DESC LIMIT ${limit}`;
  const rank = rankSql(f.configs, f.parsed);
  const snippet = headlineSql(f.configs, f.parsed);
  const page = Prisma.sql`
    JOIN "ArticleSearch" s ON s."articleId" = page."articleId"
    JOIN "PublishedArticle" p ON p."articleId" = page."articleId" AND p.status = 'PUBLISHED'`;
  if (f.sort === "relevance") {
    const after = f.after && "r" in f.after
      ? Prisma.sql`WHERE (r.rank, r."articleId") < (${f.after.r}::int, ${f.after.id}::int)`
      : Prisma.empty;
    return Prisma.sql`
      WITH m AS MATERIALIZED (${newest(WINDOW)}),
      -- One primary-key probe per candidate (OFFSET 0 keeps the planner from a merge join over the whole index).
      r AS MATERIALIZED (
        SELECT m."articleId", x.rank FROM m
         CROSS JOIN LATERAL (SELECT ${rank} AS rank FROM "ArticleSearch" s WHERE s."articleId" = m."articleId" OFFSET 0) x),
      page AS MATERIALIZED (
        SELECT r."articleId", r.rank FROM r ${after} ORDER BY r.rank DESC, r."articleId" DESC LIMIT ${f.take})
      SELECT t.total::int AS total, page."articleId", p."sectionId", p.item, page.rank, ${snippet} AS snippet
        FROM (SELECT count(*) AS total FROM m) t
        LEFT JOIN (page ${page}) ON true
       ORDER BY page.rank DESC, page."articleId" DESC`;
  }
  const after = f.after && "t" in f.after
    ? Prisma.sql`AND (s."publishedAt", s."articleId") < (${f.after.t}::timestamptz, ${f.after.id}::int)`
    : Prisma.empty;
  return Prisma.sql`
    WITH page AS MATERIALIZED (${newest(f.take, after)})
    SELECT t.total::int AS total, page."articleId", p."sectionId", p.item, ${rank} AS rank, ${snippet} AS snippet
      FROM (SELECT count(*) AS total FROM (${newest(WINDOW)}) x) t
      LEFT JOIN (page ${page}) ON true
     ORDER BY page."publishedAt" DESC, page."articleId" DESC`;
}

export function searchRoutes(ctx: AppContext, sections: LiveSectionTree): Router {
  const r = Router();
  const view = publicView(ctx.config);
  setSearchSiteLanguage(ctx.config.SITE_LANGUAGE);
  // The configurations in use are cached from the primary; the search itself may run on a read replica.
  const configs = new ConfigsInUse(ctx.prisma, ctx.events);
  const reads = publicReads(ctx);

  const render = async (res: Response, rows: SearchRow[]) => {
    surrogateKeys(res, rows.map((x) => `article:${x.articleId}`));
    const tree = await sections.knowing(rows.map((x) => x.sectionId));
    return rows.map((x) => ({ article: renderItem(x.item, x.sectionId, tree, view), snippet: snippetHtml(x.snippet), rank: x.rank / RANK_SCALE }));
  };

  // 1 statement (2 right after an article or section change).
  r.get("/search", route({ query: searchQuery }, async ({ query }, req, res) => {
    const cursor = decodeSearchCursor(query.cursor, query.sort === "relevance" ? "r" : "n");
    if (query.from && query.to && query.from >= query.to) {
      throw badRequest("The request is invalid.", [{ path: "query.to", message: "Must not be before `from`." }]);
    }
    let sectionIds: number[] | undefined;
    if (query.section) {
      const { tree, section } = await sections.bySlug(query.section);
      if (!section) throw notFound("Section");
      sectionIds = tree.descendantIds(section.id);
    }
    const inUse = query.language ? [searchConfigFor(query.language)] : await configs.get();
    const rows = inUse.length
      ? await reads.run(req, (db) => publicSearchRows(db, {
        parsed: parseSearch(query.q),
        configs: inUse,
        sectionIds,
        tag: query.tag,
        kind: query.kind,
        language: query.language,
        from: query.from,
        toBefore: query.to,
        sort: query.sort,
        after: cursor ? (cursor.s === "r" ? { r: cursor.r, id: cursor.id } : { t: new Date(cursor.t), id: cursor.id }) : undefined,
        take: query.limit + 1,
      }))
      : [];
    const total = rows[0]?.total ?? 0;
    const hits = rows.filter((x) => x.articleId !== null);
    const page = hits.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = hits.length > query.limit
      ? encodeSearchCursor(query.sort === "relevance"
        ? { s: "r", r: last.rank, id: last.articleId! }
        : { s: "n", t: last.item.publishedAt!, id: last.articleId! })
      : null;
    res.json({
      data: await render(res, page),
      meta: { nextCursor, total, totalIsEstimate: total >= WINDOW, sort: query.sort },
    });
  }));
  return r;
}

// GET /api/v1/admin/articles?q=: the desk's search, over every status (drafts
// included) and combined with the list's filters and the actor's read
// access. Ranked like the public search: the newest WINDOW matches (by id,
// the admin list's order) by ts_rank_cd, paged by (rank, id), and counted.
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { notFound } from "../http/errors.ts";
import { adminArticleInclude, type AdminArticleRow } from "../articles/service.ts";
import { loadTree } from "../sections/service.ts";
import { configsInUse } from "../delivery/search.ts";
import {
  RANK_SCALE, WINDOW, decodeSearchCursor, encodeSearchCursor, headlineSql, matchSql, parseSearch, rankSql, snippetHtml,
} from "./query.ts";

export interface AdminSearchQuery {
  q: string;
  trashed?: boolean;
  status?: string;
  section?: string;
  author?: number;
  kind?: string;
  limit: number;
  cursor?: string;
}

export interface AdminSearchHit {
  id: number;
  rank: number;
  snippet: string;
}

/**
 * readableBy (src/articles/service.ts) in SQL, for the row `a` of "Article":
 * WRITERs read their own, those crediting them, and published ones. Keep the two in step.
 */
function readableSql(actor: Pick<Actor, "id" | "role">): Prisma.Sql {
  if (actor.role !== "WRITER") return Prisma.sql`true`;
  return Prisma.sql`(a."authorId" = ${actor.id}
    OR EXISTS (SELECT 1 FROM "ArticleEditor" e WHERE e."articleId" = a.id AND e."editorId" = ${actor.id})
    OR (a.status = 'PUBLISHED' AND a."deletedAt" IS NULL))`;
}

export async function searchArticlesAdmin(prisma: PrismaClient, actor: Pick<Actor, "id" | "role">, q: AdminSearchQuery) {
  const cursor = decodeSearchCursor(q.cursor, "r");
  let sectionIds: number[] | undefined;
  if (q.section) {
    const tree = await loadTree(prisma);
    const s = tree.bySlug.get(q.section);
    if (!s) throw notFound("Section");
    sectionIds = tree.descendantIds(s.id);
  }
  const configs = await configsInUse(prisma);
  const empty = { page: [] as AdminArticleRow[], hits: [] as AdminSearchHit[], nextCursor: null as string | null, total: 0, totalIsEstimate: false };
  if (!configs.length) return empty;
  const parsed = parseSearch(q.q);
  const where = [
    matchSql(configs, parsed),
    readableSql(actor),
    q.trashed ? Prisma.sql`a."deletedAt" IS NOT NULL` : Prisma.sql`a."deletedAt" IS NULL`,
  ];
  if (q.status) where.push(Prisma.sql`a.status = ${q.status}::"ArticleStatus"`);
  if (q.author) where.push(Prisma.sql`a."authorId" = ${q.author}`);
  if (q.kind) where.push(Prisma.sql`a.kind = ${q.kind}::"ArticleKind"`);
  if (sectionIds) where.push(Prisma.sql`a."sectionId" = ANY(${sectionIds}::int[])`);
  const after = cursor ? Prisma.sql`WHERE (r.rank, r."articleId") < (${cursor.r}::int, ${cursor.id}::int)` : Prisma.empty;
  const rows = await prisma.$queryRaw<{ total: number; articleId: number | null; rank: number; snippet: string | null }[]>`
    WITH m AS MATERIALIZED (
      SELECT s."articleId" FROM "ArticleSearch" s JOIN "Article" a ON a.id = s."articleId"
       WHERE ${Prisma.join(where, " AND ")}
       ORDER BY s."articleId" DESC LIMIT ${WINDOW}),
    r AS MATERIALIZED (
      SELECT m."articleId", x.rank FROM m
       CROSS JOIN LATERAL (SELECT ${rankSql(configs, parsed)} AS rank FROM "ArticleSearch" s WHERE s."articleId" = m."articleId" OFFSET 0) x),
    page AS MATERIALIZED (
      SELECT r."articleId", r.rank FROM r ${after} ORDER BY r.rank DESC, r."articleId" DESC LIMIT ${q.limit + 1})
    SELECT t.total::int AS total, page."articleId", page.rank, ${headlineSql(configs, parsed)} AS snippet
      FROM (SELECT count(*) AS total FROM m) t
      LEFT JOIN (page JOIN "ArticleSearch" s ON s."articleId" = page."articleId" JOIN "Article" a ON a.id = page."articleId") ON true
     ORDER BY page.rank DESC, page."articleId" DESC`;
  const total = rows[0]?.total ?? 0;
  const found = rows.filter((r) => r.articleId !== null);
  const pageRows = found.slice(0, q.limit);
  const loaded = await prisma.article.findMany({
    where: { id: { in: pageRows.map((r) => r.articleId!) } },
    include: adminArticleInclude,
  });
  const byId = new Map(loaded.map((a) => [a.id, a]));
  const kept = pageRows.filter((r) => byId.has(r.articleId!));
  const last = pageRows[pageRows.length - 1];
  return {
    page: kept.map((r) => byId.get(r.articleId!)!),
    hits: kept.map((r) => ({ id: r.articleId!, rank: r.rank / RANK_SCALE, snippet: snippetHtml(r.snippet) })),
    nextCursor: found.length > q.limit ? encodeSearchCursor({ s: "r", r: last.rank, id: last.articleId! }) : null,
    total,
    totalIsEstimate: total >= WINDOW,
  };
}

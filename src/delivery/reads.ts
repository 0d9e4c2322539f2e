// The public reads, served from the read model with one raw statement each
// (Prisma's per-query compile-and-map cost dominated these endpoints). Every
// statement is bounded by the page through an index; none scans or
// aggregates a whole table.
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { Database } from "../db/client.ts";
import type { ArticleDoc, ImageRef, ItemDoc } from "./read-model.ts";
import type { Tombstone } from "./tombstones.ts";

export interface ItemRow {
  articleId: number;
  sectionId: number;
  item: ItemDoc;
}

const ITEM_COLUMNS = Prisma.sql`"articleId", "sectionId", item`;

/**
 * One article by slug among `statuses`, with its comment count: the stored
 * public JSON and ETag when they were rendered under `renderKey` (the
 * reader's own), else the document to render. The hottest read of all, so it
 * skips Prisma (see Database.read).
 */
export async function articleBySlug(
  db: Pick<Database, "read">, slug: string, statuses: string[], renderKey: string, opts: { tombstones?: boolean } = {},
) {
  // With tombstones: a withdrawn article's row (status WITHDRAWN, `tombstone` set, jsonKeys its
  // surrogate key) in the same statement, so its 410 costs no more than a 200 (src/delivery/tombstones.ts).
  const withdrawn = opts.tombstones
    ? `UNION ALL
     SELECT 'WITHDRAWN', 0, ARRAY[]::int[], NULL, NULL, 'article:' || "articleId", NULL,
            jsonb_build_object('slug', slug, 'headline', headline,
              'withdrawnAt', to_char("withdrawnAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'reason', reason)
       FROM "ArticleTombstone" WHERE slug = $1
      LIMIT 1`
    : "";
  const [row] = await db.read<{
    json: string | null; etag: string | null; jsonKeys: string | null; doc: ArticleDoc | null;
    status: string; commentCount: number; relatedIds: number[]; tombstone?: Tombstone | null;
  }>(
    `SELECT status::text AS status, "commentCount", "relatedIds",
            CASE WHEN "renderKey" = $3 THEN json END AS json,
            CASE WHEN "renderKey" = $3 THEN etag END AS etag,
            CASE WHEN "renderKey" = $3 THEN "jsonKeys" END AS "jsonKeys",
            CASE WHEN "renderKey" = $3 THEN NULL ELSE doc END AS doc${opts.tombstones ? `,
            NULL::jsonb AS tombstone` : ""}
       FROM "PublishedArticle"
      WHERE slug = $1 AND status::text = ANY($2::text[])
     ${withdrawn}`,
    [slug, statuses, renderKey],
  );
  return row;
}

export interface ListFilter {
  sectionIds?: number[];
  tag?: string;
  kind?: string;
  /** Effective language (normalized BCP 47): "PublishedArticle".language, indexed with the list order. */
  language?: string;
  /** Keyset cursor: rows strictly older than (t, id) in (publishedAt, id) order. */
  before?: { t: Date; id: number };
  limit: number;
}

/**
 * Published articles, newest first. Without a section: a walk down the
 * partial index on publishedAt. With sections (one and its descendants): one
 * walk per section down ("sectionId", publishedAt, id), each stopping after
 * `limit` rows, merged; a single walk of the global index filtered by section
 * would read the whole site to fill a page of a small section.
 */
export async function listItems(prisma: PrismaClient, f: ListFilter): Promise<ItemRow[]> {
  const where = [Prisma.sql`p.status = 'PUBLISHED'`];
  if (f.tag) where.push(Prisma.sql`p."tagSlugs" @> ARRAY[${f.tag}]::text[]`);
  if (f.kind) where.push(Prisma.sql`p.kind = ${f.kind}::"ArticleKind"`);
  if (f.language) where.push(Prisma.sql`p.language = ${f.language}`);
  if (f.before) where.push(Prisma.sql`(p."publishedAt", p."articleId") < (${f.before.t}::timestamptz, ${f.before.id}::int)`);
  const cond = Prisma.join(where, " AND ");
  if (!f.sectionIds) {
    return prisma.$queryRaw<ItemRow[]>`
      SELECT p."articleId", p."sectionId", p.item FROM "PublishedArticle" p WHERE ${cond}
       ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${f.limit}`;
  }
  // The walks read index keys only; the page's documents are fetched after the merge.
  return prisma.$queryRaw<ItemRow[]>`
    SELECT d."articleId", d."sectionId", d.item
      FROM (SELECT x."articleId", x."publishedAt"
              FROM unnest(${f.sectionIds}::int[]) AS s(id)
              CROSS JOIN LATERAL (
                SELECT p."articleId", p."publishedAt" FROM "PublishedArticle" p
                 WHERE p."sectionId" = s.id AND ${cond}
                 ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${f.limit}) x
             ORDER BY x."publishedAt" DESC, x."articleId" DESC LIMIT ${f.limit}) k
      JOIN "PublishedArticle" d ON d."articleId" = k."articleId"
     ORDER BY k."publishedAt" DESC, k."articleId" DESC`;
}

/**
 * A section front in one statement: the pinned lead (read from "Section", so
 * a pin shows at once) if it is live in the section, the newest story with a
 * lead image, and the newest limit+1 stories (in no particular order: the
 * caller sorts them); per-section walks as in listItems.
 */
export async function frontRows(prisma: PrismaClient, sectionId: number, sectionIds: number[], limit: number, language?: string) {
  // ?language=: each part keeps to the language (by the section/language index for the list).
  const lang = language ? Prisma.sql`AND p.language = ${language}` : Prisma.empty;
  return prisma.$queryRaw<(ItemRow & { src: "pinned" | "image" | "list" })[]>`
    (SELECT 'pinned' AS src, ${ITEM_COLUMNS} FROM "PublishedArticle" p
      WHERE "articleId" = (SELECT "leadArticleId" FROM "Section" WHERE id = ${sectionId})
        AND status = 'PUBLISHED' AND "sectionId" = ANY(${sectionIds}::int[]) ${lang})
    UNION ALL
    (SELECT 'image' AS src, x."articleId", x."sectionId", x.item
       FROM unnest(${sectionIds}::int[]) AS s(id)
       CROSS JOIN LATERAL (
         SELECT p."articleId", p."sectionId", p.item, p."publishedAt" FROM "PublishedArticle" p
          WHERE p."sectionId" = s.id AND p.status = 'PUBLISHED' AND (p."item"->>'leadImage') IS NOT NULL ${lang}
          ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT 1) x
      ORDER BY x."publishedAt" DESC, x."articleId" DESC LIMIT 1)
    UNION ALL
    (SELECT 'list' AS src, d."articleId", d."sectionId", d.item
       FROM (SELECT x."articleId"
               FROM unnest(${sectionIds}::int[]) AS s(id)
               CROSS JOIN LATERAL (
                 SELECT p."articleId", p."publishedAt" FROM "PublishedArticle" p
                  WHERE p."sectionId" = s.id AND p.status = 'PUBLISHED' ${lang}
                  ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit + 1}) x
              ORDER BY x."publishedAt" DESC, x."articleId" DESC LIMIT ${limit + 1}) k
       JOIN "PublishedArticle" d ON d."articleId" = k."articleId")`;
}

export interface CollectionRow {
  slug: string;
  name: string;
  items: { headline: string | null; image: ImageRef | null; item: ItemDoc; sectionId: number }[];
}

/** A collection with its live items in order, override images included. */
export async function collectionBySlug(prisma: PrismaClient, slug: string): Promise<CollectionRow | undefined> {
  const [row] = await prisma.$queryRaw<CollectionRow[]>`
    SELECT c.slug, c.name, COALESCE((
      SELECT json_agg(json_build_object(
               'headline', i.headline,
               'image', CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object(
                 'id', m.id, 'storageKey', m."storageKey", 'width', m.width, 'height', m.height,
                 'caption', m.caption, 'credit', m.credit, 'alt', m.alt, 'mimeType', m."mimeType") END,
               'item', p.item, 'sectionId', p."sectionId") ORDER BY i.position)
        FROM "CollectionItem" i
        JOIN "PublishedArticle" p ON p."articleId" = i."articleId" AND p.status = 'PUBLISHED'
        LEFT JOIN "Media" m ON m.id = i."imageId"
       WHERE i."collectionId" = c.id), '[]'::json) AS items
      FROM "Collection" c WHERE c.slug = ${slug}`;
  return row;
}

/**
 * Most read in the window: the window's hourly rows ("ArticleViewHourly"(hour))
 * are summed per article first, then each ranked id is looked up by primary key
 * in the read model. The cost follows the window's traffic, not the site's size.
 */
export async function popularRows(prisma: PrismaClient, since: Date, limit: number, sectionIds?: number[], language?: string) {
  const inSection = sectionIds ? Prisma.sql`AND p."sectionId" = ANY(${sectionIds}::int[])` : Prisma.empty;
  const inLanguage = language ? Prisma.sql`AND p.language = ${language}` : Prisma.empty;
  return prisma.$queryRaw<(ItemRow & { views: number })[]>`
    WITH ranked AS MATERIALIZED (
      SELECT v."articleId", SUM(v.views)::bigint AS views
        FROM "ArticleViewHourly" v
       WHERE v.hour >= ${since}::timestamptz
       GROUP BY v."articleId"
      HAVING SUM(v.views) > 0)
    SELECT p."articleId", p."sectionId", p.item, r.views::float8 AS views
      FROM ranked r
      JOIN "PublishedArticle" p ON p."articleId" = r."articleId"
     WHERE p.status = 'PUBLISHED' ${inSection} ${inLanguage}
     ORDER BY r.views DESC, p."publishedAt" DESC NULLS LAST, p."articleId" DESC
     LIMIT ${limit}`;
}

export interface CommentJson {
  id: number;
  authorName: string;
  body: string;
  createdAt: string;
}

/**
 * One page of approved top-level comments with their approved replies, for a
 * publicly readable article; undefined when there is no such article.
 */
export async function commentPage(
  prisma: PrismaClient, slug: string, statuses: string[], afterId: number, take: number,
) {
  const [row] = await prisma.$queryRaw<{ id: number; page: (CommentJson & { replies: CommentJson[] })[] }[]>`
    SELECT a."articleId" AS id, COALESCE((
      SELECT json_agg(json_build_object(
               'id', c.id, 'authorName', c."authorName", 'body', c.body, 'createdAt', c."createdAt",
               'replies', COALESCE((
                 SELECT json_agg(json_build_object('id', r.id, 'authorName', r."authorName", 'body', r.body, 'createdAt', r."createdAt") ORDER BY r.id)
                   FROM "Comment" r WHERE r."parentId" = c.id AND r.status = 'APPROVED'), '[]'::json)) ORDER BY c.id)
        FROM (SELECT id, "authorName", body, "createdAt" FROM "Comment"
               WHERE "articleId" = a."articleId" AND "parentId" IS NULL AND status = 'APPROVED' AND id > ${afterId}
               ORDER BY id LIMIT ${take}) c), '[]'::json) AS page
      FROM "PublishedArticle" a
     WHERE a.slug = ${slug} AND a.status::text = ANY(${statuses}::text[])`;
  return row;
}

// The public author page's read: one statement over "Author", its credits
// ("ArticleAuthor"(authorId)) and the published read model.
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { MediaRef } from "../media/mappers.ts";
import type { ItemDoc } from "../delivery/read-model.ts";

export interface AuthorPage {
  author: { id: number; slug: string; name: string; bio: string; links: unknown; photo: (MediaRef & { id: number }) | null };
  items: { articleId: number; sectionId: number; item: ItemDoc }[];
}

/** The profile and up to `limit` of its newest published stories before `before`; undefined: no such author. */
export async function authorPage(prisma: PrismaClient, slug: string, limit: number, before?: { t: Date; id: number }): Promise<AuthorPage | undefined> {
  const after = before ? Prisma.sql`AND (p."publishedAt", p."articleId") < (${before.t}::timestamptz, ${before.id}::int)` : Prisma.empty;
  const rows = await prisma.$queryRaw<(AuthorPage["author"] & { items: AuthorPage["items"] })[]>`
    SELECT au.id, au.slug, au.name, au.bio, au.links,
           CASE WHEN m.id IS NULL THEN NULL ELSE json_build_object(
             'id', m.id, 'storageKey', m."storageKey", 'width', m.width, 'height', m.height, 'mimeType', m."mimeType",
             'caption', m.caption, 'credit', m.credit, 'alt', m.alt) END AS photo,
           COALESCE((
             SELECT json_agg(json_build_object('articleId', x."articleId", 'sectionId', x."sectionId", 'item', x.item)
                             ORDER BY x."publishedAt" DESC, x."articleId" DESC)
               FROM (SELECT p."articleId", p."sectionId", p.item, p."publishedAt"
                       FROM "ArticleAuthor" aa JOIN "PublishedArticle" p ON p."articleId" = aa."articleId"
                      WHERE aa."authorId" = au.id AND p.status = 'PUBLISHED' ${after}
                      ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit}) x), '[]'::json) AS items
      FROM "Author" au LEFT JOIN "Media" m ON m.id = au."photoId"
     WHERE au.slug = ${slug}`;
  if (!rows.length) return undefined;
  const { items, ...author } = rows[0];
  return { author, items };
}

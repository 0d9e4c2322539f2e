import type { CommentStatus, Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";

async function publishedArticleId(prisma: PrismaClient, slug: string): Promise<number> {
  const a = await prisma.article.findFirst({ where: { slug, status: "PUBLISHED" }, select: { id: true } });
  if (!a) throw notFound("Article");
  return a.id;
}

export async function listApproved(prisma: PrismaClient, slug: string, limit: number, rawCursor?: string) {
  const cursor = decodeCursor(rawCursor);
  const articleId = await publishedArticleId(prisma, slug);
  const rows = await prisma.comment.findMany({
    where: { articleId, status: "APPROVED", ...(cursor ? { id: { gt: cursor.id } } : {}) },
    orderBy: { id: "asc" },
    take: limit + 1,
  });
  return paginate(rows, limit, (c) => ({ id: c.id }));
}

export async function submitComment(prisma: PrismaClient, slug: string, name: string, body: string) {
  const articleId = await publishedArticleId(prisma, slug);
  return prisma.comment.create({
    data: { articleId, authorName: name, body, status: "PENDING" },
    select: { id: true, status: true },
  });
}

export const adminCommentInclude = {
  article: { select: { id: true, slug: true, headline: true } },
} satisfies Prisma.CommentInclude;

export type AdminCommentRow = Prisma.CommentGetPayload<{ include: typeof adminCommentInclude }>;

export async function listAdmin(
  prisma: PrismaClient,
  q: { status?: CommentStatus; article?: number; limit: number; cursor?: string },
) {
  const cursor = decodeCursor(q.cursor);
  const rows = await prisma.comment.findMany({
    where: {
      ...(q.status ? { status: q.status } : {}),
      ...(q.article ? { articleId: q.article } : {}),
      ...(cursor ? { id: { lt: cursor.id } } : {}),
    },
    orderBy: { id: "desc" },
    take: q.limit + 1,
    include: adminCommentInclude,
  });
  return paginate(rows, q.limit, (c) => ({ id: c.id }));
}

export async function moderate(prisma: PrismaClient, id: number, status: CommentStatus) {
  const existing = await prisma.comment.findUnique({ where: { id }, select: { id: true } });
  if (!existing) throw notFound("Comment");
  return prisma.comment.update({ where: { id }, data: { status }, include: adminCommentInclude });
}

export async function remove(prisma: PrismaClient, id: number) {
  const { count } = await prisma.comment.deleteMany({ where: { id } });
  if (count === 0) throw notFound("Comment");
}

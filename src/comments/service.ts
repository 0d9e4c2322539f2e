import type { ArticleStatus, CommentStatus, Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { forbidden, notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";

/** The id and status of a publicly readable article. */
async function readableArticle(prisma: PrismaClient, slug: string, statuses: ArticleStatus[]) {
  const a = await prisma.article.findFirst({
    where: { slug, status: { in: statuses }, deletedAt: null },
    select: { id: true, status: true },
  });
  if (!a) throw notFound("Article");
  return a;
}

export async function listApproved(
  prisma: PrismaClient, slug: string, statuses: ArticleStatus[], limit: number, rawCursor?: string,
) {
  const cursor = decodeCursor(rawCursor);
  const { id: articleId } = await readableArticle(prisma, slug, statuses);
  const rows = await prisma.comment.findMany({
    where: { articleId, status: "APPROVED", ...(cursor ? { id: { gt: cursor.id } } : {}) },
    orderBy: { id: "asc" },
    take: limit + 1,
  });
  return paginate(rows, limit, (c) => ({ id: c.id }));
}

export async function submitComment(
  prisma: PrismaClient, slug: string, statuses: ArticleStatus[], name: string, body: string,
) {
  const { id: articleId, status } = await readableArticle(prisma, slug, statuses);
  if (status !== "PUBLISHED") throw forbidden("Comments are closed on archived articles.");
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

export async function moderate(prisma: PrismaClient, actor: Actor, id: number, status: CommentStatus) {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.comment.findUnique({ where: { id }, select: { status: true } });
    if (!existing) throw notFound("Comment");
    const row = await tx.comment.update({ where: { id }, data: { status }, include: adminCommentInclude });
    await audit(tx, {
      actorId: actor.id, action: "comment.moderate", targetType: "comment", targetId: id, ip: actor.ip,
      details: { from: existing.status, to: status },
    });
    return row;
  });
}

export async function remove(prisma: PrismaClient, actor: Actor, id: number) {
  await prisma.$transaction(async (tx) => {
    const { count } = await tx.comment.deleteMany({ where: { id } });
    if (count === 0) throw notFound("Comment");
    await audit(tx, { actorId: actor.id, action: "comment.delete", targetType: "comment", targetId: id, ip: actor.ip });
  });
}

import crypto from "node:crypto";
import { Prisma, type ArticleStatus, type CommentStatus, type PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { HttpError, badRequest, conflict, forbidden, notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { retryAfterSeconds, windowStart } from "../http/rate-limit.ts";
import { countLinks } from "./links.ts";
import { emit, type ChangeEventInput } from "../events/outbox.ts";
import { commentKeys } from "../events/keys.ts";

/** The id and status of a publicly readable article. */
async function readableArticle(prisma: PrismaClient, slug: string, statuses: ArticleStatus[]) {
  const a = await prisma.article.findFirst({
    where: { slug, status: { in: statuses }, deletedAt: null, embargoedUntil: null },
    select: { id: true, status: true, commentsClosed: true },
  });
  if (!a) throw notFound("Article");
  return a;
}

/**
 * What readers count under each article: approved comments, and approved
 * replies under approved parents. One indexed query bounded by the articles'
 * own comments ("Comment"(articleId, status, id)), never the whole table.
 * (The public comment list is read by src/delivery.)
 */
export async function approvedCommentCounts(
  db: PrismaClient | Prisma.TransactionClient, articleIds: number[],
): Promise<Map<number, number>> {
  const out = new Map(articleIds.map((id) => [id, 0]));
  if (!articleIds.length) return out;
  const rows = await db.$queryRaw<{ articleId: number; n: number }[]>`
    SELECT c."articleId", count(*)::int AS n
      FROM "Comment" c
      LEFT JOIN "Comment" p ON p.id = c."parentId"
     WHERE c."articleId" = ANY(${articleIds}::int[]) AND c.status = 'APPROVED'
       AND (c."parentId" IS NULL OR p.status = 'APPROVED')
     GROUP BY c."articleId"`;
  for (const r of rows) out.set(r.articleId, r.n);
  return out;
}

/** The anti-spam and moderation settings a submission is judged by. */
export interface CommentPolicy {
  autoApprove: boolean;
  rateMax: number;
  rateWindowSeconds: number;
  maxLinks: number;
}

export interface CommentSubmission {
  name: string;
  body: string;
  parentId?: number;
  /** The honeypot: people never see it, so any value means a bot filled the form. */
  website?: string;
  /** Keyed hash of the client's network (IPv4 address or IPv6 /64), never the raw address. */
  clientHash: string;
}

/**
 * Hash of the body with case and spacing ignored, so trivial variations still count as repeats.
 * Migration 20261126110000_comment_hash_backfill computes the same in SQL: change both together.
 */
export const bodyHash = (body: string) =>
  crypto.createHash("sha256").update(body.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex");

const fieldError = (path: string, message: string) => badRequest("The request is invalid.", [{ path, message }]);

/**
 * Serializes submissions that compete for the same limit, so two concurrent
 * requests (on any app instance) cannot both pass a check the other would fail.
 * Always taken in the same order (client, then article+body), so never a deadlock.
 */
async function lock(tx: Prisma.TransactionClient, key: string) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
}

/** Seconds until the client may comment again (0 when not limited); see http/rate-limit.ts. */
async function retryAfter(tx: Prisma.TransactionClient, clientHash: string, max: number, windowSeconds: number) {
  const recent = await tx.comment.findMany({
    where: { clientHash, createdAt: { gte: windowStart(windowSeconds) } },
    orderBy: { createdAt: "desc" },
    take: max,
    select: { createdAt: true },
  });
  return retryAfterSeconds(recent.map((r) => r.createdAt), max, windowSeconds);
}

/**
 * Checks a submission and stores it. Every rejection is a 4xx that says why:
 * a silently dropped comment looks like a bug to a real reader.
 */
export async function submitComment(
  prisma: PrismaClient, slug: string, statuses: ArticleStatus[], policy: CommentPolicy, s: CommentSubmission,
) {
  const article = await readableArticle(prisma, slug, statuses);
  if (article.status !== "PUBLISHED") throw forbidden("Comments are closed on archived articles.");
  if (article.commentsClosed) throw forbidden("Comments are closed for this article.");
  if (s.website) throw fieldError("body.website", "Leave this field empty.");
  if (countLinks(s.body) > policy.maxLinks) {
    throw fieldError("body.body", `A comment may contain at most ${policy.maxLinks} link${policy.maxLinks === 1 ? "" : "s"}.`);
  }
  const hash = bodyHash(s.body);
  return prisma.$transaction(async (tx) => {
    if (s.parentId !== undefined) {
      const parent = await tx.comment.findUnique({
        where: { id: s.parentId },
        select: { articleId: true, status: true, parentId: true },
      });
      if (!parent || parent.articleId !== article.id || parent.status !== "APPROVED") {
        throw fieldError("body.parentId", "No approved comment with this id on this article.");
      }
      if (parent.parentId !== null) throw fieldError("body.parentId", "Replies can only be made to top-level comments.");
    }
    await lock(tx, `comment-client:${s.clientHash}`);
    const wait = await retryAfter(tx, s.clientHash, policy.rateMax, policy.rateWindowSeconds);
    if (wait > 0) {
      throw new HttpError(429, "too-many-comments",
        `Too many comments from this client; try again in ${wait} second${wait === 1 ? "" : "s"}.`,
        undefined, { "Retry-After": String(wait) });
    }
    await lock(tx, `comment-body:${article.id}:${hash}`);
    // Any earlier status counts: a rejected or spam comment sent again is still a repeat.
    const dup = await tx.comment.findFirst({ where: { articleId: article.id, bodyHash: hash }, select: { id: true } });
    if (dup) throw conflict("The same comment has already been posted on this article.", "duplicate-comment");
    const row = await tx.comment.create({
      data: {
        articleId: article.id, parentId: s.parentId ?? null, authorName: s.name, body: s.body,
        bodyHash: hash, clientHash: s.clientHash, status: policy.autoApprove ? "APPROVED" : "PENDING",
      },
      select: { id: true, status: true },
    });
    // A pending comment changes nothing a reader sees until it is approved.
    await emit(tx, {
      type: "comment.created", entityType: "comment", entityId: row.id,
      keys: row.status === "APPROVED" ? commentKeys(article.id) : [],
      data: { articleId: article.id, status: row.status },
    });
    return row;
  });
}

export const adminCommentInclude = {
  article: { select: { id: true, slug: true, headline: true } },
  // A reply is moderated in context: the desk shows the comment it answers.
  parent: { select: { id: true, authorName: true, body: true, status: true, createdAt: true } },
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
    await emit(tx, moderationEvent(actor, id, row.articleId, existing.status, status));
    return row;
  });
}

/**
 * Moderates several comments at once: all or nothing. Rows are locked in id
 * order, so concurrent bulk calls queue instead of deadlocking and each audit
 * row records the status the comment really had.
 */
export async function moderateMany(prisma: PrismaClient, actor: Actor, ids: number[], status: CommentStatus) {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: number; status: CommentStatus; articleId: number }[]>`
      SELECT id, status::text AS status, "articleId" FROM "Comment"
       WHERE id IN (${Prisma.join(ids)})
       ORDER BY id
       FOR UPDATE`;
    const before = new Map(rows.map((r) => [r.id, r.status]));
    const missing = ids.flatMap((id, i) => (before.has(id) ? [] : [{ id, i }]));
    if (missing.length) {
      throw new HttpError(404, "not-found", `Comment${missing.length === 1 ? "" : "s"} not found: ${missing.map((m) => m.id).join(", ")}. Nothing was changed.`,
        missing.map((m) => ({ path: `body.ids.${m.i}`, message: "No comment with this id." })));
    }
    const { count } = await tx.comment.updateMany({ where: { id: { in: ids } }, data: { status } });
    for (const id of ids) {
      await audit(tx, {
        actorId: actor.id, action: "comment.moderate", targetType: "comment", targetId: id, ip: actor.ip,
        details: { from: before.get(id)!, to: status, bulk: true },
      });
    }
    await emit(tx, rows.map((r) => moderationEvent(actor, r.id, r.articleId, r.status, status, true)));
    return count;
  });
}

export async function remove(prisma: PrismaClient, actor: Actor, id: number) {
  await prisma.$transaction(async (tx) => {
    const [existing] = await tx.$queryRaw<{ articleId: number; status: CommentStatus }[]>`
      DELETE FROM "Comment" WHERE id = ${id} RETURNING "articleId", status::text AS status`;
    if (!existing) throw notFound("Comment");
    await audit(tx, { actorId: actor.id, action: "comment.delete", targetType: "comment", targetId: id, ip: actor.ip });
    // Replies go with their parent (ON DELETE CASCADE), so even a deleted
    // pending comment may take approved replies with it: purge either way.
    await emit(tx, {
      type: "comment.deleted", entityType: "comment", entityId: id, actorId: actor.id,
      keys: commentKeys(existing.articleId), data: { articleId: existing.articleId, status: existing.status },
    });
  });
}

/** comment.<status>; keys only when the comment enters or leaves what readers see. */
function moderationEvent(
  actor: Actor, id: number, articleId: number, from: CommentStatus, to: CommentStatus, bulk = false,
): ChangeEventInput {
  const visibleChange = from !== to && (from === "APPROVED" || to === "APPROVED");
  return {
    type: `comment.${to.toLowerCase()}`, entityType: "comment", entityId: id, actorId: actor.id,
    keys: visibleChange ? commentKeys(articleId) : [], data: { articleId, from, to, ...(bulk ? { bulk } : {}) },
  };
}

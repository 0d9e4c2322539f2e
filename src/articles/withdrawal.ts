// Withdrawal ("kill", issue 12 §3): an EDITOR+ takes a published (or
// archived) story down for good, with a public reason. Unlike unpublishing
// (quiet, reversible by any editor, the URL answers 404), a withdrawal:
// - moves the article to WITHDRAWN, a status no public read, list, feed,
//   sitemap or search accepts, and that no workflow action leaves;
// - keeps a tombstone (src/delivery/tombstones.ts) so its URL answers
//   410 Gone with { slug, headline, withdrawnAt, reason };
// - appends `article.withdrawn`, so caches, CDN purges (hard, even with
//   PURGE_SOFT) and webhooks (article.withdrawn) act at once; audited.
// Only an ADMIN reinstates it: back to the status it was withdrawn from
// (PUBLISHED or ARCHIVED), its publication time unchanged (`article.reinstated`).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { HttpError, conflict } from "../http/errors.ts";
import { checkIfMatch, type IfMatch } from "../http/preconditions.ts";
import { emit } from "../events/outbox.ts";
import { articleEvent, articleState } from "../events/keys.ts";
import { adminArticle } from "./mappers.ts";
import { getArticleAdmin, type AdminArticleRow } from "./service.ts";

const WITHDRAWABLE = ["PUBLISHED", "ARCHIVED"] as const;

const invalidState = (action: string, status: string, allowed: readonly string[], to: string) =>
  new HttpError(409, "invalid-transition",
    `Cannot ${action} an article that is ${status}; allowed from ${allowed.join(", ")}.`,
    undefined, undefined, { currentStatus: status, requestedStatus: to });

async function lockRow(tx: Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0], id: number) {
  await tx.$queryRaw`SELECT id FROM "Article" WHERE id = ${id} FOR UPDATE`;
}

/**
 * Withdraws a PUBLISHED or ARCHIVED article. An edit lock held by another
 * editor does not block it: a legal kill cannot wait for a draft to be saved.
 */
export async function withdrawArticle(
  prisma: PrismaClient, actor: Actor, id: number, reason: string, ifMatch: IfMatch | null,
): Promise<AdminArticleRow> {
  return prisma.$transaction(async (tx) => {
    await lockRow(tx, id);
    const existing = await getArticleAdmin(tx, id);
    checkIfMatch(ifMatch, existing.version, false, () => adminArticle(existing));
    if (existing.deletedAt) throw conflict("The article is in the trash; restore it first.", "in-trash");
    if (!(WITHDRAWABLE as readonly string[]).includes(existing.status)) {
      throw invalidState("withdraw", existing.status, WITHDRAWABLE, "WITHDRAWN");
    }
    const withdrawnAt = new Date();
    await tx.article.update({
      where: { id },
      data: {
        status: "WITHDRAWN", withdrawnAt, withdrawalReason: reason, withdrawnFrom: existing.status,
        scheduledAt: null, version: { increment: 1 },
      },
    });
    await audit(tx, {
      actorId: actor.id, action: "article.withdraw", targetType: "article", targetId: id, ip: actor.ip,
      details: { reason, from: existing.status, slug: existing.slug },
    });
    const row = await getArticleAdmin(tx, id);
    await emit(tx, await articleEvent(tx, "withdrawn", articleState(existing), articleState(row), {
      actorId: actor.id, data: { from: existing.status, to: "WITHDRAWN", reason, withdrawnAt: withdrawnAt.toISOString() },
    }));
    return row;
  });
}

/** ADMIN only (the route): back to the status it was withdrawn from; the tombstone goes. */
export async function reinstateArticle(
  prisma: PrismaClient, actor: Actor, id: number, ifMatch: IfMatch | null,
): Promise<AdminArticleRow> {
  return prisma.$transaction(async (tx) => {
    await lockRow(tx, id);
    const existing = await getArticleAdmin(tx, id);
    checkIfMatch(ifMatch, existing.version, false, () => adminArticle(existing));
    if (existing.status !== "WITHDRAWN") throw invalidState("reinstate", existing.status, ["WITHDRAWN"], existing.withdrawnFrom ?? "PUBLISHED");
    const to = existing.withdrawnFrom ?? "PUBLISHED";
    await tx.article.update({
      where: { id },
      data: { status: to, withdrawnAt: null, withdrawalReason: null, withdrawnFrom: null, version: { increment: 1 } },
    });
    await audit(tx, {
      actorId: actor.id, action: "article.reinstate", targetType: "article", targetId: id, ip: actor.ip,
      details: { to, withdrawnAt: existing.withdrawnAt?.toISOString() ?? null, reason: existing.withdrawalReason },
    });
    const row = await getArticleAdmin(tx, id);
    await emit(tx, await articleEvent(tx, "reinstated", articleState(existing), articleState(row), {
      actorId: actor.id, data: { from: "WITHDRAWN", to },
    }));
    return row;
  });
}

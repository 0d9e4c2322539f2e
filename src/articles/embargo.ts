// Embargoes (issue 12 §2). An article with `embargoedUntil` set has a
// pending embargo: whatever its status, no public surface shows it. The
// published read model (src/delivery/read-model.ts) and the public search
// index (src/search/index.ts) leave it out, the Article-table public reads
// (automatic recommendations, translations, the view beacon, comments) skip
// it, and its change events carry no surrogate keys (isVisible in
// src/events/keys.ts), so no cache, webhook or purge hears of it.
//
// At the instant the scheduler releases it (releaseDue): exactly once across
// instances, as publishDue does (FOR UPDATE SKIP LOCKED), it clears
// `embargoedUntil` and appends `article.embargo-lifted`, whose projection
// builds the public document and whose keys make caches, webhooks
// (article.published) and purges see it. A published article's publication
// time moves up to the embargo's instant: it enters the lists as news, not
// below stories published while it was held.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { audit } from "../audit/service.ts";
import { badRequest } from "../http/errors.ts";
import { emit, type ChangeEventInput } from "../events/outbox.ts";
import { articleEvent, articleState, isVisible, type ArticleState } from "../events/keys.ts";
import { getArticleAdmin } from "./service.ts";

type Tx = Prisma.TransactionClient;

/** 400 unless a new embargo lies in the future (null lifts it). */
export function assertEmbargo(embargoedUntil: Date | null | undefined, now = Date.now()): void {
  if (embargoedUntil && embargoedUntil.getTime() <= now) {
    throw badRequest("The request is invalid.", [{ path: "body.embargoedUntil", message: "Must be in the future." }]);
  }
}

/**
 * The change event type of an editor's update: an update that hides a
 * visible article behind a new embargo is `embargoed` (webhooks: unpublished),
 * one that lifts the embargo of an otherwise public article `embargo-lifted`
 * (webhooks: published); anything else keeps `type`.
 */
export function embargoEventType(type: string, before: ArticleState, after: ArticleState): string {
  if (!before.embargoed && after.embargoed && isVisible(before)) return "embargoed";
  if (before.embargoed && !after.embargoed && isVisible(after)) return "embargo-lifted";
  return type;
}

/**
 * Releases every embargo that is due: each article once, whatever the number
 * of instances (rows claimed with FOR UPDATE SKIP LOCKED, re-checked after the
 * lock). Returns the ids released.
 */
export async function releaseDue(prisma: PrismaClient, batch = 50): Promise<number[]> {
  return prisma.$transaction(async (tx) => {
    const due = await tx.$queryRaw<{ id: number }[]>`
      SELECT id FROM "Article"
       WHERE "embargoedUntil" <= now()
       ORDER BY "embargoedUntil", id
       LIMIT ${batch}
       FOR UPDATE SKIP LOCKED`;
    const released: number[] = [];
    const events: ChangeEventInput[] = [];
    for (const { id } of due) {
      const existing = await getArticleAdmin(tx, id);
      const until = existing.embargoedUntil;
      if (!until || until.getTime() > Date.now()) continue;
      events.push(await release(tx, existing, until));
      released.push(id);
    }
    // One emit, after every row lock of the batch.
    await emit(tx, events);
    return released;
  });
}

async function release(tx: Tx, existing: Awaited<ReturnType<typeof getArticleAdmin>>, until: Date): Promise<ChangeEventInput> {
  const data: Prisma.ArticleUpdateInput = { embargoedUntil: null, version: { increment: 1 } };
  if (existing.status === "PUBLISHED" && existing.publishedAt && existing.publishedAt < until) {
    data.publishedAt = until;
    if (!existing.editorialUpdatedAt || existing.editorialUpdatedAt < until) data.editorialUpdatedAt = until;
  }
  await tx.article.update({ where: { id: existing.id }, data });
  await audit(tx, {
    actorId: null, action: "article.embargo-lifted", targetType: "article", targetId: existing.id,
    details: { embargoedUntil: until.toISOString(), status: existing.status },
  });
  const before = articleState(existing);
  return articleEvent(tx, "embargo-lifted", before, { ...before, embargoed: false }, {
    data: { embargoedUntil: until.toISOString(), scheduled: true },
  });
}

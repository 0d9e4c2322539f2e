// Corrections, clarifications and retractions (issue 12 §1), appended by the
// desk (EDITOR+) to a published (or publicly archived) article. Each write
// runs in one transaction with the article row locked: the correction, the
// article's editorial updatedAt (adding or editing one is a significant
// update) and version, an audit entry, and an article.updated change event
// (key `corrections` too), whose projection rebuilds the article's public
// document, so the article page, its JSON-LD, the corrections feed, caches,
// webhooks and CDN purges all follow.
import type { CorrectionType, Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { HttpError, badRequest, conflict, notFound } from "../http/errors.ts";
import { checkIfMatch, type IfMatch } from "../http/preconditions.ts";
import { emit } from "../events/outbox.ts";
import { articleEvent, articleState } from "../events/keys.ts";
import { getArticleAdmin, getArticleFor, type AdminArticleRow } from "../articles/service.ts";
import { adminArticle } from "../articles/mappers.ts";

type Tx = Prisma.TransactionClient;

export const CORRECTION_TYPES = ["correction", "clarification", "retraction"] as const;

/** The key of the corrections feed. */
export const CORRECTIONS_KEY = "corrections";

/** Corrections per article: every one is shown on the article. */
export const MAX_CORRECTIONS = 100;

// Clock skew tolerated for an explicit `at` of "now".
const FUTURE_TOLERANCE_MS = 60_000;

export interface CorrectionInput {
  type?: CorrectionType;
  text?: string;
  at?: Date;
}

export const correctionInclude = { author: { select: { id: true, name: true } } } satisfies Prisma.CorrectionInclude;
export type CorrectionRow = Prisma.CorrectionGetPayload<{ include: typeof correctionInclude }>;

export function adminCorrection(c: CorrectionRow) {
  return {
    id: c.id,
    articleId: c.articleId,
    type: c.type,
    text: c.text,
    at: c.at.toISOString(),
    author: c.author ? { id: c.author.id, name: c.author.name } : null,
    version: c.version,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const invalid = (path: string, message: string) => badRequest("The request is invalid.", [{ path, message }]);

/** Locks the article (as every article write does, before reading it) and checks it can carry corrections. */
async function lockedArticle(tx: Tx, id: number): Promise<AdminArticleRow> {
  await tx.$queryRaw`SELECT id FROM "Article" WHERE id = ${id} FOR UPDATE`;
  const a = await getArticleAdmin(tx, id);
  if (a.deletedAt) throw conflict("The article is in the trash; restore it first.", "in-trash");
  return a;
}

function assertPublic(a: AdminArticleRow) {
  if (a.status !== "PUBLISHED" && a.status !== "ARCHIVED") {
    throw new HttpError(409, "not-published",
      `Only a published (or archived) article takes corrections; this one is ${a.status}. Edit it instead.`,
      undefined, undefined, { currentStatus: a.status });
  }
}

function checkAt(a: AdminArticleRow, at: Date | undefined) {
  if (!at) return;
  if (at.getTime() > Date.now() + FUTURE_TOLERANCE_MS) throw invalid("body.at", "Must not be in the future.");
  if (a.publishedAt && at < a.publishedAt) throw invalid("body.at", `Must not be before the article's publication (${a.publishedAt.toISOString()}).`);
}

/**
 * Moves the article's editorial updatedAt to `to` (never backwards) and bumps
 * its version: its editor representation changed, so stale ETags must fail.
 */
async function touchArticle(tx: Tx, a: AdminArticleRow, to: Date) {
  const current = a.editorialUpdatedAt ?? a.publishedAt;
  await tx.article.update({
    where: { id: a.id },
    data: { version: { increment: 1 }, ...(!current || to > current ? { editorialUpdatedAt: to } : {}) },
  });
}

async function emitChange(tx: Tx, actor: Actor, before: AdminArticleRow, action: string, c: { id: number; type: string }) {
  const after = await getArticleAdmin(tx, before.id);
  const e = await articleEvent(tx, "updated", articleState(before), articleState(after), {
    actorId: actor.id, data: { correction: { id: c.id, type: c.type, action } },
  });
  e.keys.push(CORRECTIONS_KEY);
  await emit(tx, e);
}

export async function addCorrection(
  prisma: PrismaClient, actor: Actor, articleId: number, input: Required<Pick<CorrectionInput, "type" | "text">> & CorrectionInput, ifMatch: IfMatch | null,
): Promise<CorrectionRow> {
  return prisma.$transaction(async (tx) => {
    const a = await lockedArticle(tx, articleId);
    checkIfMatch(ifMatch, a.version, false, () => adminArticle(a));
    assertPublic(a);
    checkAt(a, input.at);
    const count = await tx.correction.count({ where: { articleId } });
    if (count >= MAX_CORRECTIONS) throw conflict(`The article has ${MAX_CORRECTIONS} corrections already; edit one instead.`, "too-many-corrections");
    const now = new Date();
    const c = await tx.correction.create({
      data: { articleId, type: input.type, text: input.text, at: input.at ?? now, authorId: actor.id },
      include: correctionInclude,
    });
    await touchArticle(tx, a, input.at && input.at > now ? input.at : now);
    await audit(tx, {
      actorId: actor.id, action: "article.correction-add", targetType: "article", targetId: articleId, ip: actor.ip,
      details: { correction: c.id, type: c.type, at: c.at.toISOString() },
    });
    await emitChange(tx, actor, a, "created", c);
    return c;
  });
}

export async function listCorrections(prisma: PrismaClient, actor: Actor, articleId: number): Promise<CorrectionRow[]> {
  await getArticleFor(prisma, actor, articleId);
  return prisma.correction.findMany({ where: { articleId }, orderBy: [{ at: "desc" }, { id: "desc" }], include: correctionInclude });
}

export async function getCorrection(prisma: PrismaClient | Tx, actor: Pick<Actor, "id" | "role">, articleId: number, id: number): Promise<CorrectionRow> {
  await getArticleFor(prisma, actor, articleId);
  const c = await prisma.correction.findFirst({ where: { id, articleId }, include: correctionInclude });
  if (!c) throw notFound("Correction");
  return c;
}

async function lockedCorrection(tx: Tx, articleId: number, id: number) {
  const a = await lockedArticle(tx, articleId);
  const c = await tx.correction.findFirst({ where: { id, articleId }, include: correctionInclude });
  if (!c) throw notFound("Correction");
  return { a, c };
}

export async function updateCorrection(
  prisma: PrismaClient, actor: Actor, articleId: number, id: number, input: CorrectionInput, ifMatch: IfMatch | null,
): Promise<CorrectionRow> {
  return prisma.$transaction(async (tx) => {
    const { a, c: existing } = await lockedCorrection(tx, articleId, id);
    checkIfMatch(ifMatch, existing.version, true, () => adminCorrection(existing));
    assertPublic(a);
    checkAt(a, input.at);
    const c = await tx.correction.update({
      where: { id },
      data: {
        ...(input.type !== undefined ? { type: input.type } : {}),
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(input.at !== undefined ? { at: input.at } : {}),
        version: { increment: 1 },
      },
      include: correctionInclude,
    });
    // A correction reworded is news to readers again.
    await touchArticle(tx, a, new Date());
    await audit(tx, {
      actorId: actor.id, action: "article.correction-update", targetType: "article", targetId: articleId, ip: actor.ip,
      details: {
        correction: id,
        changed: (["type", "text", "at"] as const).filter((f) => String(existing[f]) !== String(c[f])),
        before: { type: existing.type, text: existing.text, at: existing.at.toISOString() },
      },
    });
    await emitChange(tx, actor, a, "updated", c);
    return c;
  });
}

/** Deletes a correction entered in error (the audit entry keeps its text); the article's updatedAt stays. */
export async function deleteCorrection(prisma: PrismaClient, actor: Actor, articleId: number, id: number, ifMatch: IfMatch | null): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const { a, c } = await lockedCorrection(tx, articleId, id);
    checkIfMatch(ifMatch, c.version, true, () => adminCorrection(c));
    await tx.correction.delete({ where: { id } });
    await tx.article.update({ where: { id: articleId }, data: { version: { increment: 1 } } });
    await audit(tx, {
      actorId: actor.id, action: "article.correction-delete", targetType: "article", targetId: articleId, ip: actor.ip,
      details: { correction: id, type: c.type, text: c.text, at: c.at.toISOString() },
    });
    await emitChange(tx, actor, a, "deleted", c);
  });
}

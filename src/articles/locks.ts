// Advisory edit locks (issue 12 §4): who is editing an article right now.
// One row per article in "ArticleEditLock", so every instance sees the same
// lock. A lock lasts EDIT_LOCK_TTL_MS and is renewed by taking it again (the
// editor's heartbeat); an expired row counts as no lock. While someone else
// holds it, article writes answer 423. If-Match stays the guarantee against
// lost updates: a write without a lock is allowed when nobody holds one.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { forbidden, HttpError, notFound } from "../http/errors.ts";

type Tx = Prisma.TransactionClient;

export const EDIT_LOCK_TTL_MS = 120_000;

/** The lock as articles load it (adminArticleInclude.editLock). */
export const editLockSelect = {
  since: true,
  expiresAt: true,
  editor: { select: { id: true, name: true } },
} satisfies Prisma.ArticleEditLockSelect;

export interface EditLockRow {
  since: Date;
  expiresAt: Date;
  editor: { id: number; name: string };
}

export interface LockedBy {
  id: number;
  name: string;
  since: string;
  expiresAt: string;
}

/** The holder of a lock that has not expired, as the API shows it; null otherwise. */
export function lockedBy(lock: EditLockRow | null | undefined, now = Date.now()): LockedBy | null {
  if (!lock || lock.expiresAt.getTime() <= now) return null;
  return { id: lock.editor.id, name: lock.editor.name, since: lock.since.toISOString(), expiresAt: lock.expiresAt.toISOString() };
}

export function lockedError(holder: LockedBy): HttpError {
  return new HttpError(423, "locked",
    `${holder.name} is editing this article (locked until ${holder.expiresAt}); an EDITOR or ADMIN can take the lock over with POST .../lock?force=true.`,
    undefined, undefined, { lockedBy: holder });
}

/**
 * Every article write calls this after its access checks, with the row it
 * loaded under the article's row lock (lock takeovers take that row lock too,
 * so the holder cannot change under the write).
 */
export function assertNotLocked(actor: Pick<Actor, "id">, article: { editLock?: EditLockRow | null }): void {
  const holder = lockedBy(article.editLock);
  if (holder && holder.id !== actor.id) throw lockedError(holder);
}

export interface LockResult {
  articleId: number;
  lockedBy: LockedBy;
  /** Set when a force took the lock from someone else. */
  takenFrom: { id: number; name: string } | null;
}

/**
 * Takes or renews the lock. `canEdit` runs the article's access rules on the
 * row (404 for an article the actor may not read, 403 for one they may not edit).
 */
export async function takeLock(
  prisma: PrismaClient,
  actor: Actor,
  articleId: number,
  force: boolean,
  canEdit: (tx: Tx) => Promise<unknown>,
): Promise<LockResult> {
  if (force && actor.role === "WRITER") throw forbidden("Only an EDITOR or ADMIN can take over someone else's lock.");
  return prisma.$transaction(async (tx) => {
    // Serializes with the article's writes: a takeover waits for a write in flight.
    const found = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM "Article" WHERE id = ${articleId} FOR UPDATE`;
    if (!found.length) throw notFound("Article");
    await canEdit(tx);
    const current = await tx.articleEditLock.findUnique({ where: { articleId }, select: editLockSelect });
    const holder = lockedBy(current);
    if (holder && holder.id !== actor.id && !force) throw lockedError(holder);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + EDIT_LOCK_TTL_MS);
    // A renewal keeps its `since`; a new holder starts now.
    const since = holder && holder.id === actor.id ? current!.since : now;
    const row = await tx.articleEditLock.upsert({
      where: { articleId },
      create: { articleId, editorId: actor.id, since, expiresAt },
      update: { editorId: actor.id, since, expiresAt },
      select: editLockSelect,
    });
    const takenFrom = holder && holder.id !== actor.id ? { id: holder.id, name: holder.name } : null;
    if (takenFrom) {
      await audit(tx, {
        actorId: actor.id, action: "article.lock.force", targetType: "article", targetId: articleId, ip: actor.ip,
        details: { previousHolder: takenFrom, previousSince: holder!.since, previousExpiresAt: holder!.expiresAt },
      });
    }
    return { articleId, lockedBy: lockedBy(row, now.getTime())!, takenFrom };
  });
}

/** Releases the actor's own lock (nothing to do when there is none, or it expired); someone else's answers 423. */
export async function releaseLock(prisma: PrismaClient, actor: Actor, articleId: number, canRead: (tx: Tx) => Promise<unknown>): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await canRead(tx);
    const current = await tx.articleEditLock.findUnique({ where: { articleId }, select: editLockSelect });
    const holder = lockedBy(current);
    if (holder && holder.id !== actor.id) throw lockedError(holder);
    if (current) await tx.articleEditLock.deleteMany({ where: { articleId, editorId: current.editor.id, expiresAt: current.expiresAt } });
  });
}

import type { Editor, PrismaClient, Role } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { Attempt } from "../auth/login-limits.ts";
import { revokeSessions } from "../auth/sessions.ts";
import { badRequest, conflict, notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { checkIfMatch, preconditionFailed, type IfMatch } from "../http/preconditions.ts";
import { emit } from "../events/outbox.ts";
import { visibleArticleKeys } from "../events/keys.ts";

// An advisory lock key of its own (any fixed 64-bit number not used elsewhere).
const LAST_ADMIN_LOCK = "7238001122334455";

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function editorView(e: Editor) {
  return {
    id: e.id,
    name: e.name,
    email: e.email,
    role: e.role,
    active: e.active,
    version: e.version,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** An active editor as any signed-in editor may see them (to credit them): no email, no account state. */
export function directoryEntry(e: Editor) {
  return { id: e.id, name: e.name, role: e.role };
}

export async function createEditor(
  prisma: PrismaClient,
  input: { name: string; email: string; password: string; role: Role },
  actor?: Actor,
) {
  const passwordHash = await hashPassword(input.password);
  return prisma.$transaction(async (tx) => {
    const e = await tx.editor.create({
      data: { name: input.name, email: normalizeEmail(input.email), passwordHash, role: input.role },
    });
    await audit(tx, {
      actorId: actor?.id ?? null, action: "editor.create", targetType: "editor", targetId: e.id, ip: actor?.ip,
      details: { role: e.role },
    });
    return e;
  });
}

export async function listEditors(prisma: PrismaClient, q: { limit: number; cursor?: string; active?: boolean; role?: Role }) {
  const cursor = decodeCursor(q.cursor);
  const rows = await prisma.editor.findMany({
    where: {
      ...(q.active !== undefined ? { active: q.active } : {}),
      ...(q.role ? { role: q.role } : {}),
      ...(cursor ? { id: { gt: cursor.id } } : {}),
    },
    orderBy: { id: "asc" },
    take: q.limit + 1,
  });
  return paginate(rows, q.limit, (e) => ({ id: e.id }));
}

export async function getEditor(prisma: PrismaClient, id: number) {
  const e = await prisma.editor.findUnique({ where: { id } });
  if (!e) throw notFound("Editor");
  return e;
}

export interface EditorChanges {
  name?: string;
  email?: string;
  password?: string;
  role?: Role;
  active?: boolean;
}

export async function updateEditor(
  prisma: PrismaClient,
  actor: Actor,
  id: number,
  input: EditorChanges,
  ifMatch: IfMatch | null,
  action = "editor.update",
) {
  const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
  return prisma.$transaction(async (tx) => {
    const existing = await tx.editor.findUnique({ where: { id } });
    if (!existing) throw notFound("Editor");
    const version = checkIfMatch(ifMatch, existing.version, true, () => editorView(existing));
    const losesAdmin =
      existing.role === "ADMIN" && existing.active &&
      ((input.role !== undefined && input.role !== "ADMIN") || input.active === false);
    if (losesAdmin) {
      // Never leave the newsroom without an active administrator. Demotions
      // take turns, so two ADMINs demoted at once cannot each count the other.
      await tx.$executeRaw`SELECT 1 FROM pg_advisory_xact_lock(${LAST_ADMIN_LOCK}::bigint)`;
      const admins = await tx.editor.count({ where: { role: "ADMIN", active: true } });
      if (admins <= 1) throw conflict("This is the last active ADMIN; promote another editor first.", "last-admin");
    }
    const { count } = await tx.editor.updateMany({
      where: { id, version },
      data: {
        name: input.name,
        email: input.email === undefined ? undefined : normalizeEmail(input.email),
        role: input.role,
        active: input.active,
        passwordHash,
        version: { increment: 1 },
      },
    });
    const row = await tx.editor.findUniqueOrThrow({ where: { id } });
    if (count === 0) throw preconditionFailed(row.version, editorView(row));
    // A deactivated editor, or one whose password an ADMIN reset, is logged out everywhere.
    if (input.active === false) await revokeSessions(tx, id, "deactivated");
    if (input.password !== undefined) await revokeSessions(tx, id, "password-reset");
    const changed = Object.keys(input).filter((k) => k !== "password");
    if (input.password !== undefined) changed.push("password");
    await audit(tx, {
      actorId: actor.id, action, targetType: "editor", targetId: id, ip: actor.ip,
      details: { changed, ...(input.role ? { role: input.role } : {}), ...(input.active !== undefined ? { active: input.active } : {}) },
    });
    // Published articles show their credited editors' names; nothing else about an editor is public.
    const renamed = row.name !== existing.name;
    const activeChanged = row.active !== existing.active;
    if (renamed || activeChanged) {
      await emit(tx, {
        type: renamed ? "editor.renamed" : row.active ? "editor.reactivated" : "editor.deactivated",
        entityType: "editor", entityId: id, actorId: actor.id,
        keys: await visibleArticleKeys(tx, { editors: { some: { editorId: id } } }),
        data: { changed: changed.filter((c) => c === "name" || c === "active") },
      });
    }
    return row;
  });
}

/**
 * An editor changes their own password; every other session of theirs ends.
 * `attempt` is the login limiter's reservation: a wrong current password
 * leaves it counted as a failed login.
 */
export async function changeOwnPassword(
  prisma: PrismaClient, actor: Actor, current: string, next: string, attempt?: Attempt,
) {
  const editor = await prisma.editor.findUniqueOrThrow({ where: { id: actor.id } });
  if (!(await verifyPassword(current, editor.passwordHash))) {
    throw badRequest("The request is invalid.", [{ path: "body.currentPassword", message: "Does not match your current password." }]);
  }
  const passwordHash = await hashPassword(next);
  await prisma.$transaction(async (tx) => {
    // Only over the password just verified: a concurrent change or ADMIN
    // reset in between is not silently overwritten.
    const { count } = await tx.editor.updateMany({
      where: { id: actor.id, passwordHash: editor.passwordHash },
      data: { passwordHash, version: { increment: 1 } },
    });
    if (count === 0) throw conflict("Your password was changed meanwhile; sign in again with the new one.", "password-changed");
    await attempt?.succeeded(tx);
    const revoked = await revokeSessions(tx, actor.id, "password-change", actor.sessionId);
    await audit(tx, {
      actorId: actor.id, action: "auth.password-change", targetType: "editor", targetId: actor.id, ip: actor.ip,
      details: { revokedSessions: revoked },
    });
  });
}

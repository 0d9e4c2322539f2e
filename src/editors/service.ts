import type { Editor, PrismaClient, Role } from "../generated/prisma/client.ts";
import { hashPassword } from "../auth/passwords.ts";
import { conflict, notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function editorView(e: Editor) {
  return {
    id: e.id,
    name: e.name,
    email: e.email,
    role: e.role,
    active: e.active,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

export async function createEditor(
  prisma: PrismaClient,
  input: { name: string; email: string; password: string; role: Role },
) {
  return prisma.editor.create({
    data: {
      name: input.name,
      email: normalizeEmail(input.email),
      passwordHash: await hashPassword(input.password),
      role: input.role,
    },
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

export async function updateEditor(
  prisma: PrismaClient,
  id: number,
  input: { name?: string; email?: string; password?: string; role?: Role; active?: boolean },
) {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.editor.findUnique({ where: { id } });
    if (!existing) throw notFound("Editor");
    const losesAdmin =
      existing.role === "ADMIN" && existing.active &&
      ((input.role !== undefined && input.role !== "ADMIN") || input.active === false);
    if (losesAdmin) {
      // Never leave the newsroom without an active administrator.
      const admins = await tx.editor.count({ where: { role: "ADMIN", active: true } });
      if (admins <= 1) throw conflict("This is the last active ADMIN; promote another editor first.", "last-admin");
    }
    return tx.editor.update({
      where: { id },
      data: {
        name: input.name,
        email: input.email === undefined ? undefined : normalizeEmail(input.email),
        role: input.role,
        active: input.active,
        passwordHash: input.password === undefined ? undefined : await hashPassword(input.password),
      },
    });
  });
}

// The audit log: who did what to which record, when, and from where. Entries
// are written with the same transaction client as the action they record,
// so an action and its audit row commit (or roll back) together.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";

type Db = PrismaClient | Prisma.TransactionClient;

export interface AuditEntry {
  actorId: number | null;
  action: string;
  targetType?: string;
  targetId?: number;
  ip?: string | null;
  email?: string;
  details?: Prisma.InputJsonValue;
}

export async function audit(db: Db, e: AuditEntry): Promise<void> {
  await db.auditLog.create({
    data: {
      actorId: e.actorId,
      action: e.action,
      targetType: e.targetType ?? null,
      targetId: e.targetId ?? null,
      ip: e.ip ?? null,
      email: e.email ?? null,
      details: e.details,
    },
  });
}

export interface AuditQuery {
  action?: string;
  actor?: number;
  targetType?: string;
  targetId?: number;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

export async function listAudit(prisma: PrismaClient, q: AuditQuery) {
  const cursor = decodeCursor(q.cursor);
  const rows = await prisma.auditLog.findMany({
    where: {
      ...(q.action ? (q.action.endsWith(".") ? { action: { startsWith: q.action } } : { action: q.action }) : {}),
      ...(q.actor ? { actorId: q.actor } : {}),
      ...(q.targetType ? { targetType: q.targetType } : {}),
      ...(q.targetId ? { targetId: q.targetId } : {}),
      ...(q.since || q.until
        ? { createdAt: { ...(q.since ? { gte: new Date(q.since) } : {}), ...(q.until ? { lt: new Date(q.until) } : {}) } }
        : {}),
      ...(cursor ? { id: { lt: cursor.id } } : {}),
    },
    orderBy: { id: "desc" },
    take: q.limit + 1,
    include: { actor: { select: { id: true, name: true } } },
  });
  return paginate(rows, q.limit, (r) => ({ id: r.id }));
}

export type AuditRow = Awaited<ReturnType<typeof listAudit>>["page"][number];

export function auditView(r: AuditRow) {
  return {
    id: r.id,
    createdAt: r.createdAt.toISOString(),
    action: r.action,
    actor: r.actor ? { id: r.actor.id, name: r.actor.name } : null,
    targetType: r.targetType,
    targetId: r.targetId,
    ip: r.ip,
    email: r.email,
    details: (r.details ?? null) as Record<string, unknown> | null,
  };
}

// Sections form a tree (English > Foreign Affairs, China, ...). The whole
// table is small, so tree questions (descendants, breadcrumbs) are answered
// from one query of all rows rather than recursive SQL.
import type { Prisma, PrismaClient, Section } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { HttpError, conflict, notFound } from "../http/errors.ts";
import { checkIfMatch, preconditionFailed, type IfMatch } from "../http/preconditions.ts";
import { adminSection } from "./mappers.ts";
import { emit } from "../events/outbox.ts";
import { frontKeys, key, sectionKeys } from "../events/keys.ts";

type Db = PrismaClient | Prisma.TransactionClient;

export type SectionRow = Pick<Section, "id" | "slug" | "name" | "description" | "parentId" | "position" | "leadArticleId" | "language">;

export class SectionTree {
  readonly byId = new Map<number, SectionRow>();
  readonly bySlug = new Map<string, SectionRow>();
  readonly children = new Map<number | null, SectionRow[]>();

  constructor(rows: SectionRow[]) {
    const sorted = [...rows].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
    for (const r of sorted) {
      this.byId.set(r.id, r);
      this.bySlug.set(r.slug, r);
      const list = this.children.get(r.parentId) ?? [];
      list.push(r);
      this.children.set(r.parentId, list);
    }
  }

  /** The section and everything below it. */
  descendantIds(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      out.push(cur);
      for (const c of this.children.get(cur) ?? []) stack.push(c.id);
    }
    return out;
  }

  /**
   * The section's language: its own, else the nearest ancestor's that has
   * one; null when none has (articles then fall back to SITE_LANGUAGE).
   */
  languageOf(id: number): string | null {
    const seen = new Set<number>();
    let cur = this.byId.get(id);
    while (cur && !seen.has(cur.id)) {
      if (cur.language) return cur.language;
      seen.add(cur.id);
      cur = cur.parentId === null ? undefined : this.byId.get(cur.parentId);
    }
    return null;
  }

  /** Root first, ending with the section itself. */
  breadcrumb(id: number): SectionRow[] {
    const out: SectionRow[] = [];
    const seen = new Set<number>();
    let cur = this.byId.get(id);
    while (cur && !seen.has(cur.id)) {
      seen.add(cur.id);
      out.unshift(cur);
      cur = cur.parentId === null ? undefined : this.byId.get(cur.parentId);
    }
    return out;
  }
}

export async function loadTree(db: Db): Promise<SectionTree> {
  const rows = await db.section.findMany({
    select: { id: true, slug: true, name: true, description: true, parentId: true, position: true, leadArticleId: true, language: true },
  });
  return new SectionTree(rows);
}

export interface SectionInput {
  slug?: string;
  name?: string;
  description?: string;
  parent?: string | null;
  position?: number;
  /** BCP 47, normalized; null: inherit the parent's (then SITE_LANGUAGE). */
  language?: string | null;
}

async function resolveParent(db: Db, parent: string | null | undefined, selfId?: number) {
  if (parent === undefined) return undefined;
  if (parent === null) return null;
  const tree = await loadTree(db);
  const p = tree.bySlug.get(parent);
  if (!p) {
    throw new HttpError(400, "validation-error", "The request is invalid.", [
      { path: "body.parent", message: `No section with slug "${parent}".` },
    ]);
  }
  if (selfId !== undefined && tree.descendantIds(selfId).includes(p.id)) {
    throw new HttpError(400, "validation-error", "The request is invalid.", [
      { path: "body.parent", message: "A section cannot be moved under itself or its descendants." },
    ]);
  }
  return p.id;
}

const adminInclude = { parent: { select: { id: true, slug: true, name: true } } } as const;

export async function createSection(db: PrismaClient, actor: Actor, input: Required<Pick<SectionInput, "slug" | "name">> & SectionInput) {
  return db.$transaction(async (tx) => {
    const parentId = await resolveParent(tx, input.parent);
    const row = await tx.section.create({
      data: {
        slug: input.slug,
        name: input.name,
        description: input.description ?? "",
        position: input.position ?? 0,
        parentId: parentId ?? null,
        language: input.language ?? null,
      },
      include: adminInclude,
    });
    await audit(tx, { actorId: actor.id, action: "section.create", targetType: "section", targetId: row.id, ip: actor.ip, details: { slug: row.slug } });
    // An empty section changes the tree (and its own front, which may have been a cached 404), no article list.
    await emit(tx, {
      type: "section.created", entityType: "section", entityId: row.id, actorId: actor.id,
      keys: [key.sections, key.section(row.id), ...frontKeys(await loadTree(tx), row.id)],
    });
    return row;
  });
}

export async function updateSection(db: PrismaClient, actor: Actor, id: number, input: SectionInput, ifMatch: IfMatch | null) {
  return db.$transaction(async (tx) => {
    const existing = await tx.section.findUnique({ where: { id }, include: adminInclude });
    if (!existing) throw notFound("Section");
    const version = checkIfMatch(ifMatch, existing.version, true, () => adminSection(existing));
    const parentId = await resolveParent(tx, input.parent, id);
    const treeBefore = await loadTree(tx);
    const { count } = await tx.section.updateMany({
      where: { id, version },
      data: {
        version: { increment: 1 },
        slug: input.slug,
        name: input.name,
        description: input.description,
        position: input.position,
        parentId,
        language: input.language,
      },
    });
    const row = await tx.section.findUniqueOrThrow({ where: { id }, include: adminInclude });
    if (count === 0) throw preconditionFailed(row.version, adminSection(row));
    await audit(tx, {
      actorId: actor.id, action: "section.update", targetType: "section", targetId: id, ip: actor.ip,
      details: { changed: Object.keys(input) },
    });
    const moved = parentId !== undefined && parentId !== existing.parentId;
    const renamed = row.slug !== existing.slug || row.name !== existing.name;
    const treeAfter = await loadTree(tx);
    // Sections (this one and below) whose effective language changed: the read
    // model rebuilds the documents of their articles that inherit it.
    const languageSections = treeAfter.descendantIds(id).filter((s) => treeBefore.languageOf(s) !== treeAfter.languageOf(s));
    await emit(tx, {
      type: moved ? "section.moved" : renamed ? "section.renamed" : "section.updated",
      entityType: "section", entityId: id, actorId: actor.id,
      keys: sectionKeys(treeBefore, treeAfter, id),
      data: { changed: Object.keys(input), ...(languageSections.length ? { languageSections } : {}) },
    });
    return row;
  });
}

export async function deleteSection(db: PrismaClient, actor: Actor, id: number, ifMatch: IfMatch | null) {
  await db.$transaction(async (tx) => {
    const s = await tx.section.findUnique({
      where: { id },
      include: { ...adminInclude, _count: { select: { children: true, articles: true } } },
    });
    if (!s) throw notFound("Section");
    const version = checkIfMatch(ifMatch, s.version, true, () => adminSection(s));
    if (s._count.children > 0 || s._count.articles > 0) {
      throw conflict(
        `Section "${s.slug}" still has ${s._count.children} child section(s) and ${s._count.articles} article(s).`,
        "section-in-use",
      );
    }
    const treeBefore = await loadTree(tx);
    const { count } = await tx.section.deleteMany({ where: { id, version } });
    if (count === 0) {
      const row = await tx.section.findUniqueOrThrow({ where: { id }, include: adminInclude });
      throw preconditionFailed(row.version, adminSection(row));
    }
    await audit(tx, { actorId: actor.id, action: "section.delete", targetType: "section", targetId: id, ip: actor.ip, details: { slug: s.slug } });
    // Empty (checked above): the tree, its front and its ancestors' fronts change, no article.
    await emit(tx, {
      type: "section.deleted", entityType: "section", entityId: id, actorId: actor.id,
      keys: [key.sections, key.section(id), ...frontKeys(treeBefore, id)], data: { slug: s.slug },
    });
  });
}

export async function getSectionAdmin(db: Db, id: number) {
  const s = await db.section.findUnique({ where: { id }, include: adminInclude });
  if (!s) throw notFound("Section");
  return s;
}

export async function listSectionsAdmin(db: Db) {
  return db.section.findMany({ include: adminInclude, orderBy: [{ position: "asc" }, { name: "asc" }, { id: "asc" }] });
}

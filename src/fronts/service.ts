// Section fronts and the Latest News strip.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { publicListSelect, type PublicListRow } from "../articles/service.ts";
import { loadTree } from "../sections/service.ts";
import { emit } from "../events/outbox.ts";
import { key } from "../events/keys.ts";

const live: Prisma.ArticleWhereInput = { status: "PUBLISHED", deletedAt: null };
const newest = [{ publishedAt: "desc" as const }, { id: "desc" as const }];

export async function latest(prisma: PrismaClient, limit: number) {
  return prisma.article.findMany({ where: live, orderBy: newest, take: limit, select: publicListSelect });
}

export type LeadSource = "pinned" | "image" | "newest";

/**
 * The lead is the editor-pinned story if it is live and in the section
 * (descendants included), else the newest story with a lead image, else the
 * newest story. The list follows it, never repeating it.
 */
export async function sectionFront(prisma: PrismaClient, slug: string, limit: number) {
  const tree = await loadTree(prisma);
  const section = tree.bySlug.get(slug);
  if (!section) throw notFound("Section");
  const inSection: Prisma.ArticleWhereInput = { ...live, sectionId: { in: tree.descendantIds(section.id) } };
  let lead: PublicListRow | null = null;
  let source: LeadSource | null = null;
  if (section.leadArticleId) {
    lead = await prisma.article.findFirst({ where: { ...inSection, id: section.leadArticleId }, select: publicListSelect });
    if (lead) source = "pinned";
  }
  if (!lead) {
    lead = await prisma.article.findFirst({ where: { ...inSection, leadImageId: { not: null } }, orderBy: newest, select: publicListSelect });
    if (lead) source = "image";
  }
  const stories = await prisma.article.findMany({
    where: lead ? { ...inSection, id: { not: lead.id } } : inSection,
    orderBy: newest,
    take: lead ? limit : limit + 1,
    select: publicListSelect,
  });
  if (!lead && stories.length) {
    lead = stories.shift()!;
    source = "newest";
  }
  return { tree, section, lead, source, stories: stories.slice(0, limit) };
}

export async function pinLead(prisma: PrismaClient, actor: Actor, sectionId: number, articleId: number | null) {
  return prisma.$transaction(async (tx) => {
    const tree = await loadTree(tx);
    const section = tree.byId.get(sectionId);
    if (!section) throw notFound("Section");
    if (articleId !== null) {
      const a = await tx.article.findUnique({ where: { id: articleId }, select: { sectionId: true, deletedAt: true } });
      if (!a || a.deletedAt) throw badRequest("The request is invalid.", [{ path: "body.articleId", message: `No article with id ${articleId}.` }]);
      if (!tree.descendantIds(sectionId).includes(a.sectionId)) {
        throw badRequest("The request is invalid.", [{ path: "body.articleId", message: `The article is not in section "${section.slug}" or below it.` }]);
      }
    }
    const row = await tx.section.update({
      where: { id: sectionId },
      data: { leadArticleId: articleId, version: { increment: 1 } },
      include: { parent: { select: { id: true, slug: true, name: true } } },
    });
    await audit(tx, {
      actorId: actor.id, action: articleId ? "section.pin-lead" : "section.unpin-lead", targetType: "section",
      targetId: sectionId, ip: actor.ip, details: { articleId },
    });
    // Only this section's own front uses its pin.
    await emit(tx, {
      type: articleId ? "section.lead-pinned" : "section.lead-unpinned", entityType: "section", entityId: sectionId,
      actorId: actor.id, keys: [key.front(section.slug), key.section(sectionId)], data: { articleId },
    });
    return row;
  });
}

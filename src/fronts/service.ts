// Pinning a section front's lead (the fronts and Latest News are read by src/delivery).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { loadTree } from "../sections/service.ts";
import { emit } from "../events/outbox.ts";
import { key } from "../events/keys.ts";

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

// Demo newsroom, seeded only into an empty database (no sections, no articles).
import type { PrismaClient } from "../generated/prisma/client.ts";
import { hashPassword, randomPassword } from "../auth/passwords.ts";
import { plainText, sanitizeBody } from "../articles/sanitize.ts";
import { DEMO } from "./demo-content.ts";

export async function seedDemo(prisma: PrismaClient): Promise<boolean> {
  const [sections, articles] = await Promise.all([prisma.section.count(), prisma.article.count()]);
  if (sections > 0 || articles > 0) return false;
  // Desk editors get random passwords: an ADMIN sets real ones when needed.
  const hashes = await Promise.all(DEMO.editors.map(() => hashPassword(randomPassword())));
  await prisma.$transaction(async (tx) => {
    const admin = await tx.editor.findFirst({ where: { role: "ADMIN" }, orderBy: { id: "asc" } });
    const sectionIds = new Map<string, number>();
    for (const s of DEMO.sections) {
      const row = await tx.section.create({
        data: {
          slug: s.slug, name: s.name, description: s.description, position: s.position,
          parentId: s.parent ? sectionIds.get(s.parent)! : null,
        },
      });
      sectionIds.set(s.slug, row.id);
    }
    const editorIds = new Map<string, number>();
    for (const [i, e] of DEMO.editors.entries()) {
      const row = await tx.editor.upsert({
        where: { email: e.email },
        create: { name: e.name, email: e.email, role: e.role, passwordHash: hashes[i] },
        update: {},
      });
      editorIds.set(e.key, row.id);
    }
    const authorId = admin?.id ?? editorIds.values().next().value!;
    const tagIds = new Map<string, number>();
    for (const t of DEMO.tags) {
      tagIds.set(t.slug, (await tx.tag.create({ data: { slug: t.slug, name: t.name } })).id);
    }
    const articleIds = new Map<string, number>();
    for (const a of DEMO.articles) {
      const body = sanitizeBody(a.paragraphs.map((p) => `<p>${p}</p>`).join("\n"));
      const row = await tx.article.create({
        data: {
          slug: a.slug, headline: a.headline, summary: a.summary, dateline: a.dateline ?? null,
          source: a.source ?? null, byline: a.byline ?? null, body, bodyText: plainText(body), kind: a.kind,
          status: a.publishedAt ? "PUBLISHED" : "DRAFT",
          publishedAt: a.publishedAt ? new Date(a.publishedAt) : null,
          sectionId: sectionIds.get(a.section)!, authorId,
        },
      });
      articleIds.set(a.key, row.id);
      await tx.articleEditor.createMany({
        data: a.editors.map((k, position) => ({ articleId: row.id, editorId: editorIds.get(k)!, position })),
      });
      await tx.articleTag.createMany({ data: a.tags.map((t) => ({ articleId: row.id, tagId: tagIds.get(t)! })) });
      for (const c of a.comments ?? []) {
        await tx.comment.create({ data: { articleId: row.id, authorName: c.name, body: c.body, status: c.status } });
      }
    }
    for (const a of DEMO.articles) {
      await tx.articleRelated.createMany({
        data: a.related.map((k, position) => ({
          articleId: articleIds.get(a.key)!, relatedId: articleIds.get(k)!, position,
        })),
      });
    }
  }, { timeout: 60_000 });
  return true;
}

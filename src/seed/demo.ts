// Demo newsroom, seeded only into an empty database (no sections, no articles).
import type { PrismaClient } from "../generated/prisma/client.ts";
import { hashPassword, randomPassword } from "../auth/passwords.ts";
import { plainText, sanitizeBody } from "../articles/sanitize.ts";
import { DEMO } from "./demo-content.ts";
import { bodyHash } from "../comments/service.ts";
import crypto from "node:crypto";
import type { MediaStorage } from "../media/storage.ts";
import { placeholderPng } from "./placeholder.ts";
import { backfill } from "../delivery/read-model.ts";
import { seedAuthorsAndCorrections } from "./demo-authors.ts";

const PALETTE: [number, number, number][] = [
  [70, 110, 150], [160, 120, 80], [90, 140, 100], [150, 90, 110], [120, 120, 160], [180, 150, 90],
];

/** The demo's articles, those published "hours ago" dated from now (at seed time). */
function demoArticles(now = Date.now()): DemoArticle[] {
  return DEMO.articles.map((a) => (a.publishedHoursAgo === undefined ? a
    : { ...a, publishedAt: new Date(now - a.publishedHoursAgo * 3_600_000).toISOString() }));
}

type DemoArticle = (typeof DEMO.articles)[number];

/**
 * The demo desk editors' password when the demo is seeded in development (README
 * "Quick start", the login example in openapi.yaml): Swagger's "Try it out" and
 * the desk then work on a plain `npm start`. Never in production: there a
 * seeded demo's editors get random passwords an ADMIN resets.
 */
export const DEMO_DESK_PASSWORD = "dateline-demo-desk";

export interface SeedDemoOptions {
  /** The desk editors' password; random when absent. */
  deskPassword?: string;
}

export async function seedDemo(prisma: PrismaClient, media?: MediaStorage, opts: SeedDemoOptions = {}): Promise<boolean> {
  const [sections, articles] = await Promise.all([prisma.section.count(), prisma.article.count()]);
  if (sections > 0 || articles > 0) return false;
  const stories = demoArticles();
  // Placeholder lead images for photo stories and the flagship, written
  // before the transaction; if it fails they are removed again.
  const wantsImage = stories.filter((a) => a.publishedAt && (a.kind === "PHOTO_STORY" || a.key === "flagship"));
  const files: { key: string; article: string; caption: string; size: number }[] = [];
  if (media) {
    for (const [i, a] of wantsImage.entries()) {
      const key = `2013/06/${crypto.randomUUID()}.png`;
      const png = placeholderPng(64, 40, PALETTE[i % PALETTE.length]);
      await media.put(key, png, "image/png");
      files.push({ key, article: a.key, caption: a.summary, size: png.length });
    }
  }
  try {
    await seedRows(prisma, files, stories, opts.deskPassword);
  } catch (err) {
    for (const f of files) await media?.remove(f.key);
    throw err;
  }
  // The seed writes rows directly, without change events: build their public documents.
  await backfill(prisma);
  return true;
}

async function seedRows(
  prisma: PrismaClient, files: { key: string; article: string; caption: string; size: number }[], stories: DemoArticle[], deskPassword?: string,
) {
  // Desk editors: the documented demo password (development), else random ones an ADMIN resets.
  const hashes = await Promise.all(DEMO.editors.map(() => hashPassword(deskPassword ?? randomPassword())));
  await prisma.$transaction(async (tx) => {
    const admin = await tx.editor.findFirst({ where: { role: "ADMIN" }, orderBy: { id: "asc" } });
    const sectionIds = new Map<string, number>();
    for (const s of DEMO.sections) {
      const row = await tx.section.create({
        data: {
          slug: s.slug, name: s.name, description: s.description, position: s.position,
          parentId: s.parent ? sectionIds.get(s.parent)! : null, language: s.language ?? null,
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
    for (const a of stories) {
      // Flat paragraphs shipped with the code and seeded before the server
      // listens: sanitized in place, unlike request bodies (sanitize-pool.ts).
      const body = sanitizeBody(a.paragraphs.map((p) => `<p>${p}</p>`).join("\n"));
      const row = await tx.article.create({
        data: {
          slug: a.slug, headline: a.headline, summary: a.summary, dateline: a.dateline ?? null,
          source: a.source ?? null, byline: a.byline ?? null, body, bodyText: plainText(body), kind: a.kind,
          status: a.publishedAt ? "PUBLISHED" : "DRAFT",
          publishedAt: a.publishedAt ? new Date(a.publishedAt) : null,
          // The public updatedAt: the last significant update, else the publication.
          editorialUpdatedAt: a.significantUpdateAt ? new Date(a.significantUpdateAt) : a.publishedAt ? new Date(a.publishedAt) : null,
          language: a.language ?? null,
          embargoedUntil: a.embargoHoursFromNow ? new Date(Date.now() + a.embargoHoursFromNow * 3_600_000) : null,
          // Translations share the group of the article they translate (named after it, as translationOf does).
          translationGroup: a.translationOf || stories.some((x) => x.translationOf === a.key)
            ? `demo-${a.translationOf ?? a.key}` : null,
          sectionId: sectionIds.get(a.section)!, authorId,
        },
      });
      articleIds.set(a.key, row.id);
      // Live entries (src/live), oldest first: their ids and change sequence follow their times.
      for (const e of a.liveEntries ?? []) {
        const at = new Date(Date.now() - e.minutesAgo * 60_000);
        await tx.liveEntry.create({
          data: {
            articleId: row.id, authorId: editorIds.get(e.editor)!, title: e.title ?? null, body: sanitizeBody(e.html),
            keyEvent: e.keyEvent ?? false, pinned: e.pinned ?? false, createdAt: at, updatedAt: at,
          },
        });
      }
      await tx.articleEditor.createMany({
        data: a.editors.map((k, position) => ({ articleId: row.id, editorId: editorIds.get(k)!, position })),
      });
      await tx.articleTag.createMany({ data: a.tags.map((t) => ({ articleId: row.id, tagId: tagIds.get(t)! })) });
      for (const c of a.comments ?? []) {
        // With its duplicate-check hash, so a copy posted later is caught like any repeat.
        await tx.comment.create({ data: { articleId: row.id, authorName: c.name, body: c.body, bodyHash: bodyHash(c.body), status: c.status } });
      }
    }
    const imageOf = new Map<string, number>();
    for (const f of files) {
      const m = await tx.media.create({
        data: { storageKey: f.key, mimeType: "image/png", size: f.size, width: 64, height: 40, caption: f.caption, credit: "Dateline demo", alt: f.caption },
      });
      imageOf.set(f.article, m.id);
      await tx.article.update({ where: { id: articleIds.get(f.article)! }, data: { leadImageId: m.id } });
      if (stories.find((a) => a.key === f.article)?.kind === "PHOTO_STORY") {
        await tx.galleryItem.create({ data: { articleId: articleIds.get(f.article)!, mediaId: m.id, position: 0, caption: f.caption } });
      }
    }
    // The boxes of the reference page: a curated list and some reads for Most Popular.
    const photos = stories.filter((a) => a.kind === "PHOTO_STORY" && a.publishedAt).slice(0, 6);
    const selections = await tx.collection.create({ data: { slug: "selections-for-you", name: "Selections for you" } });
    await tx.collectionItem.createMany({
      data: photos.map((a, position) => ({ collectionId: selections.id, articleId: articleIds.get(a.key)!, position })),
    });
    // An editor-pinned lead for the China front.
    const chinaLead = stories.find((a) => a.section === "china" && a.publishedAt && a.kind === "STORY");
    if (chinaLead) {
      await tx.section.update({ where: { id: sectionIds.get("china")! }, data: { leadArticleId: articleIds.get(chinaLead.key)! } });
    }
    const hour = new Date();
    hour.setUTCMinutes(0, 0, 0);
    const popular = stories.filter((a) => a.publishedAt).slice(0, 10);
    await tx.articleViewHourly.createMany({
      data: popular.map((a, i) => ({ articleId: articleIds.get(a.key)!, hour, views: 500 - i * 37 })),
    });
    for (const a of stories) {
      await tx.articleRelated.createMany({
        data: a.related.map((k, position) => ({
          articleId: articleIds.get(a.key)!, relatedId: articleIds.get(k)!, position,
        })),
      });
    }
    // Issue 12: author profiles on a few stories, one corrected story (src/seed/demo-authors.ts).
    await seedAuthorsAndCorrections(tx, articleIds);
  }, { timeout: 60_000 });
}

// Agency copy in: an IPTC ninjs item becomes a DRAFT article, and a later
// version of the same item (same uri) a new version of that article. Each
// ingest is a revision with action "ingest", so what editors changed between
// two agency versions stays in the article's history; the item as last
// received (unknown fields included) is kept in "WireItem".raw.
// An item with pubStatus "canceled" withdraws the article (src/wire/routes.ts).
import { isDeepStrictEqual } from "node:util";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, conflict, HttpError, type FieldError } from "../http/errors.ts";
import { adminArticleInclude, getArticleAdmin, type AdminArticleRow } from "../articles/service.ts";
import { contentOf, diff, saveRevision, type ArticleContent } from "../articles/revisions.ts";
import { slugify } from "../articles/sanitize.ts";
import type { BodySanitizer } from "../articles/sanitize-pool.ts";
import { emit } from "../events/outbox.ts";
import { articleEvent, articleState } from "../events/keys.ts";
import { embargoEventType } from "../articles/embargo.ts";
import { compareVersions, readItem, type NinjsItem, type WireContent } from "./ninjs.ts";

type Tx = Prisma.TransactionClient;

export interface IngestOptions {
  /** Section (slug) of a new article; an update leaves the article where editors put it. */
  section?: string;
  /** The agency, when the item names none (copyrightHolder, provider, infoSources). */
  source?: string;
}

export type IngestOutcome = "created" | "updated" | "unchanged" | "canceled";

export interface IngestResult {
  outcome: IngestOutcome;
  article: AdminArticleRow;
  wire: WireRow;
  content: WireContent;
}

export const wireSelect = {
  uri: true, version: true, firstCreated: true, versionCreated: true, pubStatus: true,
  embargoedUntil: true, ingestCount: true, receivedAt: true,
} satisfies Prisma.WireItemSelect;
export type WireRow = Prisma.WireItemGetPayload<{ select: typeof wireSelect }>;

// The article fields' limits (src/articles/routes.ts).
const LIMITS: [keyof WireContent, number, string][] = [
  ["headline", 300, "headline"],
  ["summary", 2000, "descriptions"],
  ["dateline", 100, "located"],
  ["byline", 200, "by"],
  ["source", 200, "copyrightHolder"],
];

function check(c: WireContent, opts: IngestOptions): void {
  const errors: FieldError[] = [];
  if (c.pubStatus !== "canceled" && !c.headline) {
    errors.push({ path: "body.headlines", message: "An item needs a headline (headlines[].value, or headline in ninjs 1.x)." });
  }
  for (const [field, max, path] of LIMITS) {
    const v = c[field] as string | null;
    if (v && v.length > max) {
      errors.push({ path: field === "headline" ? c.headlinePath : `body.${path}`, message: `Must be at most ${max} characters.` });
    }
  }
  if (opts.source && opts.source.length > 200) errors.push({ path: "query.source", message: "Must be at most 200 characters." });
  if (errors.length) throw badRequest("The request is invalid.", errors);
}

const loadAdmin = (tx: Tx, id: number) => tx.article.findUniqueOrThrow({ where: { id }, include: adminArticleInclude });

/** A revision with action "ingest" and its audit entry (as the article service records saves). */
async function recordIngest(tx: Tx, actor: Actor, before: ArticleContent | null, id: number, c: WireContent) {
  const row = await loadAdmin(tx, id);
  const after = contentOf(row);
  const revision = await saveRevision(tx, id, actor.id, "ingest", before, after);
  await audit(tx, {
    actorId: actor.id, action: "article.ingest", targetType: "article", targetId: id, ip: actor.ip,
    details: { revision, changed: diff(before, after).map((d) => d.field), uri: c.uri, version: c.version },
  });
  return row;
}

async function uniqueSlug(tx: Tx, base: string): Promise<string> {
  const root = base || "wire";
  const taken = new Set((await tx.article.findMany({ where: { slug: { startsWith: root } }, select: { slug: true } })).map((a) => a.slug));
  if (!taken.has(root)) return root;
  for (let n = 2; ; n++) if (!taken.has(`${root}-${n}`)) return `${root}-${n}`;
}

/** The tags of the item's subjects, created with the agency's names when new. */
async function tagIds(tx: Tx, tags: WireContent["tags"]): Promise<number[]> {
  const ids: number[] = [];
  for (const { slug, name } of tags) {
    ids.push((await tx.tag.upsert({ where: { slug }, create: { slug, name }, update: {}, select: { id: true } })).id);
  }
  return ids;
}

const wireData = (c: WireContent, raw: NinjsItem) => ({
  version: c.version,
  firstCreated: c.firstCreated,
  versionCreated: c.versionCreated,
  pubStatus: c.pubStatus,
  embargoedUntil: c.embargoedUntil,
  raw: raw as Prisma.InputJsonValue,
});

/** An embargo still to come; one already past has been released. */
const pending = (d: Date | null) => (d && d.getTime() > Date.now() ? d : null);

/**
 * The embargo of a new version: the agency's when it sets one; when it no
 * longer does, the article's is lifted only if it was the agency's (an
 * embargo an editor set stays).
 */
function embargoChange(c: WireContent, agencyBefore: Date | null, articleNow: Date | null): { embargoedUntil?: Date | null } {
  const next = pending(c.embargoedUntil);
  if (next) return { embargoedUntil: next };
  if (articleNow && agencyBefore && articleNow.getTime() === agencyBefore.getTime()) return { embargoedUntil: null };
  return {};
}

/**
 * Creates or updates the article of `item`. A version older than the one
 * last ingested answers 409 (agencies resend; out-of-order delivery must not
 * roll a story back); the same version again changes nothing. A canceled
 * item is recorded here; withdrawing the article is the caller's next step.
 */
export async function ingestItem(
  prisma: PrismaClient, sanitizer: BodySanitizer, actor: Actor, item: NinjsItem, opts: IngestOptions = {},
): Promise<IngestResult> {
  const c = readItem(item);
  if (!c.source && opts.source) c.source = opts.source.trim() || null;
  check(c, opts);
  const canceled = c.pubStatus === "canceled";
  // Sanitized before the transaction, never inside one (it waits for a worker).
  const body = canceled ? undefined : await sanitizer.sanitize(c.body, c.bodyPath);

  return prisma.$transaction(async (tx) => {
    const known = await tx.wireItem.findUnique({ where: { uri: c.uri }, select: { articleId: true } });
    if (!known) {
      if (canceled) throw new HttpError(404, "not-found", `No article was made from the item ${c.uri}; nothing to cancel.`);
      if (!opts.section) {
        throw badRequest("The request is invalid.", [{ path: "query.section", message: "Name the section (slug) a new item goes into." }]);
      }
      const section = await tx.section.findUnique({ where: { slug: opts.section }, select: { id: true } });
      if (!section) throw badRequest("The request is invalid.", [{ path: "query.section", message: `No section with slug "${opts.section}".` }]);
      const created = await tx.article.create({
        data: {
          slug: await uniqueSlug(tx, slugify(c.headline!)),
          headline: c.headline!,
          summary: c.summary,
          dateline: c.dateline,
          source: c.source,
          byline: c.byline,
          body: body!.body,
          bodyText: body!.bodyText,
          status: "DRAFT",
          sectionId: section.id,
          authorId: actor.id,
          language: c.language,
          // The agency's embargo holds the story off every public surface until then (src/articles/embargo.ts).
          embargoedUntil: pending(c.embargoedUntil),
        },
        select: { id: true },
      });
      const tags = await tagIds(tx, c.tags);
      if (tags.length) await tx.articleTag.createMany({ data: tags.map((tagId) => ({ articleId: created.id, tagId })) });
      const wire = await tx.wireItem.create({ data: { uri: c.uri, articleId: created.id, ...wireData(c, item) }, select: wireSelect });
      const row = await recordIngest(tx, actor, null, created.id, c);
      // A draft: no public response shows it yet.
      await emit(tx, await articleEvent(tx, "created", null, articleState(row), { actorId: actor.id }));
      return { outcome: "created" as const, article: row, wire, content: c };
    }

    const id = known.articleId;
    // The article row first (as every article write locks it), then the item's.
    await tx.$queryRaw`SELECT id FROM "Article" WHERE id = ${id} FOR UPDATE`;
    const stored = await tx.wireItem.findUniqueOrThrow({ where: { articleId: id }, select: { ...wireSelect, raw: true } });
    const existing = await getArticleAdmin(tx, id);
    const order = compareVersions(c, stored);
    if (order < 0) {
      throw conflict(`The article already has a later version of this item (${stored.version ?? stored.versionCreated?.toISOString()}).`, "stale-item");
    }
    const { raw: _raw, ...storedWire } = stored;
    // Compared as values: jsonb does not keep the order of keys.
    if (order === 0 && isDeepStrictEqual(stored.raw, item)) {
      return { outcome: "unchanged" as const, article: existing, wire: storedWire, content: c };
    }
    const wire = await tx.wireItem.update({
      where: { articleId: id },
      data: { ...wireData(c, item), ingestCount: { increment: 1 }, receivedAt: new Date() },
      select: wireSelect,
    });
    if (canceled) return { outcome: "canceled" as const, article: existing, wire, content: c };
    if (existing.deletedAt) throw conflict("The article made from this item is in the trash; restore it first.", "in-trash");
    await tx.article.update({
      where: { id },
      data: {
        headline: c.headline!,
        summary: c.summary,
        dateline: c.dateline,
        byline: c.byline,
        ...(c.source ? { source: c.source } : {}),
        ...(c.language ? { language: c.language } : {}),
        body: body!.body,
        bodyText: body!.bodyText,
        ...embargoChange(c, stored.embargoedUntil, existing.embargoedUntil),
        version: { increment: 1 },
      },
    });
    // The agency's subjects replace the tags only when it sends some; editors' tags stay in the revisions.
    if (c.tags.length) {
      const tags = await tagIds(tx, c.tags);
      await tx.articleTag.deleteMany({ where: { articleId: id } });
      await tx.articleTag.createMany({ data: tags.map((tagId) => ({ articleId: id, tagId })) });
    }
    const row = await recordIngest(tx, actor, contentOf(existing), id, c);
    // An embargo set or lifted by the agency hides or shows the story: the event says so (webhooks, purges).
    const type = embargoEventType("updated", articleState(existing), articleState(row));
    await emit(tx, await articleEvent(tx, type, articleState(existing), articleState(row), { actorId: actor.id }));
    return { outcome: "updated" as const, article: row, wire, content: c };
  });
}

/** The item an article was made from, if any. */
export function wireOf(db: PrismaClient | Tx, articleId: number): Promise<WireRow | null> {
  return db.wireItem.findUnique({ where: { articleId }, select: wireSelect });
}

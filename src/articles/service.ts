// Articles: the editor-side writes and the public reads. Writes that touch an
// article together with its credited editors, tags and related list run in
// one transaction; reads fetch a page with its relations in a fixed, small
// number of queries.
import type { ArticleKind, ArticleStatus, Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { HttpError, badRequest, conflict, forbidden, notFound, type FieldError } from "../http/errors.ts";
import { checkIfMatch, preconditionFailed, type IfMatch } from "../http/preconditions.ts";
import { adminArticle } from "./mappers.ts";
import { mediaRefSelect } from "../media/mappers.ts";
import { contentOf, diff, saveRevision, type ArticleContent } from "./revisions.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { loadTree, type SectionTree } from "../sections/service.ts";
import { slugify } from "./sanitize.ts";
import { approvedCommentCounts } from "../comments/service.ts";
import { tooComplex, type BodySanitizer, type SanitizedBody } from "./sanitize-pool.ts";
import { emit, type ChangeEventInput } from "../events/outbox.ts";
import { articleEvent, articleState } from "../events/keys.ts";
import { creditsInclude, replaceCredits, resolveCredits, type CreditInput } from "../authors/service.ts";
import { assertNotLocked, editLockSelect } from "./locks.ts";
import { assertEmbargo, embargoEventType } from "./embargo.ts";

type Tx = Prisma.TransactionClient;

export interface ArticleInput {
  slug?: string;
  headline?: string;
  summary?: string;
  dateline?: string | null;
  source?: string | null;
  byline?: string | null;
  body?: string;
  kind?: ArticleKind;
  section?: string;
  editors?: number[];
  related?: number[];
  tags?: string[];
  leadImage?: number | null;
  gallery?: { media: number; caption?: string }[];
  commentsClosed?: boolean;
  /** BCP 47, normalized; null: inherit the section's (then SITE_LANGUAGE). */
  language?: string | null;
  /** Join the translation group of this article (creating it); null: leave the group. */
  translationOf?: number | null;
  /** Update only: moves the public updatedAt (editorialUpdatedAt) to now. */
  significantUpdate?: boolean;
  /** A pending embargo (in the future), or null to lift it (src/articles/embargo.ts). */
  embargoedUntil?: Date | null;
  /** Credited author profiles, in byline order (src/authors); replaces the list. */
  authors?: CreditInput[];
}

export const adminArticleInclude = {
  section: { select: { id: true, slug: true, name: true } },
  author: { select: { id: true, name: true } },
  editors: { orderBy: { position: "asc" }, select: { editor: { select: { id: true, name: true } } } },
  tags: { select: { tag: { select: { slug: true, name: true } } }, orderBy: { tag: { slug: "asc" } } },
  related: {
    orderBy: { position: "asc" },
    select: { related: { select: { id: true, slug: true, headline: true, kind: true, status: true } } },
  },
  leadImage: { select: mediaRefSelect },
  gallery: { orderBy: { position: "asc" }, select: { caption: true, media: { select: mediaRefSelect } } },
  // The advisory edit lock (src/articles/locks.ts): lockedBy, and 423 for other editors' writes.
  editLock: { select: editLockSelect },
  // Credited author profiles (src/authors).
  authorCredits: creditsInclude,
} satisfies Prisma.ArticleInclude;

export type AdminArticleRow = Prisma.ArticleGetPayload<{ include: typeof adminArticleInclude }>;

const invalid = (errors: FieldError[]) => badRequest("The request is invalid.", errors);

function titleCase(slug: string): string {
  return slug
    .split("-")
    .map((w) => (w ? w[0].toUpperCase() + w.slice(1) : w))
    .join(" ");
}

async function uniqueSlug(tx: Tx, base: string, exceptId?: number): Promise<string> {
  const root = base || "article";
  const taken = new Set(
    (
      await tx.article.findMany({
        where: { slug: { startsWith: root }, ...(exceptId ? { id: { not: exceptId } } : {}) },
        select: { slug: true },
      })
    ).map((a) => a.slug),
  );
  if (!taken.has(root)) return root;
  for (let n = 2; ; n++) {
    const candidate = `${root}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Turns slugs and ids from the request into row ids, or a 400 naming each bad one. */
async function resolveRefs(tx: Tx, input: ArticleInput, selfId?: number, actor?: Actor) {
  const errors: FieldError[] = [];
  let sectionId: number | undefined;
  if (input.section !== undefined) {
    const s = await tx.section.findUnique({ where: { slug: input.section }, select: { id: true } });
    if (!s) errors.push({ path: "body.section", message: `No section with slug "${input.section}".` });
    else sectionId = s.id;
  }
  if (input.editors?.length) {
    const found = new Set(
      (await tx.editor.findMany({ where: { id: { in: input.editors } }, select: { id: true } })).map((e) => e.id),
    );
    input.editors.forEach((id, i) => {
      if (!found.has(id)) errors.push({ path: `body.editors.${i}`, message: `No editor with id ${id}.` });
    });
  }
  if (input.related?.length) {
    const found = new Set(
      (await tx.article.findMany({
        where: { id: { in: input.related }, ...(actor ? readableBy(actor) : {}) },
        select: { id: true },
      })).map((a) => a.id),
    );
    input.related.forEach((id, i) => {
      if (id === selfId) errors.push({ path: `body.related.${i}`, message: "An article cannot recommend itself." });
      else if (!found.has(id)) errors.push({ path: `body.related.${i}`, message: `No article with id ${id}.` });
    });
  }
  const mediaIds = [
    ...(input.leadImage ? [input.leadImage] : []),
    ...(input.gallery ?? []).map((g) => g.media),
  ];
  if (mediaIds.length) {
    const found = new Set(
      (await tx.media.findMany({ where: { id: { in: mediaIds } }, select: { id: true } })).map((m) => m.id),
    );
    if (input.leadImage && !found.has(input.leadImage)) {
      errors.push({ path: "body.leadImage", message: `No image with id ${input.leadImage}.` });
    }
    (input.gallery ?? []).forEach((g, i) => {
      if (!found.has(g.media)) errors.push({ path: `body.gallery.${i}.media`, message: `No image with id ${g.media}.` });
    });
  }
  if (errors.length) throw invalid(errors);
  let tagIds: number[] | undefined;
  if (input.tags) {
    tagIds = [];
    for (const slug of input.tags) {
      const tag = await tx.tag.upsert({
        where: { slug },
        create: { slug, name: titleCase(slug) },
        update: {},
        select: { id: true },
      });
      tagIds.push(tag.id);
    }
  }
  return { sectionId, tagIds };
}

/** `body`: input.body as sanitized before the transaction (never inside one: it waits for a worker). */
function contentFields(input: ArticleInput, body?: SanitizedBody) {
  const data: Prisma.ArticleUncheckedUpdateInput = {};
  if (input.headline !== undefined) data.headline = input.headline;
  if (input.summary !== undefined) data.summary = input.summary;
  if (input.dateline !== undefined) data.dateline = input.dateline;
  if (input.source !== undefined) data.source = input.source;
  if (input.byline !== undefined) data.byline = input.byline;
  if (input.kind !== undefined) data.kind = input.kind;
  if (input.leadImage !== undefined) data.leadImageId = input.leadImage;
  if (input.commentsClosed !== undefined) data.commentsClosed = input.commentsClosed;
  if (input.language !== undefined) data.language = input.language;
  if (input.embargoedUntil !== undefined) data.embargoedUntil = input.embargoedUntil;
  if (body) {
    data.body = body.body;
    data.bodyText = body.bodyText;
  }
  return data;
}

async function replaceLinks(tx: Tx, articleId: number, input: ArticleInput, tagIds?: number[]) {
  if (input.editors) {
    await tx.articleEditor.deleteMany({ where: { articleId } });
    await tx.articleEditor.createMany({
      data: input.editors.map((editorId, position) => ({ articleId, editorId, position })),
    });
  }
  if (input.related) {
    await tx.articleRelated.deleteMany({ where: { articleId } });
    await tx.articleRelated.createMany({
      data: input.related.map((relatedId, position) => ({ articleId, relatedId, position })),
    });
  }
  if (input.gallery) {
    await tx.galleryItem.deleteMany({ where: { articleId } });
    await tx.galleryItem.createMany({
      data: input.gallery.map((g, position) => ({ articleId, mediaId: g.media, position, caption: g.caption ?? "" })),
    });
  }
  if (tagIds) {
    await tx.articleTag.deleteMany({ where: { articleId } });
    await tx.articleTag.createMany({ data: tagIds.map((tagId) => ({ articleId, tagId })) });
  }
}

// ---- translations ----

/** The id of the group a new translation group is given: after the article it started from. */
const groupIdFor = (articleId: number) => `tg-${articleId}`;

/**
 * The translation group `input.translationOf` asks for: the named article's
 * group, or a new one (then also written to that article, with a revision
 * and an audit entry; its change event is returned for the caller's emit,
 * which comes last). group undefined: unchanged.
 */
async function resolveTranslation(
  tx: Tx, actor: Actor, input: ArticleInput, selfId?: number,
): Promise<{ group: string | null | undefined; events: ChangeEventInput[] }> {
  const none = { events: [] as ChangeEventInput[] };
  if (input.translationOf === undefined) return { group: undefined, ...none };
  if (input.translationOf === null) return { group: null, ...none };
  const targetId = input.translationOf;
  if (targetId === selfId) throw invalid([{ path: "body.translationOf", message: "An article cannot be a translation of itself." }]);
  const target = await tx.article.findFirst({
    where: { id: targetId, deletedAt: null, ...readableBy(actor) },
    select: { id: true, translationGroup: true },
  });
  if (!target) throw invalid([{ path: "body.translationOf", message: `No article with id ${targetId}.` }]);
  if (target.translationGroup) return { group: target.translationGroup, ...none };
  // The article named starts the group: it is written too.
  await lockForWrite(tx, target.id);
  const existing = await getArticleAdmin(tx, target.id);
  if (existing.translationGroup) return { group: existing.translationGroup, ...none };
  assertCanEdit(actor, existing);
  assertNotLocked(actor, existing);
  const group = groupIdFor(target.id);
  await tx.article.update({ where: { id: target.id }, data: { translationGroup: group, version: { increment: 1 } } });
  const row = await recordSave(tx, actor, "translation-linked", contentOf(existing), target.id, selfId ? { translation: selfId } : {});
  return { group, events: [await articleEvent(tx, "updated", articleState(existing), articleState(row), { actorId: actor.id })] };
}

// ---- writes ----

const loadAdmin = (tx: Tx, id: number) => tx.article.findUniqueOrThrow({ where: { id }, include: adminArticleInclude });

/** Records a save: a revision with the full content, and an audit entry. */
async function recordSave(
  tx: Tx,
  actor: Actor | null,
  action: string,
  before: ArticleContent | null,
  id: number,
  details: Record<string, unknown> = {},
): Promise<AdminArticleRow> {
  const row = await loadAdmin(tx, id);
  const after = contentOf(row);
  const revision = await saveRevision(tx, id, actor?.id ?? null, action, before, after);
  await audit(tx, {
    actorId: actor?.id ?? null,
    action: `article.${action}`,
    targetType: "article",
    targetId: id,
    ip: actor?.ip,
    details: { revision, changed: diff(before, after).map((d) => d.field), ...details } as Prisma.InputJsonValue,
  });
  return row;
}

/**
 * Locks the article row for the rest of the transaction, before it is read.
 * What the write then checks (status, version, owner) cannot change under
 * it: a client that sent no If-Match gets success or a 409 saying what the
 * article is now, never a 412 for a precondition it did not send; one that
 * sent If-Match gets 412 only when its ETag really is stale.
 */
async function lockForWrite(tx: Tx, id: number): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Article" WHERE id = ${id} FOR UPDATE`;
}

/**
 * Writes `data` only if the article still has `version`, bumping it. Of two
 * concurrent writers holding the same version, the second finds 0 rows (on
 * PostgreSQL it waits for the first's row lock, then re-checks) and gets 412.
 */
async function writeVersioned(tx: Tx, id: number, version: number, data: Prisma.ArticleUncheckedUpdateManyInput) {
  const { count } = await tx.article.updateMany({ where: { id, version }, data: { ...data, version: { increment: 1 } } });
  if (count === 0) {
    const current = await loadAdmin(tx, id);
    throw preconditionFailed(current.version, adminArticle(current));
  }
}

export async function createArticle(
  prisma: PrismaClient,
  sanitizer: BodySanitizer,
  actor: Actor,
  input: ArticleInput & { headline: string; section: string },
): Promise<AdminArticleRow> {
  assertEmbargo(input.embargoedUntil);
  const { body, bodyText } = await sanitizer.sanitize(input.body ?? "");
  return prisma.$transaction(async (tx) => {
    const { sectionId, tagIds } = await resolveRefs(tx, input, undefined, actor);
    const translation = await resolveTranslation(tx, actor, input);
    const credits = await resolveCredits(tx, input.authors);
    const slug = input.slug ?? (await uniqueSlug(tx, slugify(input.headline)));
    const created = await tx.article.create({
      data: {
        slug,
        headline: input.headline,
        summary: input.summary ?? "",
        dateline: input.dateline ?? null,
        source: input.source ?? null,
        byline: input.byline ?? null,
        body,
        bodyText,
        kind: input.kind ?? "STORY",
        status: "DRAFT",
        sectionId: sectionId!,
        authorId: actor.id,
        leadImageId: input.leadImage ?? null,
        commentsClosed: input.commentsClosed ?? false,
        language: input.language ?? null,
        translationGroup: translation.group ?? null,
        embargoedUntil: input.embargoedUntil ?? null,
      },
      select: { id: true },
    });
    await replaceLinks(tx, created.id, input, tagIds);
    await replaceCredits(tx, created.id, credits);
    const row = await recordSave(tx, actor, "create", null, created.id);
    // A new article is a draft: no public response shows it yet (no keys).
    await emit(tx, [...translation.events, await articleEvent(tx, "created", null, articleState(row), { actorId: actor.id })]);
    return row;
  });
}

const LOCKED_FOR_WRITERS: ArticleStatus[] = ["PUBLISHED", "SCHEDULED", "ARCHIVED", "WITHDRAWN"];

// Who may read what in the editor API. A newsroom keeps a story between its
// writer and the desk until it runs: WRITERs read their own articles, those
// that credit them as a desk editor (shared with them), and what is
// published; EDITOR and ADMIN read everything. An article a writer may not
// read answers 404, exactly like one that does not exist, so ids are no
// oracle for other people's drafts.

/** The filter that limits an article query to what `actor` may read. */
export function readableBy(actor: Pick<Actor, "id" | "role">): Prisma.ArticleWhereInput {
  if (actor.role !== "WRITER") return {};
  return {
    OR: [
      { authorId: actor.id },
      { editors: { some: { editorId: actor.id } } },
      { status: "PUBLISHED", deletedAt: null },
    ],
  };
}

/** readableBy for a row already loaded with adminArticleInclude. */
function canRead(actor: Pick<Actor, "id" | "role">, a: AdminArticleRow): boolean {
  return actor.role !== "WRITER"
    || a.authorId === actor.id
    || a.editors.some((e) => e.editor.id === actor.id)
    || (a.status === "PUBLISHED" && a.deletedAt === null);
}

/** An article the actor may read, or 404. */
export async function getArticleFor(db: PrismaClient | Tx, actor: Pick<Actor, "id" | "role">, id: number): Promise<AdminArticleRow> {
  const a = await getArticleAdmin(db, id);
  if (!canRead(actor, a)) throw notFound("Article");
  return a;
}

/** WRITERs edit their own articles until they are scheduled or published; EDITOR+ edit any. */
export function assertCanEdit(actor: Actor, article: AdminArticleRow) {
  if (actor.role !== "WRITER") return;
  if (!canRead(actor, article)) throw notFound("Article");
  if (article.authorId !== actor.id) throw forbidden("Writers can only change their own articles.");
  if (LOCKED_FOR_WRITERS.includes(article.status)) {
    throw forbidden(`Writers cannot change an article that is ${article.status}.`);
  }
}

const inTrash = () => conflict("The article is in the trash; restore it first.", "in-trash");

export async function updateArticle(
  prisma: PrismaClient,
  sanitizer: BodySanitizer,
  actor: Actor,
  id: number,
  input: ArticleInput,
  ifMatch: IfMatch | null,
): Promise<AdminArticleRow> {
  assertEmbargo(input.embargoedUntil);
  const body = input.body === undefined ? undefined : await sanitizer.sanitize(input.body);
  return prisma.$transaction(async (tx) => {
    await lockForWrite(tx, id);
    const existing = await getArticleAdmin(tx, id);
    assertCanEdit(actor, existing);
    assertNotLocked(actor, existing);
    const version = checkIfMatch(ifMatch, existing.version, true, () => adminArticle(existing));
    if (existing.deletedAt) throw inTrash();
    if (input.gallery?.length && (input.kind ?? existing.kind) !== "PHOTO_STORY") {
      throw invalid([{ path: "body.gallery", message: "Only PHOTO_STORY articles have a gallery." }]);
    }
    if (input.significantUpdate && existing.status !== "PUBLISHED" && existing.status !== "ARCHIVED") {
      throw invalid([{
        path: "body.significantUpdate",
        message: `Only an update of a published article can be significant (this one is ${existing.status}); mark the publish instead.`,
      }]);
    }
    const { sectionId, tagIds } = await resolveRefs(tx, input, id, actor);
    const translation = await resolveTranslation(tx, actor, input, id);
    const credits = await resolveCredits(tx, input.authors);
    await writeVersioned(tx, id, version, {
      ...contentFields(input, body),
      ...(input.slug ? { slug: input.slug } : {}),
      ...(sectionId ? { sectionId } : {}),
      ...(translation.group !== undefined ? { translationGroup: translation.group } : {}),
      ...(input.significantUpdate ? { editorialUpdatedAt: new Date() } : {}),
    });
    await replaceLinks(tx, id, input, tagIds);
    await replaceCredits(tx, id, credits);
    const row = await recordSave(tx, actor, "update", contentOf(existing), id, {
      ...(input.significantUpdate ? { significantUpdate: true } : {}),
      ...(input.embargoedUntil !== undefined ? { embargoedUntil: input.embargoedUntil?.toISOString() ?? null } : {}),
    });
    // Setting or lifting an embargo hides or shows the article (src/articles/embargo.ts).
    const type = embargoEventType("updated", articleState(existing), articleState(row));
    await emit(tx, [...translation.events, await articleEvent(tx, type, articleState(existing), articleState(row), { actorId: actor.id })]);
    return row;
  });
}

/** DELETE moves an article to the trash; it stays restorable for the retention period. */
export async function trashArticle(prisma: PrismaClient, actor: Actor, id: number, ifMatch: IfMatch | null) {
  await prisma.$transaction(async (tx) => {
    await lockForWrite(tx, id);
    const existing = await getArticleAdmin(tx, id);
    assertCanEdit(actor, existing);
    assertNotLocked(actor, existing);
    const version = checkIfMatch(ifMatch, existing.version, true, () => adminArticle(existing));
    if (existing.deletedAt) throw inTrash();
    const deletedAt = new Date();
    await writeVersioned(tx, id, version, { deletedAt });
    await audit(tx, { actorId: actor.id, action: "article.trash", targetType: "article", targetId: id, ip: actor.ip });
    const before = articleState(existing);
    await emit(tx, await articleEvent(tx, "trashed", before, { ...before, deletedAt }, { actorId: actor.id }));
  });
}

export async function restoreFromTrash(prisma: PrismaClient, actor: Actor, id: number, retentionDays: number) {
  return prisma.$transaction(async (tx) => {
    await lockForWrite(tx, id);
    const existing = await getArticleAdmin(tx, id);
    if (!existing.deletedAt) throw conflict("The article is not in the trash.", "not-in-trash");
    assertNotLocked(actor, existing);
    if (existing.deletedAt.getTime() + retentionDays * 86400_000 < Date.now()) {
      throw new HttpError(410, "trash-expired", `The article was trashed more than ${retentionDays} days ago.`);
    }
    await writeVersioned(tx, id, existing.version, { deletedAt: null });
    await audit(tx, { actorId: actor.id, action: "article.restore", targetType: "article", targetId: id, ip: actor.ip });
    const row = await loadAdmin(tx, id);
    await emit(tx, await articleEvent(tx, "restored", articleState(existing), articleState(row), { actorId: actor.id }));
    return row;
  });
}

/** Deletes a trashed article for good, with its revisions and comments. */
export async function purgeArticle(prisma: PrismaClient, actor: Actor | null, id: number) {
  await prisma.$transaction(async (tx) => {
    const existing = await tx.article.findUnique({ where: { id }, select: { deletedAt: true, slug: true, headline: true } });
    if (!existing) throw notFound("Article");
    if (!existing.deletedAt) throw conflict("Only articles in the trash can be purged; DELETE it first.", "not-in-trash");
    await tx.article.delete({ where: { id } });
    await audit(tx, {
      actorId: actor?.id ?? null, action: "article.purge", targetType: "article", targetId: id, ip: actor?.ip,
      details: { slug: existing.slug, headline: existing.headline },
    });
    // Trashed, so already out of every public response: consumers learn the row is gone for good.
    await emit(tx, {
      type: "article.purged", entityType: "article", entityId: id, keys: [], actorId: actor?.id ?? null,
      data: { slug: existing.slug },
    });
  });
}

// ---- workflow ----

export type Transition = "submit" | "return" | "schedule" | "publish" | "unpublish" | "archive";

// Which statuses each action leaves from, and where it goes. Role rules are
// on the routes (EDITOR+ for all but submit), plus assertCanEdit for submit.
export const TRANSITIONS: Record<Transition, { from: ArticleStatus[]; to: ArticleStatus }> = {
  submit: { from: ["DRAFT"], to: "IN_REVIEW" },
  return: { from: ["IN_REVIEW", "SCHEDULED"], to: "DRAFT" },
  schedule: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED"], to: "SCHEDULED" },
  publish: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED", "ARCHIVED"], to: "PUBLISHED" },
  unpublish: { from: ["PUBLISHED"], to: "DRAFT" },
  archive: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED", "PUBLISHED"], to: "ARCHIVED" },
};

/** The change event each action appends (article.<name>). */
const TRANSITION_EVENTS: Record<Transition, string> = {
  submit: "submitted",
  return: "returned",
  schedule: "scheduled",
  publish: "published",
  unpublish: "unpublished",
  archive: "archived",
};

// Clock skew tolerated for an explicit publishedAt "now" from a client.
const FUTURE_TOLERANCE_MS = 60_000;

export interface TransitionOptions {
  note?: string;
  scheduledAt?: Date;
  publishedAt?: Date;
  /** Publish only: the public updatedAt (editorialUpdatedAt) moves to now. */
  significantUpdate?: boolean;
}

/**
 * editorialUpdatedAt when an article is published at `publishedAt`: now for a
 * significant update; else never earlier than the publication (a first
 * publication, or a republication later than the last significant update, sets it to publishedAt).
 */
function editorialTimeOnPublish(current: Date | null, publishedAt: Date, significant: boolean | undefined): Date {
  if (significant) return new Date(Math.max(Date.now(), publishedAt.getTime()));
  return current && current >= publishedAt ? current : publishedAt;
}

export async function transition(
  prisma: PrismaClient,
  actor: Actor,
  id: number,
  action: Transition,
  opts: TransitionOptions,
  ifMatch: IfMatch | null,
): Promise<AdminArticleRow> {
  if (opts.publishedAt && opts.publishedAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
    throw invalid([{ path: "body.publishedAt", message: "Must not be in the future; use /schedule to publish later." }]);
  }
  if (opts.scheduledAt && opts.scheduledAt.getTime() <= Date.now()) {
    throw invalid([{ path: "body.scheduledAt", message: "Must be in the future." }]);
  }
  const rule = TRANSITIONS[action];
  return prisma.$transaction(async (tx) => {
    await lockForWrite(tx, id);
    const existing = await getArticleAdmin(tx, id);
    if (action === "submit") assertCanEdit(actor, existing);
    assertNotLocked(actor, existing);
    const version = checkIfMatch(ifMatch, existing.version, false, () => adminArticle(existing));
    if (existing.deletedAt) throw inTrash();
    if (!rule.from.includes(existing.status)) {
      throw new HttpError(409, "invalid-transition",
        `Cannot ${action} an article that is ${existing.status} (to ${rule.to}); allowed from ${rule.from.join(", ")}.`,
        undefined, undefined, { currentStatus: existing.status, requestedStatus: rule.to });
    }
    const data: Prisma.ArticleUncheckedUpdateManyInput = { status: rule.to };
    if (action === "submit") data.reviewNote = null;
    if (action === "return") Object.assign(data, { reviewNote: opts.note ?? null, scheduledAt: null });
    if (action === "schedule") data.scheduledAt = opts.scheduledAt;
    if (action === "publish") {
      // Bringing an archived story back keeps its original time unless one is given.
      const keep = existing.status === "ARCHIVED" ? existing.publishedAt : null;
      const publishedAt = opts.publishedAt ?? keep ?? new Date();
      Object.assign(data, {
        publishedAt, scheduledAt: null,
        editorialUpdatedAt: editorialTimeOnPublish(existing.editorialUpdatedAt, publishedAt, opts.significantUpdate),
      });
    }
    if (action === "archive") data.scheduledAt = null;
    await writeVersioned(tx, id, version, data);
    const row = await recordSave(tx, actor, action, contentOf(existing), id, {
      from: existing.status, to: rule.to, ...(opts.note ? { note: opts.note } : {}),
      ...(action === "publish" && opts.significantUpdate ? { significantUpdate: true } : {}),
    });
    await emit(tx, await articleEvent(tx, TRANSITION_EVENTS[action], articleState(existing), articleState(row), {
      actorId: actor.id, data: { from: existing.status, to: rule.to },
    }));
    return row;
  });
}

/**
 * Publishes every SCHEDULED article that is due. Safe with several app
 * instances on one database: rows are claimed with FOR UPDATE SKIP LOCKED
 * and re-checked after the lock, so each article is published exactly once.
 */
export async function publishDue(prisma: PrismaClient, batch = 50): Promise<number[]> {
  return prisma.$transaction(async (tx) => {
    const due = await tx.$queryRaw<{ id: number }[]>`
      SELECT id FROM "Article"
       WHERE status = 'SCHEDULED' AND "scheduledAt" <= now() AND "deletedAt" IS NULL
       ORDER BY "scheduledAt", id
       LIMIT ${batch}
       FOR UPDATE SKIP LOCKED`;
    const published: number[] = [];
    const events = [];
    for (const { id } of due) {
      const existing = await loadAdmin(tx, id);
      await tx.article.update({
        where: { id },
        data: {
          status: "PUBLISHED", publishedAt: existing.scheduledAt, scheduledAt: null, version: { increment: 1 },
          editorialUpdatedAt: editorialTimeOnPublish(existing.editorialUpdatedAt, existing.scheduledAt!, false),
        },
      });
      const row = await recordSave(tx, null, "scheduled-publish", contentOf(existing), id, { from: "SCHEDULED", to: "PUBLISHED" });
      events.push(await articleEvent(tx, "published", articleState(existing), articleState(row), {
        data: { from: "SCHEDULED", to: "PUBLISHED", scheduled: true },
      }));
      published.push(id);
    }
    // One emit, after every row lock of the batch.
    await emit(tx, events);
    return published;
  });
}

/** Purges articles that have been in the trash longer than the retention period. */
export async function purgeExpiredTrash(prisma: PrismaClient, retentionDays: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionDays * 86400_000);
  const expired = await prisma.article.findMany({ where: { deletedAt: { lt: cutoff } }, select: { id: true }, take: 100 });
  for (const { id } of expired) await purgeArticle(prisma, null, id);
  return expired.length;
}

export async function restoreRevision(
  prisma: PrismaClient,
  sanitizer: BodySanitizer,
  actor: Actor,
  id: number,
  number: number,
  ifMatch: IfMatch | null,
): Promise<AdminArticleRow> {
  // Revisions never change, so the stored body can be sanitized again (the
  // allow-list may have changed since) before the transaction opens; a
  // failure is reported only after the access checks below.
  const stored = await prisma.articleRevision.findUnique({
    where: { articleId_number: { articleId: id, number } },
    select: { content: true },
  });
  const body = stored ? await sanitizeRevisionBody(sanitizer, stored.content as unknown as ArticleContent, number) : undefined;
  return prisma.$transaction(async (tx) => {
    await lockForWrite(tx, id);
    const existing = await getArticleAdmin(tx, id);
    assertCanEdit(actor, existing);
    assertNotLocked(actor, existing);
    const version = checkIfMatch(ifMatch, existing.version, false, () => adminArticle(existing));
    if (existing.deletedAt) throw inTrash();
    const rev = await tx.articleRevision.findUnique({ where: { articleId_number: { articleId: id, number } } });
    if (!rev || !body) throw notFound("Revision");
    if (body instanceof HttpError) throw body;
    const c = rev.content as unknown as ArticleContent;
    // References may have gone since: drop missing editors and related stories.
    // Sequential: overlapping queries on a transaction's one connection are deprecated in pg.
    const editors = await tx.editor.findMany({ where: { id: { in: c.editors } }, select: { id: true } });
    const related = await tx.article.findMany({ where: { id: { in: c.related } }, select: { id: true } });
    const section = await tx.section.findUnique({ where: { slug: c.section }, select: { id: true } });
    const keepEditors = new Set(editors.map((e) => e.id));
    const keepRelated = new Set(related.map((r) => r.id));
    const input: ArticleInput = {
      headline: c.headline, summary: c.summary, dateline: c.dateline, source: c.source, byline: c.byline,
      body: c.body, kind: c.kind as ArticleKind,
      editors: c.editors.filter((e) => keepEditors.has(e)),
      related: c.related.filter((r) => keepRelated.has(r)),
      tags: c.tags,
      commentsClosed: c.commentsClosed ?? false,
      // Revisions saved before languages existed leave the language as it is.
      ...("language" in c ? { language: c.language ?? null } : {}),
    };
    // Images deleted since are dropped rather than failing the restore.
    const imageIds = [...(c.leadImage ? [c.leadImage] : []), ...(c.gallery ?? []).map((g) => g.media)];
    const images = new Set((await tx.media.findMany({ where: { id: { in: imageIds } }, select: { id: true } })).map((m) => m.id));
    input.leadImage = c.leadImage && images.has(c.leadImage) ? c.leadImage : null;
    input.gallery = (c.gallery ?? []).filter((g) => images.has(g.media));
    const { tagIds } = await resolveRefs(tx, { tags: c.tags }, id);
    await writeVersioned(tx, id, version, {
      ...contentFields(input, body),
      slug: c.slug,
      ...(section ? { sectionId: section.id } : {}),
    });
    await replaceLinks(tx, id, input, tagIds);
    const row = await recordSave(tx, actor, "restore-revision", contentOf(existing), id, { restoredRevision: number });
    await emit(tx, await articleEvent(tx, "revision-restored", articleState(existing), articleState(row), {
      actorId: actor.id, data: { revision: number },
    }));
    return row;
  });
}

/** A body saved before the current limits may exceed them: that is the revision's problem (422), not the request's. */
async function sanitizeRevisionBody(
  sanitizer: BodySanitizer,
  c: ArticleContent,
  number: number,
): Promise<SanitizedBody | HttpError> {
  try {
    return await sanitizer.sanitize(c.body);
  } catch (err) {
    if (err instanceof HttpError && (err.status === 400 || err.status === 422)) {
      return tooComplex(undefined, `The body of revision ${number}`);
    }
    throw err;
  }
}

export async function getArticleAdmin(db: PrismaClient | Tx, id: number): Promise<AdminArticleRow> {
  const a = await db.article.findUnique({ where: { id }, include: adminArticleInclude });
  if (!a) throw notFound("Article");
  return a;
}

export interface AdminListQuery {
  trashed?: boolean;
  status?: ArticleStatus;
  section?: string;
  author?: number;
  kind?: ArticleKind;
  /** The members of one translation group (every status). */
  translationGroup?: string;
  limit: number;
  cursor?: string;
}

export async function listArticlesAdmin(prisma: PrismaClient, actor: Pick<Actor, "id" | "role">, q: AdminListQuery) {
  const cursor = decodeCursor(q.cursor);
  const where: Prisma.ArticleWhereInput = {
    ...readableBy(actor),
    deletedAt: q.trashed ? { not: null } : null,
    ...(q.status ? { status: q.status } : {}),
    ...(q.author ? { authorId: q.author } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.translationGroup ? { translationGroup: q.translationGroup } : {}),
    ...(cursor ? { id: { lt: cursor.id } } : {}),
  };
  if (q.section) {
    const tree = await loadTree(prisma);
    const s = tree.bySlug.get(q.section);
    if (!s) throw notFound("Section");
    where.sectionId = { in: tree.descendantIds(s.id) };
  }
  const rows = await prisma.article.findMany({
    where,
    orderBy: { id: "desc" },
    take: q.limit + 1,
    include: adminArticleInclude,
  });
  return paginate(rows, q.limit, (a) => ({ id: a.id }));
}

// ---- public reads: published only ----

export const publicListSelect = {
  id: true,
  slug: true,
  headline: true,
  summary: true,
  kind: true,
  publishedAt: true,
  section: { select: { slug: true, name: true } },
  leadImage: { select: mediaRefSelect },
} satisfies Prisma.ArticleSelect;

export type PublicListRow = Prisma.ArticleGetPayload<{ select: typeof publicListSelect }>;

export const publicArticleInclude = {
  section: { select: { id: true, slug: true, name: true } },
  editors: { orderBy: { position: "asc" }, select: { editor: { select: { name: true } } } },
  tags: { select: { tag: { select: { slug: true, name: true } } }, orderBy: { tag: { slug: "asc" } } },
  related: {
    where: { related: { status: "PUBLISHED", deletedAt: null, embargoedUntil: null } },
    orderBy: { position: "asc" },
    select: { related: { select: { id: true, slug: true, headline: true, kind: true } } },
  },
  leadImage: { select: mediaRefSelect },
  gallery: { orderBy: { position: "asc" }, select: { caption: true, media: { select: mediaRefSelect } } },
  // Issue 12: credited author profiles and corrections (newest first).
  authorCredits: creditsInclude,
  corrections: { orderBy: [{ at: "desc" }, { id: "desc" }], select: { id: true, type: true, text: true, at: true } },
} satisfies Prisma.ArticleInclude;

/** commentCount: see approvedCommentCounts (a relation _count filter aggregated every comment on the site). */
export type PublicArticleRow = Prisma.ArticleGetPayload<{ include: typeof publicArticleInclude }> & { commentCount: number };

/** Statuses readable by slug: PUBLISHED, plus ARCHIVED when configured. */
export const publicStatuses = (archivedPublic: boolean): ArticleStatus[] =>
  archivedPublic ? ["PUBLISHED", "ARCHIVED"] : ["PUBLISHED"];

export async function getArticlePublic(
  prisma: PrismaClient,
  where: { slug: string; statuses: ArticleStatus[] } | { id: number },
): Promise<{ article: PublicArticleRow; tree: SectionTree }> {
  const filter: Prisma.ArticleWhereInput =
    "id" in where ? { id: where.id, deletedAt: null } : { slug: where.slug, status: { in: where.statuses }, deletedAt: null };
  const [article, tree] = await Promise.all([
    prisma.article.findFirst({ where: filter, include: publicArticleInclude }),
    loadTree(prisma),
  ]);
  if (!article) throw notFound("Article");
  const counts = await approvedCommentCounts(prisma, [article.id]);
  return { article: { ...article, commentCount: counts.get(article.id) ?? 0 }, tree };
}

/**
 * "We Recommend" when editors picked none: up to `max` published stories
 * sharing a tag with the article, then from its section, newest first.
 */
export async function automaticRelated(
  prisma: PrismaClient | Tx,
  article: { id: number; sectionId: number; tags: { tag: { slug: string } }[] },
  max = 6,
) {
  const base: Prisma.ArticleWhereInput = { status: "PUBLISHED", deletedAt: null, embargoedUntil: null, id: { not: article.id } };
  const select = { id: true, slug: true, headline: true, kind: true } as const;
  const order = [{ publishedAt: "desc" as const }, { id: "desc" as const }];
  const tagSlugs = article.tags.map((t) => t.tag.slug);
  const byTag = tagSlugs.length
    ? await prisma.article.findMany({
        where: { ...base, tags: { some: { tag: { slug: { in: tagSlugs } } } } },
        orderBy: order,
        take: max,
        select,
      })
    : [];
  if (byTag.length >= max) return byTag;
  const bySection = await prisma.article.findMany({
    where: { ...base, sectionId: article.sectionId, id: { notIn: [article.id, ...byTag.map((a) => a.id)] } },
    orderBy: order,
    take: max - byTag.length,
    select,
  });
  return [...byTag, ...bySection];
}

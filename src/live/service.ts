// Live coverage (issue 12 §6): the entries of a LIVE article. An entry write
// touches only its own row and appends its own change event (key
// entries:<articleId>): the article, its read-model row and its cached
// responses are left alone, so a busy live page does not rebuild the story
// on every post. Every write takes a per-article advisory lock before it
// draws the entry's change sequence (seq), so seq order is commit order per
// article and a reader resuming "after seq N" never misses an earlier one.
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, conflict, forbidden, HttpError, notFound } from "../http/errors.ts";
import { checkIfMatch, type IfMatch } from "../http/preconditions.ts";
import { emit } from "../events/outbox.ts";
import type { BodySanitizer, SanitizedBody } from "../articles/sanitize-pool.ts";
import { getArticleFor } from "../articles/service.ts";

type Tx = Prisma.TransactionClient;

/** The surrogate key of a live article's entry list (and the SSE stream's filter). */
export const entriesKey = (articleId: number) => `entries:${articleId}`;

// Namespace of the two-key advisory locks serializing one article's entry writes.
const ENTRY_LOCK_NS = 72707371;

export interface EntryInput {
  title?: string | null;
  body?: string;
  keyEvent?: boolean;
  pinned?: boolean;
}

const entrySelect = {
  id: true, articleId: true, title: true, body: true, keyEvent: true, pinned: true, version: true, seq: true,
  deletedAt: true, createdAt: true, updatedAt: true, author: { select: { id: true, name: true } },
} satisfies Prisma.LiveEntrySelect;

export type EntryRow = Prisma.LiveEntryGetPayload<{ select: typeof entrySelect }>;

/** The editor API's view of an entry. */
export function adminEntry(e: EntryRow) {
  return {
    id: e.id,
    articleId: e.articleId,
    title: e.title,
    body: e.body,
    keyEvent: e.keyEvent,
    pinned: e.pinned,
    author: e.author ? { id: e.author.id, name: e.author.name } : null,
    version: e.version,
    deleted: e.deletedAt !== null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

/** An entry as readers get it; a deleted one is a tombstone (in ?since= answers and the stream). */
export interface PublicEntryRow {
  id: number;
  title: string | null;
  body: string;
  keyEvent: boolean;
  pinned: boolean;
  authorName: string | null;
  deleted: boolean;
  createdAt: Date | string;
  updatedAt: Date | string;
}

const isoOf = (d: Date | string) => new Date(d).toISOString();

export function publicEntry(e: PublicEntryRow) {
  if (e.deleted) return { id: e.id, deleted: true as const, updatedAt: isoOf(e.updatedAt) };
  return {
    id: e.id,
    title: e.title,
    body: e.body,
    keyEvent: e.keyEvent,
    pinned: e.pinned,
    author: e.authorName === null ? null : { name: e.authorName },
    deleted: false as const,
    createdAt: isoOf(e.createdAt),
    updatedAt: isoOf(e.updatedAt),
  };
}

/** Who may post to a live article: EDITOR+ any; a WRITER one they wrote or are credited on. */
async function liveArticleFor(tx: Tx, actor: Actor, articleId: number) {
  const a = await getArticleFor(tx, actor, articleId);
  if (actor.role === "WRITER" && a.authorId !== actor.id && !a.editors.some((e) => e.editor.id === actor.id)) {
    throw forbidden("Writers can only post to live articles they wrote or are credited on.");
  }
  if (a.deletedAt) throw conflict("The article is in the trash; restore it first.", "in-trash");
  if (a.kind !== "LIVE") throw conflict(`Only LIVE articles have entries (this one is ${a.kind}).`, "not-live");
  return a;
}

async function lockEntries(tx: Tx, articleId: number) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ENTRY_LOCK_NS}::int, ${articleId}::int)`;
}

/** Draws the next change sequence number for an entry (after lockEntries). */
async function bumpSeq(tx: Tx, id: number) {
  await tx.$executeRaw`UPDATE "LiveEntry" SET seq = nextval(pg_get_serial_sequence('"LiveEntry"', 'seq')) WHERE id = ${id}`;
}

const loadEntry = (tx: Tx, id: number) => tx.liveEntry.findUniqueOrThrow({ where: { id }, select: entrySelect });

async function entryEvent(tx: Tx, type: "created" | "updated" | "deleted", e: EntryRow, actor: Actor) {
  await audit(tx, {
    actorId: actor.id, action: `live-entry.${type === "created" ? "create" : type === "updated" ? "update" : "delete"}`,
    targetType: "live-entry", targetId: e.id, ip: actor.ip, details: { articleId: e.articleId },
  });
  await emit(tx, {
    type: `live-entry.${type}`, entityType: "live-entry", entityId: e.id, keys: [entriesKey(e.articleId)],
    actorId: actor.id, data: { articleId: e.articleId, seq: Number(e.seq) },
  });
}

async function sanitizeEntryBody(sanitizer: BodySanitizer, html: string): Promise<SanitizedBody> {
  const body = await sanitizer.sanitize(html, "body.body");
  if (!body.bodyText.trim() && !/<(img|figure|iframe|video|blockquote)\b/i.test(body.body)) {
    throw badRequest("The request is invalid.", [{ path: "body.body", message: "An entry needs some content." }]);
  }
  return body;
}

export async function createEntry(
  prisma: PrismaClient, sanitizer: BodySanitizer, actor: Actor, articleId: number, input: EntryInput & { body: string },
): Promise<EntryRow> {
  const body = await sanitizeEntryBody(sanitizer, input.body);
  return prisma.$transaction(async (tx) => {
    await liveArticleFor(tx, actor, articleId);
    await lockEntries(tx, articleId);
    const created = await tx.liveEntry.create({
      data: {
        articleId, title: input.title ?? null, body: body.body, keyEvent: input.keyEvent ?? false,
        pinned: input.pinned ?? false, authorId: actor.id,
      },
      select: entrySelect,
    });
    await entryEvent(tx, "created", created, actor);
    return created;
  });
}

async function existingEntry(tx: Tx, actor: Actor, articleId: number, entryId: number): Promise<EntryRow> {
  await liveArticleFor(tx, actor, articleId);
  await lockEntries(tx, articleId);
  const e = await tx.liveEntry.findFirst({ where: { id: entryId, articleId }, select: entrySelect });
  if (!e || e.deletedAt) throw notFound("Entry");
  return e;
}

export async function getEntry(prisma: PrismaClient, actor: Actor, articleId: number, entryId: number): Promise<EntryRow> {
  await getArticleFor(prisma, actor, articleId);
  const e = await prisma.liveEntry.findFirst({ where: { id: entryId, articleId }, select: entrySelect });
  if (!e || e.deletedAt) throw notFound("Entry");
  return e;
}

export async function updateEntry(
  prisma: PrismaClient, sanitizer: BodySanitizer, actor: Actor, articleId: number, entryId: number,
  input: EntryInput, ifMatch: IfMatch | null,
): Promise<EntryRow> {
  const body = input.body === undefined ? undefined : await sanitizeEntryBody(sanitizer, input.body);
  return prisma.$transaction(async (tx) => {
    const e = await existingEntry(tx, actor, articleId, entryId);
    const version = checkIfMatch(ifMatch, e.version, true, () => adminEntry(e));
    const { count } = await tx.liveEntry.updateMany({
      where: { id: entryId, version },
      data: {
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...(body ? { body: body.body } : {}),
        ...(input.keyEvent !== undefined ? { keyEvent: input.keyEvent } : {}),
        ...(input.pinned !== undefined ? { pinned: input.pinned } : {}),
        version: { increment: 1 },
      },
    });
    if (count === 0) throw new HttpError(409, "conflict", "The entry changed meanwhile; reload it.");
    await bumpSeq(tx, entryId);
    const row = await loadEntry(tx, entryId);
    await entryEvent(tx, "updated", row, actor);
    return row;
  });
}

export type DeletedFilter = "exclude" | "include" | "only";

/**
 * One page of an article's entries for the editor API, newest first (by id, so
 * the keyset cursor is the last id), pinned, key and deleted ones alike unless
 * filtered. Any kind of article: one that stopped being LIVE keeps its entries.
 */
export async function listEntries(
  prisma: PrismaClient, actor: Actor, articleId: number,
  opts: { limit: number; beforeId?: number; deleted: DeletedFilter },
): Promise<EntryRow[]> {
  await getArticleFor(prisma, actor, articleId);
  return prisma.liveEntry.findMany({
    where: {
      articleId,
      ...(opts.beforeId !== undefined ? { id: { lt: opts.beforeId } } : {}),
      ...(opts.deleted === "exclude" ? { deletedAt: null } : opts.deleted === "only" ? { deletedAt: { not: null } } : {}),
    },
    orderBy: { id: "desc" },
    take: opts.limit + 1,
    select: entrySelect,
  });
}

/** Deletes an entry, keeping a tombstone (no content) that pollers and the stream report as deleted. */
export async function deleteEntry(
  prisma: PrismaClient, actor: Actor, articleId: number, entryId: number, ifMatch: IfMatch | null,
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const e = await existingEntry(tx, actor, articleId, entryId);
    if (actor.role === "WRITER" && e.author?.id !== actor.id) throw forbidden("Writers can only delete their own entries.");
    const version = checkIfMatch(ifMatch, e.version, true, () => adminEntry(e));
    await tx.liveEntry.updateMany({
      where: { id: entryId, version },
      data: { deletedAt: new Date(), title: null, body: "", keyEvent: false, pinned: false, version: { increment: 1 } },
    });
    await bumpSeq(tx, entryId);
    await entryEvent(tx, "deleted", await loadEntry(tx, entryId), actor);
  });
}

// ---- public reads ----

export type EntryPageMode =
  | { kind: "latest" }
  | { kind: "before"; id: number }
  | { kind: "since"; seq: number };

export interface EntryPage {
  articleId: number;
  /** The article's newest change sequence (0 before any entry). */
  maxSeq: number;
  rows: (PublicEntryRow & { seq: number })[];
}

/**
 * 1 statement: the published LIVE article by slug, its newest change
 * sequence, and a page of entries: newest first (latest, before an id) or
 * every change after a sequence number, tombstones included (since).
 * Undefined when no such public LIVE article.
 */
export async function entryPage(
  prisma: PrismaClient, slug: string, statuses: string[], mode: EntryPageMode, take: number,
): Promise<EntryPage | undefined> {
  const filter = mode.kind === "since"
    ? Prisma.sql`e.seq > ${mode.seq}`
    : mode.kind === "before" ? Prisma.sql`e."deletedAt" IS NULL AND e.id < ${mode.id}` : Prisma.sql`e."deletedAt" IS NULL`;
  const order = mode.kind === "since" ? Prisma.sql`e.seq DESC` : Prisma.sql`e.id DESC`;
  const [row] = await prisma.$queryRaw<{ articleId: number; maxSeq: bigint | null; rows: EntryPage["rows"] }[]>`
    SELECT p."articleId",
           (SELECT max(m.seq) FROM "LiveEntry" m WHERE m."articleId" = p."articleId") AS "maxSeq",
           COALESCE((
             SELECT json_agg(x) FROM (
               SELECT e.id, e.title, e.body, e."keyEvent", e.pinned, ed.name AS "authorName",
                      e."deletedAt" IS NOT NULL AS deleted, e."createdAt", e."updatedAt", e.seq
                 FROM "LiveEntry" e LEFT JOIN "Editor" ed ON ed.id = e."authorId"
                WHERE e."articleId" = p."articleId" AND ${filter}
                ORDER BY ${order} LIMIT ${take}) x), '[]'::json) AS rows
      FROM "PublishedArticle" p
     WHERE p.slug = ${slug} AND p.status::text = ANY(${statuses}::text[]) AND p.kind = 'LIVE'`;
  if (!row) return undefined;
  return { articleId: row.articleId, maxSeq: Number(row.maxSeq ?? 0), rows: row.rows };
}

/** 1 statement: entries by id, for the stream (tombstones included). */
export async function entriesById(prisma: PrismaClient, ids: number[]) {
  return prisma.$queryRaw<(PublicEntryRow & { articleId: number; seq: bigint })[]>`
    SELECT e.id, e."articleId", e.title, e.body, e."keyEvent", e.pinned, ed.name AS "authorName",
           e."deletedAt" IS NOT NULL AS deleted, e."createdAt", e."updatedAt", e.seq
      FROM "LiveEntry" e LEFT JOIN "Editor" ed ON ed.id = e."authorId"
     WHERE e.id = ANY(${ids}::int[])`;
}

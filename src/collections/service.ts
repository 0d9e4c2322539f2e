// Curated collections: named, ordered lists of articles ("selections-for-you",
// "editors-picks"). Positions are kept dense (0..n-1) and every change to a
// collection's items runs in one transaction.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, conflict, notFound } from "../http/errors.ts";
import { checkIfMatch, preconditionFailed, type IfMatch } from "../http/preconditions.ts";
import { mediaRefSelect } from "../media/mappers.ts";
import { emit } from "../events/outbox.ts";
import { key } from "../events/keys.ts";

type Tx = Prisma.TransactionClient;

export const adminCollectionInclude = {
  items: {
    orderBy: { position: "asc" },
    select: {
      id: true, position: true, headline: true,
      image: { select: mediaRefSelect },
      article: { select: { id: true, slug: true, headline: true, status: true, deletedAt: true } },
    },
  },
} satisfies Prisma.CollectionInclude;

export type AdminCollectionRow = Prisma.CollectionGetPayload<{ include: typeof adminCollectionInclude }>;

const load = (tx: Tx | PrismaClient, id: number) => tx.collection.findUnique({ where: { id }, include: adminCollectionInclude });

async function loadOr404(tx: Tx | PrismaClient, id: number) {
  const c = await load(tx, id);
  if (!c) throw notFound("Collection");
  return c;
}

export async function listCollections(prisma: PrismaClient) {
  return prisma.collection.findMany({ orderBy: { slug: "asc" }, include: { _count: { select: { items: true } } } });
}

export const getCollection = (prisma: PrismaClient, id: number) => loadOr404(prisma, id);

const COLLECTION_EVENTS: Record<string, string> = {
  update: "updated", "add-item": "item-added", "update-item": "item-updated", "remove-item": "item-removed", reorder: "reordered",
};

/** Bumps the version, audits, and appends collection.<action> (keys: the slug now, and `oldSlug` if renamed). */
async function touch(tx: Tx, actor: Actor, id: number, action: string, details: Record<string, unknown> = {}, oldSlug?: string) {
  const row = await tx.collection.update({ where: { id }, data: { version: { increment: 1 } }, include: adminCollectionInclude });
  await audit(tx, { actorId: actor.id, action: `collection.${action}`, targetType: "collection", targetId: id, ip: actor.ip, details: details as Prisma.InputJsonValue });
  await emit(tx, {
    type: `collection.${COLLECTION_EVENTS[action] ?? action}`, entityType: "collection", entityId: id, actorId: actor.id,
    keys: [key.collection(row.slug), ...(oldSlug ? [key.collection(oldSlug)] : [])],
    data: details as Prisma.InputJsonValue,
  });
  return row;
}

export async function createCollection(prisma: PrismaClient, actor: Actor, input: { slug: string; name: string }) {
  return prisma.$transaction(async (tx) => {
    const c = await tx.collection.create({ data: input, include: adminCollectionInclude });
    await audit(tx, { actorId: actor.id, action: "collection.create", targetType: "collection", targetId: c.id, ip: actor.ip, details: { slug: c.slug } });
    // Its slug may have answered 404 until now.
    await emit(tx, { type: "collection.created", entityType: "collection", entityId: c.id, actorId: actor.id, keys: [key.collection(c.slug)] });
    return c;
  });
}

export async function updateCollection(prisma: PrismaClient, actor: Actor, id: number, input: { slug?: string; name?: string }, ifMatch: IfMatch | null) {
  return prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    const version = checkIfMatch(ifMatch, c.version, false, () => ({ id: c.id, slug: c.slug, name: c.name }));
    // Without If-Match the client asked for an unconditional write: a
    // concurrent item change must not turn it into a 412 it never asked for.
    const { count } = await tx.collection.updateMany({ where: ifMatch ? { id, version } : { id }, data: input });
    if (count === 0) {
      const cur = await loadOr404(tx, id);
      throw preconditionFailed(cur.version, { id: cur.id, slug: cur.slug, name: cur.name });
    }
    return touch(tx, actor, id, "update", { changed: Object.keys(input) }, c.slug);
  });
}

export async function deleteCollection(prisma: PrismaClient, actor: Actor, id: number) {
  await prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    await tx.collection.delete({ where: { id } });
    await audit(tx, { actorId: actor.id, action: "collection.delete", targetType: "collection", targetId: id, ip: actor.ip, details: { slug: c.slug } });
    await emit(tx, {
      type: "collection.deleted", entityType: "collection", entityId: id, actorId: actor.id,
      keys: [key.collection(c.slug)], data: { slug: c.slug },
    });
  });
}

async function renumber(tx: Tx, collectionId: number, orderedIds: number[]) {
  // Two passes so the dense positions never collide mid-update.
  for (const [i, id] of orderedIds.entries()) {
    await tx.collectionItem.update({ where: { id }, data: { position: -1 - i } });
  }
  for (const [i, id] of orderedIds.entries()) {
    await tx.collectionItem.update({ where: { id }, data: { position: i } });
  }
}

async function checkImage(tx: Tx, image: number | null | undefined) {
  if (image === undefined || image === null) return;
  const m = await tx.media.findUnique({ where: { id: image }, select: { id: true } });
  if (!m) throw badRequest("The request is invalid.", [{ path: "body.image", message: `No image with id ${image}.` }]);
}

export async function addItem(
  prisma: PrismaClient, actor: Actor, id: number,
  input: { articleId: number; position?: number; headline?: string | null; image?: number | null },
) {
  return prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    const article = await tx.article.findUnique({ where: { id: input.articleId }, select: { id: true, deletedAt: true } });
    if (!article || article.deletedAt) {
      throw badRequest("The request is invalid.", [{ path: "body.articleId", message: `No article with id ${input.articleId}.` }]);
    }
    if (c.items.some((i) => i.article.id === input.articleId)) {
      throw conflict("The article is already in this collection.", "already-in-collection");
    }
    await checkImage(tx, input.image);
    const item = await tx.collectionItem.create({
      data: { collectionId: id, articleId: input.articleId, position: c.items.length, headline: input.headline ?? null, imageId: input.image ?? null },
    });
    const order = c.items.map((i) => i.id);
    order.splice(Math.min(input.position ?? order.length, order.length), 0, item.id);
    await renumber(tx, id, order);
    return touch(tx, actor, id, "add-item", { articleId: input.articleId });
  });
}

export async function updateItem(
  prisma: PrismaClient, actor: Actor, id: number, itemId: number,
  input: { headline?: string | null; image?: number | null },
) {
  return prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    if (!c.items.some((i) => i.id === itemId)) throw notFound("Collection item");
    await checkImage(tx, input.image);
    await tx.collectionItem.update({ where: { id: itemId }, data: { headline: input.headline, imageId: input.image } });
    return touch(tx, actor, id, "update-item", { itemId });
  });
}

export async function removeItem(prisma: PrismaClient, actor: Actor, id: number, itemId: number) {
  return prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    if (!c.items.some((i) => i.id === itemId)) throw notFound("Collection item");
    await tx.collectionItem.delete({ where: { id: itemId } });
    await renumber(tx, id, c.items.map((i) => i.id).filter((x) => x !== itemId));
    return touch(tx, actor, id, "remove-item", { itemId });
  });
}

export async function reorder(prisma: PrismaClient, actor: Actor, id: number, itemIds: number[]) {
  return prisma.$transaction(async (tx) => {
    const c = await loadOr404(tx, id);
    const current = c.items.map((i) => i.id);
    const same = itemIds.length === current.length && [...itemIds].sort((a, b) => a - b).join() === [...current].sort((a, b) => a - b).join();
    if (!same) {
      throw badRequest("The request is invalid.", [{ path: "body.itemIds", message: `List every item of the collection exactly once: ${current.join(", ")}.` }]);
    }
    await renumber(tx, id, itemIds);
    return touch(tx, actor, id, "reorder");
  });
}

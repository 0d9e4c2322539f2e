// Image uploads. A file is checked completely in memory before anything is
// written, stored under a fresh random key, and only then recorded; if the
// record cannot be written the file is removed again, so a failed upload
// leaves neither a row nor a file behind.
import crypto from "node:crypto";
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { conflict, notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { emit } from "../events/outbox.ts";
import { key, visibleArticleKeys } from "../events/keys.ts";
import { probeImage } from "./probe.ts";
import type { MediaStorage } from "./storage.ts";

/** A display name only: no directories, no control characters, bounded length. */
function cleanOriginalName(name: string | undefined): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  // eslint-disable-next-line no-control-regex
  return base.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 255);
}

export interface UploadFields {
  caption: string;
  credit: string;
  alt: string;
}

export interface MediaDeps {
  prisma: PrismaClient;
  storage: MediaStorage;
}

export interface UploadDeps extends MediaDeps {
  /** MEDIA_MAX_PIXELS. */
  maxPixels: number;
}

/**
 * The upload in an ArrayBuffer of its own. multer hands over a Buffer that may
 * be a slice of Node's shared allocation pool, next to unrelated data (tokens,
 * keys); any parser that reads through `.buffer` would see that data.
 */
function ownCopy(buf: Buffer): Buffer {
  // Buffer.alloc never uses the pool (only allocUnsafe does).
  const own = Buffer.alloc(buf.length);
  buf.copy(own);
  return own;
}

export async function uploadMedia(
  { prisma, storage, maxPixels }: UploadDeps,
  actor: Actor,
  file: { buffer: Buffer; originalName?: string },
  fields: UploadFields,
  now = new Date(),
) {
  const bytes = ownCopy(file.buffer);
  const image = await probeImage(bytes, maxPixels);
  const yyyy = String(now.getUTCFullYear()).padStart(4, "0");
  const mm = String(now.getUTCMonth() + 1).padStart(2, "0");
  const storageKey = `${yyyy}/${mm}/${crypto.randomUUID()}.${image.ext}`;
  await storage.put(storageKey, bytes, image.mimeType);
  try {
    return await prisma.$transaction(async (tx) => {
      const row = await tx.media.create({
        data: {
          storageKey,
          originalName: cleanOriginalName(file.originalName),
          mimeType: image.mimeType,
          size: bytes.length,
          width: image.width,
          height: image.height,
          caption: fields.caption,
          credit: fields.credit,
          alt: fields.alt,
          uploadedById: actor.id,
        },
      });
      await audit(tx, {
        actorId: actor.id, action: "media.upload", targetType: "media", targetId: row.id, ip: actor.ip,
        details: { storageKey, mimeType: image.mimeType, size: row.size },
      });
      // No reader sees an image until an article uses it: no surrogate keys, but webhooks offer it.
      await emit(tx, { type: "media.created", entityType: "media", entityId: row.id, actorId: actor.id, keys: [] });
      return row;
    });
  } catch (err) {
    // The database error is the one worth reporting, not a failed clean-up.
    await storage.remove(storageKey).catch(() => {});
    throw err;
  }
}

export async function listMedia(prisma: PrismaClient, limit: number, rawCursor?: string) {
  const cursor = decodeCursor(rawCursor);
  // Ids grow with upload time, so id order is newest-first without ties.
  const rows = await prisma.media.findMany({
    where: cursor ? { id: { lt: cursor.id } } : {},
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  return paginate(rows, limit, (m) => ({ id: m.id }));
}

export async function getMedia(prisma: PrismaClient, id: number) {
  const m = await prisma.media.findUnique({ where: { id } });
  if (!m) throw notFound("Media");
  return m;
}

export type MetadataFields = Partial<UploadFields>;

/**
 * Changes an image's alt text, caption or credit. Public responses embed them
 * (lead images and galleries in article documents and list items, collection
 * images, author photos), so the event names every response showing the
 * image: `article:<id>` of each visible article using it as lead or in its
 * gallery (its document, and every list tagged with it), `collection:<slug>`
 * of collections showing it as an item's picture, `author:<id>` of profiles
 * using it as their photo. The media event also makes the read model rebuild
 * those articles' documents in this transaction (src/delivery/read-model.ts),
 * and the rebuilt document clears their stored JSON (the trigger), so no
 * reader gets the old text after the commit. Pictures placed in a body keep
 * the alt they were placed with: that HTML is the article's own.
 * No version (Media has none): the last write wins for these three fields.
 */
export async function updateMediaMetadata(prisma: PrismaClient, actor: Actor, id: number, fields: MetadataFields) {
  return prisma.$transaction(async (tx) => {
    // Locked, so a concurrent "use this image" either lands before the keys are read or waits for the commit.
    const locked = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM "Media" WHERE id = ${id} FOR UPDATE`;
    if (!locked.length) throw notFound("Media");
    const existing = await tx.media.findUniqueOrThrow({ where: { id } });
    const row = await tx.media.update({ where: { id }, data: fields });
    const changed = (["alt", "caption", "credit"] as const).filter((f) => existing[f] !== row[f]);
    await audit(tx, {
      actorId: actor.id, action: "media.update", targetType: "media", targetId: id, ip: actor.ip,
      details: { changed },
    });
    if (!changed.length) return row;
    const articles = await visibleArticleKeys(tx, { OR: [{ leadImageId: id }, { gallery: { some: { mediaId: id } } }] });
    const collections = await tx.collection.findMany({ where: { items: { some: { imageId: id } } }, select: { slug: true } });
    const authors = await tx.author.findMany({ where: { photoId: id }, select: { id: true } });
    await emit(tx, {
      type: "media.updated", entityType: "media", entityId: id, actorId: actor.id,
      keys: [...articles, ...collections.map((c) => key.collection(c.slug)), ...authors.map((a) => `author:${a.id}`)],
      data: { changed },
    });
    return row;
  });
}

export async function deleteMedia(
  { prisma, storage }: MediaDeps, actor: Actor, id: number, log?: Pick<Logger, "warn">,
) {
  const row = await prisma.$transaction(async (tx) => {
    // The row lock makes a concurrent "use this image" (whose foreign-key
    // check takes a share lock on the row) either finish before the usage
    // count below, or fail after the delete: an article never silently
    // loses its lead image.
    const locked = await tx.$queryRaw<{ storageKey: string }[]>`SELECT "storageKey" FROM "Media" WHERE id = ${id} FOR UPDATE`;
    if (!locked.length) throw notFound("Media");
    const lead = await tx.article.count({ where: { leadImageId: id } });
    const gallery = await tx.galleryItem.count({ where: { mediaId: id } });
    const collections = await tx.collectionItem.count({ where: { imageId: id } });
    const authorPhotos = await tx.author.count({ where: { photoId: id } });
    // Pictures placed in a body (the desk's Image button) are <img src=".../media/<storageKey>">, under
    // this server's /media or MEDIA_BASE_URL: found by the key, which is unique, in article bodies (the
    // trash included) and live entries. A scan, but deleting media is rare and done by hand. Old
    // revisions are not searched: restoring one may bring back a picture since deleted.
    const needle = `/media/${locked[0]!.storageKey}`;
    const [{ bodies, entries }] = await tx.$queryRaw<{ bodies: number; entries: number }[]>`
      SELECT (SELECT count(*)::int FROM "Article" WHERE strpos(body, ${needle}) > 0) AS bodies,
             (SELECT count(*)::int FROM "LiveEntry" WHERE strpos(body, ${needle}) > 0) AS entries`;
    if (lead + gallery + collections + authorPhotos + bodies + entries > 0) {
      const uses = [
        lead && `${lead} article lead image(s)`,
        gallery && `${gallery} gallery item(s)`,
        collections && `${collections} collection item(s)`,
        authorPhotos && `${authorPhotos} author profile photo(s)`,
        bodies && `a picture in ${bodies} article bod${bodies === 1 ? "y" : "ies"}`,
        entries && `a picture in ${entries} live entr${entries === 1 ? "y" : "ies"}`,
      ].filter(Boolean);
      throw conflict(`The image is still used as ${uses.join(", ")}.`, "in-use");
    }
    const m = await tx.media.delete({ where: { id } });
    await audit(tx, {
      actorId: actor.id, action: "media.delete", targetType: "media", targetId: id, ip: actor.ip,
      details: { storageKey: m.storageKey },
    });
    // Unused (checked above), so no public response showed it: no keys.
    await emit(tx, { type: "media.deleted", entityType: "media", entityId: id, actorId: actor.id, keys: [] });
    return m;
  });
  try {
    await storage.remove(row.storageKey);
  } catch (err) {
    // The record is gone, so the file is unreachable; an orphan is harmless.
    log?.warn({ err, storageKey: row.storageKey }, "media file not removed");
  }
  return row;
}

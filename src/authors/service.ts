// Author profiles (issue 12 §5): the people credited on articles beside the
// free-text byline (kept for wire copy). Profiles are EDITOR+ writes; every
// write that changes what a public article shows of a profile (name, slug)
// names those articles' `article:<id>` keys in its change event, so the
// published read model rebuilds their documents in the same transaction
// (src/delivery/read-model.ts) and caches, webhooks and purges follow.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Actor } from "../auth/middleware.ts";
import { audit } from "../audit/service.ts";
import { badRequest, conflict, notFound, type FieldError } from "../http/errors.ts";
import { checkIfMatch, type IfMatch } from "../http/preconditions.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { emit } from "../events/outbox.ts";
import { mediaRefSelect } from "../media/mappers.ts";
import { adminAuthor } from "./mappers.ts";

type Tx = Prisma.TransactionClient;

export interface AuthorLink {
  label: string;
  url: string;
}

export interface AuthorInput {
  slug?: string;
  name?: string;
  bio?: string;
  photo?: number | null;
  links?: AuthorLink[];
}

export const authorInclude = {
  photo: { select: mediaRefSelect },
} satisfies Prisma.AuthorInclude;

export type AuthorRow = Prisma.AuthorGetPayload<{ include: typeof authorInclude }>;

/** The key of an author's public page and feeds. */
export const authorKey = (id: number) => `author:${id}`;

const VISIBLE = ["PUBLISHED", "ARCHIVED"] as const;

/** `article:<id>` of every publicly readable article crediting the author: their documents show the profile. */
async function creditedKeys(tx: Tx, authorId: number): Promise<string[]> {
  const rows = await tx.articleAuthor.findMany({
    where: { authorId, article: { status: { in: [...VISIBLE] }, deletedAt: null } },
    select: { articleId: true },
  });
  return rows.map((r) => `article:${r.articleId}`);
}

async function assertPhoto(tx: Tx, photo: number | null | undefined): Promise<void> {
  if (!photo) return;
  const m = await tx.media.findUnique({ where: { id: photo }, select: { id: true } });
  if (!m) throw badRequest("The request is invalid.", [{ path: "body.photo", message: `No image with id ${photo}.` }]);
}

function slugTaken(slug: string): never {
  throw conflict(`An author with slug "${slug}" exists already.`, "slug-taken");
}

async function assertSlugFree(tx: Tx, slug: string, exceptId?: number): Promise<void> {
  const other = await tx.author.findUnique({ where: { slug }, select: { id: true } });
  if (other && other.id !== exceptId) slugTaken(slug);
}

export async function createAuthor(prisma: PrismaClient, actor: Actor, input: Required<Pick<AuthorInput, "slug" | "name">> & AuthorInput): Promise<AuthorRow> {
  return prisma.$transaction(async (tx) => {
    await assertSlugFree(tx, input.slug);
    await assertPhoto(tx, input.photo);
    const a = await tx.author.create({
      data: {
        slug: input.slug, name: input.name, bio: input.bio ?? "", photoId: input.photo ?? null,
        links: (input.links ?? []) as unknown as Prisma.InputJsonValue,
      },
      include: authorInclude,
    });
    await audit(tx, { actorId: actor.id, action: "author.create", targetType: "author", targetId: a.id, ip: actor.ip, details: { slug: a.slug } });
    // Nothing credits a new profile yet: its page (404 until now) is the only public change.
    await emit(tx, { type: "author.created", entityType: "author", entityId: a.id, keys: [authorKey(a.id)], actorId: actor.id, data: { slug: a.slug } });
    return a;
  });
}

export async function getAuthor(db: PrismaClient | Tx, id: number): Promise<AuthorRow> {
  const a = await db.author.findUnique({ where: { id }, include: authorInclude });
  if (!a) throw notFound("Author");
  return a;
}

export async function listAuthors(prisma: PrismaClient, q: { limit: number; cursor?: string; q?: string }) {
  const cursor = decodeCursor(q.cursor);
  const rows = await prisma.author.findMany({
    where: {
      ...(cursor ? { id: { gt: cursor.id } } : {}),
      ...(q.q ? { OR: [{ name: { contains: q.q, mode: "insensitive" } }, { slug: { contains: q.q.toLowerCase() } }] } : {}),
    },
    orderBy: { id: "asc" },
    take: q.limit + 1,
    include: authorInclude,
  });
  return paginate(rows, q.limit, (a) => ({ id: a.id }));
}

async function lockAuthor(tx: Tx, id: number): Promise<AuthorRow> {
  await tx.$queryRaw`SELECT id FROM "Author" WHERE id = ${id} FOR UPDATE`;
  return getAuthor(tx, id);
}

export async function updateAuthor(prisma: PrismaClient, actor: Actor, id: number, input: AuthorInput, ifMatch: IfMatch | null): Promise<AuthorRow> {
  return prisma.$transaction(async (tx) => {
    const existing = await lockAuthor(tx, id);
    checkIfMatch(ifMatch, existing.version, true, () => adminAuthor(existing));
    if (input.slug !== undefined && input.slug !== existing.slug) await assertSlugFree(tx, input.slug, id);
    await assertPhoto(tx, input.photo);
    const a = await tx.author.update({
      where: { id },
      data: {
        ...(input.slug !== undefined ? { slug: input.slug } : {}),
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.bio !== undefined ? { bio: input.bio } : {}),
        ...(input.photo !== undefined ? { photoId: input.photo } : {}),
        ...(input.links !== undefined ? { links: input.links as unknown as Prisma.InputJsonValue } : {}),
        version: { increment: 1 },
      },
      include: authorInclude,
    });
    const changed = (["slug", "name", "bio", "photoId", "links"] as const)
      .filter((f) => JSON.stringify(existing[f]) !== JSON.stringify(a[f]));
    await audit(tx, { actorId: actor.id, action: "author.update", targetType: "author", targetId: id, ip: actor.ip, details: { changed } });
    // Articles show the profile's slug and name (and their URL): rebuild those documents when either changed.
    const shown = changed.includes("slug") || changed.includes("name");
    await emit(tx, {
      type: "author.updated", entityType: "author", entityId: id, actorId: actor.id,
      keys: [authorKey(id), ...(shown ? await creditedKeys(tx, id) : [])],
      data: { slug: a.slug, ...(existing.slug !== a.slug ? { previousSlug: existing.slug } : {}), changed },
    });
    return a;
  });
}

/** Deletes a profile; its credits go with it (the articles keep their bylines) and their documents are rebuilt. */
export async function deleteAuthor(prisma: PrismaClient, actor: Actor, id: number, ifMatch: IfMatch | null): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const existing = await lockAuthor(tx, id);
    checkIfMatch(ifMatch, existing.version, true, () => adminAuthor(existing));
    // Read before the delete cascades the credits away.
    const keys = await creditedKeys(tx, id);
    await tx.author.delete({ where: { id } });
    await audit(tx, {
      actorId: actor.id, action: "author.delete", targetType: "author", targetId: id, ip: actor.ip,
      details: { slug: existing.slug, name: existing.name, credits: keys.length },
    });
    await emit(tx, { type: "author.deleted", entityType: "author", entityId: id, actorId: actor.id, keys: [authorKey(id), ...keys], data: { slug: existing.slug } });
  });
}

// ---- credits on articles ----

export const AUTHOR_ROLES = [
  "writer", "reporter", "correspondent", "columnist", "photographer", "videographer",
  "illustrator", "graphics", "editor", "translator", "researcher", "contributor",
] as const;
export type AuthorRole = (typeof AUTHOR_ROLES)[number];

export interface CreditInput {
  slug: string;
  role: AuthorRole;
}

/** The credits as rows to write, or a 400 naming each unknown slug (`body.authors.<i>.slug`). */
export async function resolveCredits(tx: Tx, credits: CreditInput[] | undefined): Promise<{ authorId: number; role: string }[] | undefined> {
  if (credits === undefined) return undefined;
  if (!credits.length) return [];
  const found = new Map(
    (await tx.author.findMany({ where: { slug: { in: credits.map((c) => c.slug) } }, select: { id: true, slug: true } }))
      .map((a) => [a.slug, a.id]),
  );
  const errors: FieldError[] = [];
  credits.forEach((c, i) => {
    if (!found.has(c.slug)) errors.push({ path: `body.authors.${i}.slug`, message: `No author with slug "${c.slug}".` });
  });
  if (errors.length) throw badRequest("The request is invalid.", errors);
  return credits.map((c) => ({ authorId: found.get(c.slug)!, role: c.role }));
}

/** Replaces an article's credits (undefined: unchanged), in the order given. */
export async function replaceCredits(tx: Tx, articleId: number, credits: { authorId: number; role: string }[] | undefined): Promise<void> {
  if (credits === undefined) return;
  await tx.articleAuthor.deleteMany({ where: { articleId } });
  if (credits.length) {
    await tx.articleAuthor.createMany({ data: credits.map((c, position) => ({ articleId, authorId: c.authorId, role: c.role, position })) });
  }
}

/** The include that loads an article's credits (admin and public), in byline order. */
export const creditsInclude = {
  orderBy: { position: "asc" },
  select: { role: true, author: { select: { id: true, slug: true, name: true } } },
} satisfies Prisma.Article$authorCreditsArgs;

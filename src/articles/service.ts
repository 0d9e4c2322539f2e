// Articles: the editor-side writes and the public reads. Writes that touch an
// article together with its credited editors, tags and related list run in
// one transaction; reads fetch a page with its relations in a fixed, small
// number of queries.
import type { ArticleKind, ArticleStatus, Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { AuthEditor } from "../auth/middleware.ts";
import { HttpError, badRequest, forbidden, notFound, type FieldError } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import { loadTree, type SectionTree } from "../sections/service.ts";
import { plainText, sanitizeBody, slugify } from "./sanitize.ts";

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
async function resolveRefs(tx: Tx, input: ArticleInput, selfId?: number) {
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
      (await tx.article.findMany({ where: { id: { in: input.related } }, select: { id: true } })).map((a) => a.id),
    );
    input.related.forEach((id, i) => {
      if (id === selfId) errors.push({ path: `body.related.${i}`, message: "An article cannot recommend itself." });
      else if (!found.has(id)) errors.push({ path: `body.related.${i}`, message: `No article with id ${id}.` });
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

function contentFields(input: ArticleInput) {
  const data: Prisma.ArticleUncheckedUpdateInput = {};
  if (input.headline !== undefined) data.headline = input.headline;
  if (input.summary !== undefined) data.summary = input.summary;
  if (input.dateline !== undefined) data.dateline = input.dateline;
  if (input.source !== undefined) data.source = input.source;
  if (input.byline !== undefined) data.byline = input.byline;
  if (input.kind !== undefined) data.kind = input.kind;
  if (input.body !== undefined) {
    const body = sanitizeBody(input.body);
    data.body = body;
    data.bodyText = plainText(body);
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
  if (tagIds) {
    await tx.articleTag.deleteMany({ where: { articleId } });
    await tx.articleTag.createMany({ data: tagIds.map((tagId) => ({ articleId, tagId })) });
  }
}

export async function createArticle(
  prisma: PrismaClient,
  actor: AuthEditor,
  input: ArticleInput & { headline: string; section: string },
): Promise<AdminArticleRow> {
  return prisma.$transaction(async (tx) => {
    const { sectionId, tagIds } = await resolveRefs(tx, input);
    const slug = input.slug ?? (await uniqueSlug(tx, slugify(input.headline)));
    const body = sanitizeBody(input.body ?? "");
    const created = await tx.article.create({
      data: {
        slug,
        headline: input.headline,
        summary: input.summary ?? "",
        dateline: input.dateline ?? null,
        source: input.source ?? null,
        byline: input.byline ?? null,
        body,
        bodyText: plainText(body),
        kind: input.kind ?? "STORY",
        status: "DRAFT",
        sectionId: sectionId!,
        authorId: actor.id,
      },
      select: { id: true },
    });
    await replaceLinks(tx, created.id, input, tagIds);
    return tx.article.findUniqueOrThrow({ where: { id: created.id }, include: adminArticleInclude });
  });
}

/** WRITERs edit their own articles until they are published; EDITOR+ edit any. */
function assertCanEdit(actor: AuthEditor, article: { authorId: number; status: ArticleStatus }) {
  if (actor.role !== "WRITER") return;
  if (article.authorId !== actor.id) throw forbidden("Writers can only change their own articles.");
  if (article.status === "PUBLISHED" || article.status === "SCHEDULED" || article.status === "ARCHIVED") {
    throw forbidden(`Writers cannot change an article that is ${article.status.toLowerCase()}.`);
  }
}

export async function updateArticle(
  prisma: PrismaClient,
  actor: AuthEditor,
  id: number,
  input: ArticleInput,
): Promise<AdminArticleRow> {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.article.findUnique({ where: { id }, select: { id: true, authorId: true, status: true } });
    if (!existing) throw notFound("Article");
    assertCanEdit(actor, existing);
    const { sectionId, tagIds } = await resolveRefs(tx, input, id);
    await tx.article.update({
      where: { id },
      data: { ...contentFields(input), ...(input.slug ? { slug: input.slug } : {}), ...(sectionId ? { sectionId } : {}) },
    });
    await replaceLinks(tx, id, input, tagIds);
    return tx.article.findUniqueOrThrow({ where: { id }, include: adminArticleInclude });
  });
}

export async function deleteArticle(prisma: PrismaClient, actor: AuthEditor, id: number): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const existing = await tx.article.findUnique({ where: { id }, select: { authorId: true, status: true } });
    if (!existing) throw notFound("Article");
    assertCanEdit(actor, existing);
    await tx.article.delete({ where: { id } });
  });
}

// Clock skew tolerated for an explicit publishedAt "now" from a client.
const FUTURE_TOLERANCE_MS = 60_000;

export async function publishArticle(
  prisma: PrismaClient,
  id: number,
  publishedAt?: Date,
): Promise<AdminArticleRow> {
  if (publishedAt && publishedAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
    throw invalid([{ path: "body.publishedAt", message: "Must not be in the future." }]);
  }
  return prisma.$transaction(async (tx) => {
    const existing = await tx.article.findUnique({ where: { id }, select: { status: true, publishedAt: true } });
    if (!existing) throw notFound("Article");
    // Re-publishing a live article keeps its original time unless one is given.
    const keep = existing.status === "PUBLISHED" ? existing.publishedAt : null;
    await tx.article.update({
      where: { id },
      data: { status: "PUBLISHED", publishedAt: publishedAt ?? keep ?? new Date() },
    });
    return tx.article.findUniqueOrThrow({ where: { id }, include: adminArticleInclude });
  });
}

export async function unpublishArticle(prisma: PrismaClient, id: number): Promise<AdminArticleRow> {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.article.findUnique({ where: { id }, select: { status: true } });
    if (!existing) throw notFound("Article");
    if (existing.status !== "PUBLISHED") {
      throw new HttpError(409, "invalid-transition", `The article is ${existing.status}, not PUBLISHED.`);
    }
    await tx.article.update({ where: { id }, data: { status: "DRAFT" } });
    return tx.article.findUniqueOrThrow({ where: { id }, include: adminArticleInclude });
  });
}

export async function getArticleAdmin(prisma: PrismaClient, id: number): Promise<AdminArticleRow> {
  const a = await prisma.article.findUnique({ where: { id }, include: adminArticleInclude });
  if (!a) throw notFound("Article");
  return a;
}

export interface AdminListQuery {
  status?: ArticleStatus;
  section?: string;
  author?: number;
  kind?: ArticleKind;
  limit: number;
  cursor?: string;
}

export async function listArticlesAdmin(prisma: PrismaClient, q: AdminListQuery) {
  const cursor = decodeCursor(q.cursor);
  const where: Prisma.ArticleWhereInput = {
    ...(q.status ? { status: q.status } : {}),
    ...(q.author ? { authorId: q.author } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
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
} satisfies Prisma.ArticleSelect;

export type PublicListRow = Prisma.ArticleGetPayload<{ select: typeof publicListSelect }>;

export interface PublicListQuery {
  section?: string;
  tag?: string;
  kind?: ArticleKind;
  limit: number;
  cursor?: string;
}

export async function listArticlesPublic(prisma: PrismaClient, q: PublicListQuery) {
  const cursor = decodeCursor(q.cursor);
  const where: Prisma.ArticleWhereInput = { status: "PUBLISHED" };
  if (q.kind) where.kind = q.kind;
  if (q.tag) where.tags = { some: { tag: { slug: q.tag } } };
  if (q.section) {
    const tree = await loadTree(prisma);
    const s = tree.bySlug.get(q.section);
    if (!s) throw notFound("Section");
    where.sectionId = { in: tree.descendantIds(s.id) };
  }
  if (cursor) {
    if (!cursor.t) throw invalid([{ path: "query.cursor", message: "Invalid cursor." }]);
    const t = new Date(cursor.t);
    where.OR = [{ publishedAt: { lt: t } }, { publishedAt: t, id: { lt: cursor.id } }];
  }
  const rows = await prisma.article.findMany({
    where,
    orderBy: [{ publishedAt: "desc" }, { id: "desc" }],
    take: q.limit + 1,
    select: publicListSelect,
  });
  return paginate(rows, q.limit, (a) => ({ t: a.publishedAt!.toISOString(), id: a.id }));
}

const publicArticleInclude = {
  section: { select: { id: true, slug: true, name: true } },
  editors: { orderBy: { position: "asc" }, select: { editor: { select: { name: true } } } },
  tags: { select: { tag: { select: { slug: true, name: true } } }, orderBy: { tag: { slug: "asc" } } },
  related: {
    where: { related: { status: "PUBLISHED" } },
    orderBy: { position: "asc" },
    select: { related: { select: { slug: true, headline: true, kind: true } } },
  },
  _count: { select: { comments: { where: { status: "APPROVED" } } } },
} satisfies Prisma.ArticleInclude;

export type PublicArticleRow = Prisma.ArticleGetPayload<{ include: typeof publicArticleInclude }>;

export async function getArticlePublic(
  prisma: PrismaClient,
  slug: string,
): Promise<{ article: PublicArticleRow; tree: SectionTree }> {
  const [article, tree] = await Promise.all([
    prisma.article.findFirst({ where: { slug, status: "PUBLISHED" }, include: publicArticleInclude }),
    loadTree(prisma),
  ]);
  if (!article) throw notFound("Article");
  return { article, tree };
}

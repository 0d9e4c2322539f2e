// Revisions: after every save of an article, a full copy of its content with
// who saved it and which fields changed. Written in the transaction of the
// save, after the article row is updated (and so locked), which serializes
// revision numbers per article.
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { notFound } from "../http/errors.ts";
import { decodeCursor, paginate } from "../http/pagination.ts";
import type { AdminArticleRow } from "./service.ts";

type Tx = Prisma.TransactionClient;

export interface ArticleContent {
  slug: string;
  headline: string;
  summary: string;
  dateline: string | null;
  source: string | null;
  byline: string | null;
  body: string;
  kind: string;
  section: string;
  tags: string[];
  editors: number[];
  related: number[];
  leadImage: number | null;
  gallery: { media: number; caption: string }[];
  commentsClosed: boolean;
  /** Absent in revisions saved before languages existed. */
  language?: string | null;
  /** Recorded, not restored (a restore does not move the article between groups). */
  translationGroup?: string | null;
  status: string;
  publishedAt: string | null;
  scheduledAt: string | null;
}

/** The fields a restore brings back; status and times stay as they are. */
export const RESTORABLE: (keyof ArticleContent)[] = [
  "slug", "headline", "summary", "dateline", "source", "byline", "body", "kind", "section", "tags", "editors", "related",
  "leadImage", "gallery", "commentsClosed", "language",
];

export function contentOf(a: AdminArticleRow): ArticleContent {
  return {
    slug: a.slug,
    headline: a.headline,
    summary: a.summary,
    dateline: a.dateline,
    source: a.source,
    byline: a.byline,
    body: a.body,
    kind: a.kind,
    section: a.section.slug,
    tags: a.tags.map((t) => t.tag.slug),
    editors: a.editors.map((e) => e.editor.id),
    related: a.related.map((r) => r.related.id),
    leadImage: a.leadImageId,
    gallery: a.gallery.map((g) => ({ media: g.media.id, caption: g.caption })),
    commentsClosed: a.commentsClosed,
    language: a.language,
    translationGroup: a.translationGroup,
    status: a.status,
    publishedAt: a.publishedAt?.toISOString() ?? null,
    scheduledAt: a.scheduledAt?.toISOString() ?? null,
  };
}

export function diff(before: ArticleContent | null, after: ArticleContent) {
  return (Object.keys(after) as (keyof ArticleContent)[])
    .filter((k) => !before || JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((field) => ({ field, before: before ? before[field] : null, after: after[field] }));
}

export async function saveRevision(
  tx: Tx,
  articleId: number,
  editorId: number | null,
  action: string,
  before: ArticleContent | null,
  after: ArticleContent,
): Promise<number> {
  const last = await tx.articleRevision.findFirst({
    where: { articleId },
    orderBy: { number: "desc" },
    select: { number: true },
  });
  const number = (last?.number ?? 0) + 1;
  await tx.articleRevision.create({
    data: {
      articleId,
      number,
      editorId,
      action,
      changedFields: diff(before, after).map((d) => d.field),
      content: after as unknown as Prisma.InputJsonValue,
    },
  });
  return number;
}

const revisionSelect = {
  number: true,
  action: true,
  createdAt: true,
  changedFields: true,
  editor: { select: { id: true, name: true } },
} as const;

type RevisionRow = Prisma.ArticleRevisionGetPayload<{ select: typeof revisionSelect }>;

export function revisionSummary(r: RevisionRow) {
  return {
    number: r.number,
    action: r.action,
    createdAt: r.createdAt.toISOString(),
    editor: r.editor ? { id: r.editor.id, name: r.editor.name } : null,
    changedFields: r.changedFields,
  };
}

async function assertArticle(prisma: PrismaClient, articleId: number) {
  const a = await prisma.article.findUnique({ where: { id: articleId }, select: { id: true } });
  if (!a) throw notFound("Article");
}

export async function listRevisions(prisma: PrismaClient, articleId: number, limit: number, rawCursor?: string) {
  const cursor = decodeCursor(rawCursor);
  await assertArticle(prisma, articleId);
  const rows = await prisma.articleRevision.findMany({
    where: { articleId, ...(cursor ? { number: { lt: cursor.id } } : {}) },
    orderBy: { number: "desc" },
    take: limit + 1,
    select: revisionSelect,
  });
  return paginate(rows, limit, (r) => ({ id: r.number }));
}

export async function getRevision(prisma: PrismaClient, articleId: number, number: number) {
  const rows = await prisma.articleRevision.findMany({
    where: { articleId, number: { in: [number, number - 1] } },
    select: { ...revisionSelect, content: true },
  });
  const rev = rows.find((r) => r.number === number);
  if (!rev) throw notFound("Revision");
  const prev = rows.find((r) => r.number === number - 1);
  const content = rev.content as unknown as ArticleContent;
  return {
    ...revisionSummary(rev),
    content,
    diff: diff(prev ? (prev.content as unknown as ArticleContent) : null, content),
  };
}

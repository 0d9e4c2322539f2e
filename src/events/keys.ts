// Which surrogate keys a write invalidates, in one place, so every service
// names the same public responses the same way. The delivery side tags each
// response with the keys it depends on; an event carries every key whose
// responses it changes (see the key list in README "Caching and CDN").
import type { ArticleStatus, Prisma } from "../generated/prisma/client.ts";
import { loadTree, type SectionTree } from "../sections/service.ts";
import type { ChangeEventInput } from "./outbox.ts";

type Tx = Prisma.TransactionClient;

export const key = {
  article: (id: number) => `article:${id}`,
  section: (id: number) => `section:${id}`,
  front: (slug: string) => `front:${slug}`,
  tag: (slug: string) => `tag:${slug}`,
  collection: (slug: string) => `collection:${slug}`,
  comments: (articleId: number) => `comments:${articleId}`,
  latest: "latest",
  articles: "articles",
  popular: "popular",
  sections: "sections",
} as const;

/** What of an article decides which public responses show it. */
export interface ArticleState {
  id: number;
  status: ArticleStatus;
  deletedAt: Date | null;
  sectionId: number;
  tags: string[];
  /** A pending embargo hides the article from every public response (src/articles/embargo.ts). */
  embargoed?: boolean;
}

/** The state of a row loaded with adminArticleInclude (or anything shaped like it). */
export function articleState(row: {
  id: number; status: ArticleStatus; deletedAt: Date | null; section: { id: number }; tags: { tag: { slug: string } }[];
  embargoedUntil?: Date | null;
}): ArticleState {
  return {
    id: row.id, status: row.status, deletedAt: row.deletedAt, sectionId: row.section.id, tags: row.tags.map((t) => t.tag.slug),
    embargoed: row.embargoedUntil != null,
  };
}

// ARCHIVED articles are readable by slug when ARCHIVED_PUBLIC is set; the
// keys do not depend on that setting (an extra purge costs little, a missed one serves stale content).
const VISIBLE: ArticleStatus[] = ["PUBLISHED", "ARCHIVED"];
export const isVisible = (s: ArticleState | null | undefined): s is ArticleState =>
  !!s && !s.deletedAt && !s.embargoed && VISIBLE.includes(s.status);

/** front:<slug> of the section and every ancestor (their fronts include descendants' stories). */
export function frontKeys(tree: SectionTree, sectionId: number): string[] {
  return tree.breadcrumb(sectionId).map((s) => key.front(s.slug));
}

/**
 * Keys of a change to one article, from its state before and after (null
 * when it did not or no longer exists). Nothing when it was invisible on both
 * sides: drafts, scheduled and trashed articles appear in no public response.
 * When it was visible on either side, both sides' sections and tags count
 * (a move out of a section changes that section's front too).
 */
export async function articleKeys(tx: Tx, before: ArticleState | null, after: ArticleState | null): Promise<string[]> {
  if (!isVisible(before) && !isVisible(after)) return [];
  const id = (after ?? before)!.id;
  // The comments list answers only while the article is readable (404 once trashed or unpublished).
  const keys = [key.article(id), key.comments(id), key.latest, key.articles, key.popular];
  const tree = await loadTree(tx);
  for (const s of [before, after]) {
    if (!s) continue;
    keys.push(key.section(s.sectionId), ...frontKeys(tree, s.sectionId), ...s.tags.map(key.tag));
  }
  // One after the other: a transaction is one connection, and pg refuses
  // (pg 9) or queues with a deprecation warning (pg 8) overlapping queries on it.
  const collections = await tx.collection.findMany({ where: { items: { some: { articleId: id } } }, select: { slug: true } });
  // Published stories that list this one under "We Recommend" show its headline.
  const referrers = await tx.articleRelated.findMany({
    where: { relatedId: id, article: { status: { in: VISIBLE }, deletedAt: null, embargoedUntil: null } },
    select: { articleId: true },
  });
  keys.push(...collections.map((c) => key.collection(c.slug)), ...referrers.map((r) => key.article(r.articleId)));
  return [...new Set(keys)];
}

export interface ArticleEventOptions {
  actorId?: number | null;
  data?: Prisma.InputJsonValue;
}

/** An article.<type> event with the keys of the change from `before` to `after`. */
export async function articleEvent(
  tx: Tx, type: string, before: ArticleState | null, after: ArticleState | null, opts: ArticleEventOptions = {},
): Promise<ChangeEventInput> {
  return {
    type: `article.${type}`,
    entityType: "article",
    entityId: (after ?? before)!.id,
    keys: await articleKeys(tx, before, after),
    actorId: opts.actorId ?? null,
    data: opts.data,
  };
}

/** Keys of every visible article among `ids` (e.g. those crediting an editor). */
export async function visibleArticleKeys(tx: Tx, where: Prisma.ArticleWhereInput): Promise<string[]> {
  const rows = await tx.article.findMany({ where: { ...where, status: { in: VISIBLE }, deletedAt: null, embargoedUntil: null }, select: { id: true } });
  return rows.map((r) => key.article(r.id));
}

/** Keys of a comment change: the comments list and the article (its comment count). */
export const commentKeys = (articleId: number) => [key.comments(articleId), key.article(articleId)];

/**
 * Keys of a change to a section's name, slug or place in the tree: the tree,
 * the fronts of the section, its descendants and its ancestors (before and
 * after a move), and every article in it or below (their section names and
 * breadcrumbs), which public lists show too.
 */
export function sectionKeys(before: SectionTree, after: SectionTree, sectionId: number): string[] {
  const keys: string[] = [key.sections, key.articles, key.latest, key.popular];
  for (const tree of [before, after]) {
    if (!tree.byId.has(sectionId)) continue;
    keys.push(...frontKeys(tree, sectionId));
    for (const id of tree.descendantIds(sectionId)) {
      keys.push(key.section(id), key.front(tree.byId.get(id)!.slug));
    }
  }
  return [...new Set(keys)];
}

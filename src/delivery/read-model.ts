// The published read model: "PublishedArticle" holds, for every publicly
// readable article (PUBLISHED or ARCHIVED; readers filter by ARCHIVED_PUBLIC),
// the public document and list item ready to render, so a public read is one
// indexed statement. It is kept in step by a projection that runs inside the
// writer's transaction (src/events/outbox.ts): a reader never sees a row the
// writer's commit did not also make true, and never misses one it did.
//
// What the projection does, per batch of events:
// - any key `article:<id>` (or an article entity) rebuilds that article's row
//   from the normalized tables, or deletes it when the article is not
//   publicly readable (draft, in review, scheduled, trashed, purged);
// - comment events only recount that article's comments (one indexed query);
// - editor and media events rebuild the documents that credit the editor or
//   show the image;
// - when an article enters or leaves public view or its slug, headline or
//   kind changes, the documents that recommend it ("We Recommend", picked or
//   automatic) are rebuilt too, and their `article:<id>` keys are added to the
//   event so caches drop them as well.
//
// Languages and translations (issue 9): every document carries its effective
// language (the article's own, else its section's or nearest ancestor
// section's, else SITE_LANGUAGE; also in the "language" column for
// `?language=`), and the other published members of its translation group
// (`alternates`). Alternates stay reciprocal: when an article's appearance
// there (published or not, group, slug, language, section, publication time)
// changes, the documents of its old and new group members are rebuilt in the
// same projection and their `article:<id>` keys added to the event. A change
// of a section's language (or a move under another language) rebuilds the
// documents of the articles that inherit it. SITE_LANGUAGE is configuration:
// the start-up backfill rebuilds every document whose language differs from
// the one the current setting gives.
//
// Automatic recommendations (automaticRelated's rule, set-based here) are
// computed when a document is built: on the article's own events, on the events of a story it recommends (above), by a
// bounded periodic refresh of the longest-unrefreshed documents
// (READ_MODEL_REFRESH_INTERVAL_MS, READ_MODEL_REFRESH_BATCH: a story published
// later enters other articles' automatic lists within one full cycle), and by
// `npm run read-model:rebuild`.
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { emit, registerProjection, type ChangeEventInput } from "../events/outbox.ts";
import { publicArticleInclude } from "../articles/service.ts";
import { approvedCommentCounts } from "../comments/service.ts";
import type { MediaRef } from "../media/mappers.ts";
import { inArticleBatches } from "../db/article-batches.ts";
import { LANGUAGE_TAG, effectiveLanguage, normalizeLanguage } from "../i18n/languages.ts";
import { loadTree, type SectionTree } from "../sections/service.ts";
import { ldParts, type LdParts } from "../articles/jsonld.ts";
import { syncTombstones } from "./tombstones.ts";

type Db = PrismaClient | Prisma.TransactionClient;

export type ImageRef = MediaRef & { id: number };

/** Another published member of the article's translation group. */
export interface AlternateDoc {
  id: number;
  slug: string;
  sectionId: number;
  publishedAt: string | null;
  /** Effective language. */
  language: string;
}

// The site language the projection falls back to. The server's configuration
// comes from the environment, so that is the default; createApp (through
// deliveryRoutes) sets it from its Config. One value per process.
let siteLanguage = (() => {
  const v = process.env.SITE_LANGUAGE;
  return v && LANGUAGE_TAG.test(v) ? normalizeLanguage(v) : "en";
})();

/** Sets the SITE_LANGUAGE documents inherit when neither article nor section has a language. */
export function configureReadModel(config: { SITE_LANGUAGE: string }): void {
  siteLanguage = normalizeLanguage(config.SITE_LANGUAGE);
}

/** The config-independent public article; see render.ts for what is added at read time. */
export interface ArticleDoc {
  id: number;
  slug: string;
  headline: string;
  summary: string;
  dateline: string | null;
  source: string | null;
  byline: string | null;
  body: string;
  bodyText: string;
  kind: string;
  status: string;
  publishedAt: string | null;
  /** The editorial modification time (editorialUpdatedAt, else publishedAt): the public `updatedAt`. */
  updatedAt: string;
  /** Effective language (BCP 47). */
  language: string;
  /** Not public: the group id, so a rebuild knows the article's former group. */
  translationGroup: string | null;
  /** Other published members of the translation group (empty: no translations). */
  alternates: AlternateDoc[];
  /** The configuration-independent parts of the JSON-LD (see src/articles/jsonld.ts). */
  ld: LdParts;
  commentsClosed: boolean;
  sectionId: number;
  editors: { editor: { name: string } }[];
  tags: { tag: { slug: string; name: string } }[];
  leadImage: ImageRef | null;
  gallery: { caption: string; media: ImageRef }[];
  /** Picked stories (published ones), in the editors' order. */
  related: { related: { slug: string; headline: string; kind: string } }[];
  /** Filled only when none were picked. */
  automatic: { slug: string; headline: string; kind: string }[];
  /** Credited author profiles in byline order (issue 12 §5; absent in documents built before). */
  authorCredits?: { role: string; author: { id: number; slug: string; name: string } }[];
  /** Corrections, newest first (issue 12 §1; absent in documents built before). */
  corrections?: { id: number; type: string; text: string; at: string }[];
}

/** The list-item fragment (latest, fronts, collections, popular, /articles). */
export interface ItemDoc {
  id: number;
  slug: string;
  headline: string;
  summary: string;
  kind: string;
  publishedAt: string | null;
  leadImage: ImageRef | null;
  /** Effective language (absent in items built before languages: SITE_LANGUAGE is shown). */
  language?: string;
}

const PUBLIC_STATUSES = ["PUBLISHED", "ARCHIVED"] as const;

interface Row {
  articleId: number;
  slug: string;
  status: string;
  sectionId: number;
  kind: string;
  publishedAt: string | null;
  tagSlugs: string[];
  relatedIds: number[];
  commentCount: number;
  language: string;
  doc: ArticleDoc;
  item: ItemDoc;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type Pick = { id: number; slug: string; headline: string; kind: string };

/**
 * automaticRelated (src/articles/service.ts) for many articles in one
 * statement, so building a batch costs a fixed number of queries: up to 6
 * published stories sharing a tag, newest first, then from the section.
 */
async function automaticRelatedMany(db: Db, ids: number[], max = 6): Promise<Map<number, Pick[]>> {
  const out = new Map<number, Pick[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const rows = await db.$queryRaw<(Pick & { src: number; pri: number })[]>`
    SELECT s.id AS src, x.id, x.slug, x.headline, x.kind::text AS kind, x.pri
      FROM "Article" s
      CROSS JOIN LATERAL (
        (SELECT b.id, b.slug, b.headline, b.kind, 0 AS pri, b."publishedAt" FROM "Article" b
          WHERE b.status = 'PUBLISHED' AND b."deletedAt" IS NULL AND b."embargoedUntil" IS NULL AND b.id <> s.id
            AND EXISTS (SELECT 1 FROM "ArticleTag" bt JOIN "ArticleTag" st ON st."tagId" = bt."tagId"
                         WHERE bt."articleId" = b.id AND st."articleId" = s.id)
          ORDER BY b."publishedAt" DESC, b.id DESC LIMIT ${max})
        UNION ALL
        -- Twice as many: those already picked by tag are skipped below.
        (SELECT b.id, b.slug, b.headline, b.kind, 1 AS pri, b."publishedAt" FROM "Article" b
          WHERE b.status = 'PUBLISHED' AND b."deletedAt" IS NULL AND b."embargoedUntil" IS NULL AND b.id <> s.id AND b."sectionId" = s."sectionId"
          ORDER BY b."publishedAt" DESC, b.id DESC LIMIT ${2 * max})) x
     WHERE s.id = ANY(${ids}::int[])
     ORDER BY s.id, x.pri, x."publishedAt" DESC, x.id DESC`;
  for (const r of rows) {
    const list = out.get(r.src)!;
    if (list.length < max && !list.some((p) => p.id === r.id)) {
      list.push({ id: r.id, slug: r.slug, headline: r.headline, kind: r.kind });
    }
  }
  return out;
}

type Member = AlternateDoc & { group: string };

/** The published members of `groups` (indexed by "Article"."translationGroup"), with effective languages. */
async function groupMembers(db: Db, tree: SectionTree, groups: string[]): Promise<Map<string, Member[]>> {
  const out = new Map<string, Member[]>();
  if (!groups.length) return out;
  const rows = await db.$queryRaw<{ id: number; slug: string; sectionId: number; publishedAt: Date | null; language: string | null; group: string }[]>`
    SELECT id, slug, "sectionId", "publishedAt", language, "translationGroup" AS "group" FROM "Article"
     WHERE "translationGroup" = ANY(${groups}::text[]) AND status = 'PUBLISHED' AND "deletedAt" IS NULL AND "embargoedUntil" IS NULL
     ORDER BY id`;
  for (const r of rows) {
    const list = out.get(r.group) ?? [];
    list.push({
      id: r.id, slug: r.slug, sectionId: r.sectionId, publishedAt: iso(r.publishedAt), group: r.group,
      language: effectiveLanguage(r.language, tree.languageOf(r.sectionId), siteLanguage),
    });
    out.set(r.group, list);
  }
  return out;
}

/**
 * The other members an article lists: one per language (hreflang allows no
 * duplicates), the earliest published winning, and none in the article's own language.
 */
function alternatesOf(self: { id: number; language: string }, members: Member[]): AlternateDoc[] {
  const seen = new Set([self.language]);
  const out: AlternateDoc[] = [];
  const sorted = [...members].sort((x, y) => (x.publishedAt ?? "").localeCompare(y.publishedAt ?? "") || x.id - y.id);
  for (const m of sorted) {
    if (m.id === self.id || seen.has(m.language)) continue;
    seen.add(m.language);
    out.push({ id: m.id, slug: m.slug, sectionId: m.sectionId, publishedAt: m.publishedAt, language: m.language });
  }
  return out.sort((x, y) => x.language.localeCompare(y.language));
}

/** Rows for those of `ids` that are publicly readable now, built from the normalized tables. */
async function buildRows(db: Db, ids: number[]): Promise<Row[]> {
  if (!ids.length) return [];
  const articles = await db.article.findMany({
    // A pending embargo keeps the article out (src/articles/embargo.ts): the scheduler's release event rebuilds it.
    where: { id: { in: ids }, deletedAt: null, embargoedUntil: null, status: { in: [...PUBLIC_STATUSES] } },
    include: publicArticleInclude,
  });
  if (!articles.length) return [];
  const counts = await approvedCommentCounts(db, articles.map((a) => a.id));
  const auto = await automaticRelatedMany(db, articles.filter((a) => !a.related.length).map((a) => a.id));
  const tree = await loadTree(db);
  const groups = await groupMembers(db, tree, [...new Set(articles.flatMap((a) => (a.translationGroup ? [a.translationGroup] : [])))]);
  const rows: Row[] = [];
  for (const a of articles) {
    const automatic = a.related.length ? [] : auto.get(a.id)!;
    const language = effectiveLanguage(a.language, tree.languageOf(a.sectionId), siteLanguage);
    const doc: ArticleDoc = {
      id: a.id,
      slug: a.slug,
      headline: a.headline,
      summary: a.summary,
      dateline: a.dateline,
      source: a.source,
      byline: a.byline,
      body: a.body,
      bodyText: a.bodyText,
      kind: a.kind,
      status: a.status,
      publishedAt: iso(a.publishedAt),
      updatedAt: (a.editorialUpdatedAt ?? a.publishedAt ?? a.updatedAt).toISOString(),
      language,
      translationGroup: a.translationGroup,
      alternates: a.translationGroup ? alternatesOf({ id: a.id, language }, groups.get(a.translationGroup) ?? []) : [],
      ld: ldParts(a),
      commentsClosed: a.commentsClosed,
      sectionId: a.sectionId,
      editors: a.editors.map((e) => ({ editor: { name: e.editor.name } })),
      tags: a.tags.map((t) => ({ tag: { slug: t.tag.slug, name: t.tag.name } })),
      leadImage: a.leadImage,
      gallery: a.gallery.map((g) => ({ caption: g.caption, media: g.media })),
      related: a.related.map((r) => ({ related: { slug: r.related.slug, headline: r.related.headline, kind: r.related.kind } })),
      automatic: automatic.map((r) => ({ slug: r.slug, headline: r.headline, kind: r.kind })),
      authorCredits: a.authorCredits.map((c) => ({ role: c.role, author: { id: c.author.id, slug: c.author.slug, name: c.author.name } })),
      corrections: a.corrections.map((c) => ({ id: c.id, type: c.type, text: c.text, at: c.at.toISOString() })),
    };
    rows.push({
      articleId: a.id,
      slug: a.slug,
      status: a.status,
      sectionId: a.sectionId,
      kind: a.kind,
      publishedAt: doc.publishedAt,
      tagSlugs: doc.tags.map((t) => t.tag.slug),
      relatedIds: a.related.length ? a.related.map((r) => r.related.id) : automatic.map((r) => r.id),
      commentCount: counts.get(a.id) ?? 0,
      language,
      doc,
      item: {
        id: a.id, slug: a.slug, headline: a.headline, summary: a.summary, kind: a.kind,
        publishedAt: doc.publishedAt, leadImage: a.leadImage, language,
      },
    });
  }
  return rows;
}

/** What a recommending document shows of an article: when it changes, those documents are rebuilt. */
const shownAs = (r: { slug: string; status: string; headline: string; kind: string }) =>
  `${r.status === "PUBLISHED" ? "1" : "0"}\u0000${r.slug}\u0000${r.headline}\u0000${r.kind}`;

/** What a translation's document shows of an article (alternates): when it changes, those documents are rebuilt. */
const listedAs = (r: { status: string; group: string | null; slug: string; language: string | null; sectionId: number; publishedAt: string | null }) =>
  r.status === "PUBLISHED" && r.group
    ? [r.group, r.slug, r.language, r.sectionId, r.publishedAt ? new Date(r.publishedAt).getTime() : ""].join("\u0000")
    : "";

interface Refreshed {
  /** Ids whose appearance in other documents' "We Recommend" changed. */
  changed: number[];
  /** Translations (not among `ids`) whose documents were rebuilt because their alternates changed. */
  peers: number[];
}

/**
 * Rebuilds (or deletes) the rows of `ids`, and those of their translations
 * when what those list of them changed (unless `peers` is false: a caller
 * rebuilding everything in batches).
 */
async function refresh(db: Db, ids: number[], opts: { peers?: boolean } = {}): Promise<Refreshed> {
  ids = [...new Set(ids)];
  if (!ids.length) return { changed: [], peers: [] };
  if (opts.peers !== false) await lockGroups(db, ids);
  const before = await db.$queryRaw<{
    articleId: number; slug: string; status: string; headline: string; kind: string;
    group: string | null; language: string | null; sectionId: number; publishedAt: string | null;
  }[]>`
    SELECT "articleId", slug, status::text AS status, doc->>'headline' AS headline, kind::text AS kind,
           doc->>'translationGroup' AS "group", language, "sectionId", doc->>'publishedAt' AS "publishedAt"
      FROM "PublishedArticle" WHERE "articleId" = ANY(${ids}::int[])`;
  const rows = await buildRows(db, ids);
  await upsertRows(db, ids, rows);
  const old = new Map(before.map((b) => [b.articleId, shownAs(b)]));
  const now = new Map(rows.map((r) => [r.articleId, shownAs({ ...r, headline: r.doc.headline })]));
  const changed = ids.filter((id) => old.get(id) !== now.get(id));
  if (opts.peers === false) return { changed, peers: [] };
  // The translations of an article whose listing changed (its former group's and its new one's) list it differently now.
  const oldListed = new Map(before.map((b) => [b.articleId, b]));
  const newListed = new Map(rows.map((r) => [r.articleId, r]));
  const groups = new Set<string>();
  for (const id of ids) {
    const b = oldListed.get(id);
    const r = newListed.get(id);
    if ((b ? listedAs(b) : "") === (r ? listedAs({ ...r, group: r.doc.translationGroup }) : "")) continue;
    if (b?.group) groups.add(b.group);
    if (r?.doc.translationGroup) groups.add(r.doc.translationGroup);
  }
  const self = new Set(ids);
  const peers = groups.size ? (await sameGroup(db, [...groups])).filter((id) => !self.has(id)) : [];
  if (peers.length) await upsertRows(db, peers, await buildRows(db, peers));
  return { changed, peers };
}

// Namespace of the translation-group advisory locks (pg_advisory_xact_lock(int, int)).
const GROUP_LOCK = 72707371;

/**
 * Serializes the projections of writers to one translation group (the
 * articles' former and current groups), taken before anything of theirs is
 * read: two members written at once (a translator on each) otherwise each
 * build the other's document from a read taken before the other committed, and
 * the later commit would publish a stale listing. The second waits until the
 * first commits, then reads what it wrote (READ COMMITTED: a fresh snapshot
 * per statement). It holds no row the first needs: documents are written
 * after this lock, article rows are only read.
 */
async function lockGroups(db: Db, ids: number[]): Promise<void> {
  const rows = await db.$queryRaw<{ group: string }[]>`
    SELECT "translationGroup" AS "group" FROM "Article" WHERE id = ANY(${ids}::int[]) AND "translationGroup" IS NOT NULL
    UNION
    SELECT doc->>'translationGroup' FROM "PublishedArticle" WHERE "articleId" = ANY(${ids}::int[]) AND doc->>'translationGroup' IS NOT NULL`;
  const groups = rows.map((r) => r.group).sort();
  if (!groups.length) return;
  // In one order everywhere (sorted), so two writers to two groups cannot wait on each other in a cycle.
  await db.$executeRaw`SELECT pg_advisory_xact_lock(${GROUP_LOCK}::int, hashtext(g)) FROM unnest(${groups}::text[]) AS g`;
}

/** Published or archived articles of `groups` (indexed). */
async function sameGroup(db: Db, groups: string[]): Promise<number[]> {
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT id FROM "Article" WHERE "translationGroup" = ANY(${groups}::text[])
       AND status IN ('PUBLISHED', 'ARCHIVED') AND "deletedAt" IS NULL AND "embargoedUntil" IS NULL`;
  return rows.map((r) => r.id);
}

/** Writes `rows` (built for `ids`) and deletes the rows of those of `ids` that were not built. */
async function upsertRows(db: Db, ids: number[], rows: Row[]): Promise<void> {
  const built = new Set(rows.map((r) => r.articleId));
  const gone = ids.filter((id) => !built.has(id));
  if (gone.length) await db.$executeRaw`DELETE FROM "PublishedArticle" WHERE "articleId" = ANY(${gone}::int[])`;
  if (rows.length) {
    // A row left behind under a slug another article now has (a write that
    // appended no event) must not block this one.
    await db.$executeRaw`DELETE FROM "PublishedArticle"
      WHERE slug = ANY(${rows.map((r) => r.slug)}::text[]) AND NOT ("articleId" = ANY(${rows.map((r) => r.articleId)}::int[]))`;
    await db.$executeRaw`
      INSERT INTO "PublishedArticle"
        ("articleId", slug, status, "sectionId", kind, "publishedAt", "tagSlugs", "relatedIds", "commentCount", language, doc, item, "builtAt")
      SELECT x."articleId", x.slug, x.status::"ArticleStatus", x."sectionId", x.kind::"ArticleKind", x."publishedAt",
             x."tagSlugs", x."relatedIds", x."commentCount", x.language, x.doc, x.item, now()
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          "articleId" int, slug text, status text, "sectionId" int, kind text, "publishedAt" timestamptz,
          "tagSlugs" text[], "relatedIds" int[], "commentCount" int, language text, doc jsonb, item jsonb)
      ON CONFLICT ("articleId") DO UPDATE SET
        slug = EXCLUDED.slug, status = EXCLUDED.status, "sectionId" = EXCLUDED."sectionId", kind = EXCLUDED.kind,
        "publishedAt" = EXCLUDED."publishedAt", "tagSlugs" = EXCLUDED."tagSlugs", "relatedIds" = EXCLUDED."relatedIds",
        "commentCount" = EXCLUDED."commentCount", language = EXCLUDED.language, doc = EXCLUDED.doc, item = EXCLUDED.item,
        "builtAt" = EXCLUDED."builtAt"`;
  }
}

/** Documents that show any of `ids` under "We Recommend" (automatic or picked, even when hidden now). */
async function recommenders(db: Db, ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT "articleId" AS id FROM "PublishedArticle" WHERE "relatedIds" && ${ids}::int[]
    UNION
    SELECT r."articleId" AS id FROM "ArticleRelated" r WHERE r."relatedId" = ANY(${ids}::int[])`;
  const self = new Set(ids);
  return rows.map((r) => r.id).filter((id) => !self.has(id));
}

/** Recounts the readers' comment count of each article (indexed, bounded by its comments). */
async function recountComments(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const counts = await approvedCommentCounts(db, ids);
  const list = [...counts];
  await db.$executeRaw`
    UPDATE "PublishedArticle" p SET "commentCount" = x.n
      FROM unnest(${list.map(([id]) => id)}::int[], ${list.map(([, n]) => n)}::int[]) AS x(id, n)
     WHERE p."articleId" = x.id AND p."commentCount" <> x.n`;
}

const keyIds = (keys: string[], prefix: string) =>
  keys.flatMap((k) => (k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length)) ? [Number(k.slice(prefix.length))] : []));

/** Applies a batch of change events to the read model, in the writer's transaction. */
export async function project(db: Db, events: ChangeEventInput[]): Promise<void> {
  const rebuild = new Set<number>();
  const recount = new Set<number>();
  const editors = new Set<number>();
  const media = new Set<number>();
  const languageSections = new Set<number>();
  for (const e of events) {
    // The read model's own announcements (refreshRecommendations): already applied.
    if (e.entityType === READ_MODEL_ENTITY) continue;
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.entityType === "comment") {
      for (const id of [...keyIds(e.keys, "comments:"), ...keyIds(e.keys, "article:")]) recount.add(id);
      if (typeof data.articleId === "number") recount.add(data.articleId);
      continue;
    }
    if (e.entityType === "article" && e.entityId) rebuild.add(e.entityId);
    for (const id of keyIds(e.keys, "article:")) rebuild.add(id);
    if (e.entityType === "editor" && e.entityId) editors.add(e.entityId);
    if (e.entityType === "media" && e.entityId) media.add(e.entityId);
    // Sections whose language changed (theirs, or an ancestor's through a move): see updateSection.
    if (e.entityType === "section" && Array.isArray(data.languageSections)) {
      for (const id of data.languageSections) if (typeof id === "number") languageSections.add(id);
    }
  }
  if (languageSections.size) {
    // The public documents that inherit the language: bounded by those sections' articles (sections are rare writes).
    const rows = await db.$queryRaw<{ id: number }[]>`
      SELECT a.id FROM "Article" a JOIN "PublishedArticle" p ON p."articleId" = a.id
       WHERE a."sectionId" = ANY(${[...languageSections]}::int[]) AND a.language IS NULL`;
    for (const r of rows) rebuild.add(r.id);
  }
  if (editors.size || media.size) {
    const rows = await db.$queryRaw<{ id: number }[]>`
      SELECT e."articleId" AS id FROM "ArticleEditor" e
        JOIN "PublishedArticle" p ON p."articleId" = e."articleId"
       WHERE e."editorId" = ANY(${[...editors]}::int[])
      UNION
      SELECT a.id FROM "Article" a JOIN "PublishedArticle" p ON p."articleId" = a.id
       WHERE a."leadImageId" = ANY(${[...media]}::int[])
      UNION
      SELECT g."articleId" AS id FROM "GalleryItem" g JOIN "PublishedArticle" p ON p."articleId" = g."articleId"
       WHERE g."mediaId" = ANY(${[...media]}::int[])`;
    for (const r of rows) rebuild.add(r.id);
  }
  const ids = [...rebuild];
  const { changed, peers } = await refresh(db, ids);
  await syncTombstones(db, ids);
  const also = (await recommenders(db, changed)).filter((id) => !rebuild.has(id));
  if (also.length) await refresh(db, also, { peers: false });
  if (also.length || peers.length) {
    // Caches keyed by these documents must drop them too.
    const first = events[0];
    first.keys = [...new Set([...first.keys, ...[...also, ...peers].map((id) => `article:${id}`)])];
  }
  await recountComments(db, [...recount].filter((id) => !rebuild.has(id)));
}

registerProjection(project);

const BATCH = 200;

const READ_MODEL_ENTITY = "read-model";

/**
 * The bounded periodic refresh: rebuilds the `batch` longest-unrefreshed
 * documents, so automatic recommendations pick up stories published since
 * (a full cycle takes rows / batch intervals), and announces those whose
 * document changed with one event carrying their `article:<id>` keys, so
 * caches on every instance drop them. Instances share the work: rows being
 * refreshed elsewhere are skipped (SKIP LOCKED).
 */
export async function refreshRecommendations(prisma: PrismaClient, batch: number): Promise<number[]> {
  return prisma.$transaction(async (tx) => {
    // Article rows first, as writers lock them (then the read model's rows);
    // rows another instance or a writer holds are left for later.
    const due = await tx.$queryRaw<{ id: number }[]>`
      SELECT a.id FROM "Article" a
       WHERE a.id IN (SELECT "articleId" FROM "PublishedArticle" ORDER BY "builtAt", "articleId" LIMIT ${batch})
       ORDER BY a.id
       FOR NO KEY UPDATE OF a SKIP LOCKED`;
    const ids = due.map((d) => d.id);
    if (!ids.length) return [];
    const hash = () => tx.$queryRaw<{ id: number; h: string }[]>`
      SELECT "articleId" AS id, md5(doc::text) AS h FROM "PublishedArticle" WHERE "articleId" = ANY(${ids}::int[])`;
    const before = new Map((await hash()).map((r) => [r.id, r.h]));
    // Each document lists its translations as they are now; their own documents are refreshed in their turn.
    await refresh(tx, ids, { peers: false });
    const changed = (await hash()).filter((r) => before.get(r.id) !== r.h).map((r) => r.id);
    if (changed.length) {
      await emit(tx, {
        type: "read-model.refreshed", entityType: READ_MODEL_ENTITY,
        keys: changed.map((id) => `article:${id}`), data: { articles: changed },
      });
    }
    return changed;
  }, { timeout: 60_000 });
}

export interface RefreshTimer {
  stop(): Promise<void>;
}

/** Runs refreshRecommendations every `intervalMs` (0: never). */
export function startRecommendationRefresh(
  prisma: PrismaClient, logger: Logger, opts: { intervalMs: number; batch: number },
): RefreshTimer {
  if (!opts.intervalMs) return { stop: async () => {} };
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = refreshRecommendations(prisma, opts.batch)
      .catch((err) => logger.warn({ err }, "read model: periodic refresh failed"))
      .finally(() => { running = undefined; });
  }, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Builds the rows of `ids` in locked batches (src/db/article-batches.ts). */
async function buildInBatches(prisma: PrismaClient, ids: number[], concurrency: number, logger?: Logger): Promise<void> {
  await inArticleBatches(prisma, ids, { size: BATCH, concurrency, label: "read model", logger }, (tx, batch) =>
    // Translations are rebuilt by the caller (backfill) or are in the batches anyway (rebuildAll).
    refresh(tx, batch, { peers: false }));
}

export interface BackfillDue {
  /** Publicly readable articles without a row. */
  missing: number[];
  /** Rows whose language is not the effective one (see staleLanguage). */
  stale: number[];
}

/** What backfill would build; the server reads it once to choose where to build (src/server.ts). */
export async function backfillDue(prisma: PrismaClient): Promise<BackfillDue> {
  const missing = await prisma.$queryRaw<{ id: number }[]>`
    SELECT a.id FROM "Article" a
     WHERE a.status IN ('PUBLISHED', 'ARCHIVED') AND a."deletedAt" IS NULL AND a."embargoedUntil" IS NULL
       AND NOT EXISTS (SELECT 1 FROM "PublishedArticle" p WHERE p."articleId" = a.id)
     ORDER BY a.id`;
  return { missing: missing.map((m) => m.id), stale: (await staleLanguage(prisma)).map((s) => s.id) };
}

/**
 * Rows whose language is not the one the current SITE_LANGUAGE and section
 * languages give (built before languages existed, or SITE_LANGUAGE changed
 * since), or whose list item lacks it. Reads every row: start-up only.
 */
async function staleLanguage(prisma: PrismaClient): Promise<{ id: number }[]> {
  const tree = await loadTree(prisma);
  const sections = [...tree.byId.keys()];
  return prisma.$queryRaw<{ id: number }[]>`
    SELECT p."articleId" AS id FROM "PublishedArticle" p
      JOIN "Article" a ON a.id = p."articleId"
      LEFT JOIN unnest(${sections}::int[], ${sections.map((id) => tree.languageOf(id))}::text[]) AS s(id, language)
        ON s.id = a."sectionId"
     WHERE p.language IS DISTINCT FROM COALESCE(a.language, s.language, ${siteLanguage})
        OR p.item->>'language' IS DISTINCT FROM p.language
     ORDER BY 1`;
}

/**
 * Builds the rows of publicly readable articles that have none (at start:
 * content written before the read model existed, or without events), and
 * rebuilds those whose language is not the effective one (documents built
 * before languages existed, or SITE_LANGUAGE changed since), then the
 * documents of their translations. Returns how many rows were missing.
 */
export async function backfill(prisma: PrismaClient, logger?: Logger, concurrency = 1, due?: BackfillDue): Promise<number> {
  const { missing, stale } = due ?? (await backfillDue(prisma));
  const ids = [...missing, ...stale];
  if (!ids.length) return 0;
  await buildInBatches(prisma, ids, concurrency, logger);
  const built = new Set(ids);
  const groups = await prisma.$queryRaw<{ group: string }[]>`
    SELECT DISTINCT "translationGroup" AS "group" FROM "Article"
     WHERE id = ANY(${ids}::int[]) AND "translationGroup" IS NOT NULL`;
  const peers = groups.length ? (await sameGroup(prisma, groups.map((g) => g.group))).filter((id) => !built.has(id)) : [];
  if (peers.length) await buildInBatches(prisma, peers, concurrency, logger);
  if (missing.length) logger?.info({ articles: missing.length }, "read model: built rows for published articles that had none");
  if (stale.length) logger?.info({ articles: stale.length, translations: peers.length }, "read model: rebuilt rows whose language changed");
  return missing.length;
}

/** Rebuilds every row (and removes rows of articles no longer public): `npm run read-model:rebuild`. */
export async function rebuildAll(prisma: PrismaClient, logger?: Logger, concurrency = 1): Promise<number> {
  const stale = await prisma.$executeRaw`
    DELETE FROM "PublishedArticle" p USING "Article" a
     WHERE a.id = p."articleId" AND (a."deletedAt" IS NOT NULL OR a."embargoedUntil" IS NOT NULL OR a.status NOT IN ('PUBLISHED', 'ARCHIVED'))`;
  const all = await prisma.$queryRaw<{ id: number }[]>`
    SELECT id FROM "Article" WHERE status IN ('PUBLISHED', 'ARCHIVED') AND "deletedAt" IS NULL AND "embargoedUntil" IS NULL ORDER BY id`;
  await buildInBatches(prisma, all.map((a) => a.id), concurrency, logger);
  logger?.info({ articles: all.length, removed: stale }, "read model: rebuilt");
  return all.length;
}

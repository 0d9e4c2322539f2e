// Public GET routes served from the read model (the editor API never reads
// it). Each answers with at most the statements noted; the section tree
// comes from memory (section-tree.ts).
import { Router, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { decodeCursor, pageQuery, paginate } from "../http/pagination.ts";
import { route, slugParams, slugSchema } from "../http/validate.ts";
import { publicView } from "../articles/presentation.ts";
import { printHtml, printText } from "../articles/print.ts";
import { publicStatuses } from "../articles/service.ts";
import { publicImage } from "../media/mappers.ts";
import { sectionRef } from "../sections/mappers.ts";
import { LiveSectionTree } from "./section-tree.ts";
import { renderItem, type RenderedArticle } from "./render.ts";
import { articleKeys, createArticleRenderer, type ArticleRenderer } from "./rendered.ts";
import { articleBySlug, collectionBySlug, commentPage, frontRows, listItems, popularRows, type ItemRow } from "./reads.ts";
import { configureReadModel } from "./read-model.ts";
import { languageSchema } from "../i18n/schema.ts";
import { surrogateKeys, type MissLoader } from "./response-cache.ts";
import { searchRoutes } from "./search.ts";
import { publicReads } from "../db/replicas.ts";
import { Withdrawn, goneError, sendTombstone } from "./withdrawn.ts";

const kind = z.enum(["STORY", "ANALYSIS", "OPINION", "PHOTO_STORY", "LIVE"]);
// ?language= (issue 9): the articles' effective language, normalized (zh-hans finds zh-Hans).
const languageQuery = { language: languageSchema.optional() };
const limitQuery = (dflt: number) => z.object({ limit: z.coerce.number().int().min(1).max(50).default(dflt), ...languageQuery });

const HOUR_MS = 3_600_000;
const WINDOWS = { "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS } as const;
const popularQuery = z.object({
  window: z.enum(["24h", "7d", "30d"]).default("24h"),
  section: slugSchema.optional(),
  limit: z.coerce.number().int().min(1).max(50).default(10),
  ...languageQuery,
});

type ArticleRow = Awaited<ReturnType<typeof articleBySlug>>;
interface Prefetched {
  slug: string;
  key: string;
  row: ArticleRow;
}

/**
 * The response cache's loader for a missed article (src/app.ts): one
 * statement, then the stored JSON is sent from the fast path. Anything else
 * (no such article, JSON not rendered under this instance's key yet, a slug
 * that fails validation, an error) goes down the middleware chain, which
 * uses the row read here rather than reading it again.
 */
export function articleMissLoader(ctx: AppContext, renderer: ArticleRenderer): MissLoader {
  const statuses = publicStatuses(ctx.config.ARCHIVED_PUBLIC);
  const reads = publicReads(ctx);
  return async ({ slug }, res) => {
    if (!slugSchema.safeParse(slug).success) return undefined;
    const { key } = await renderer.key();
    const row = await reads.run(res.req, (db) => articleBySlug(db, slug, statuses, key, { tombstones: true }));
    res.locals.prefetchedArticle = { slug, key, row } satisfies Prefetched;
    // The chain's Server-Timing counts it.
    res.locals.statementsBefore = 1;
    if (!row || row.json === null || row.etag === null || row.jsonKeys === null) return undefined;
    return { body: row.json, etag: row.etag, keys: row.jsonKeys.split(" "), statements: 1 };
  };
}

export function deliveryRoutes(
  ctx: AppContext,
  sections = new LiveSectionTree(ctx.prisma, ctx.events),
  renderer: ArticleRenderer = createArticleRenderer({ db: ctx.db, logger: ctx.logger, sections, view: publicView(ctx.config) }, { start: false }),
): Router {
  const r = Router();
  const view = publicView(ctx.config);
  configureReadModel(ctx.config);
  const statuses = publicStatuses(ctx.config.ARCHIVED_PUBLIC);
  // Read replicas when configured (src/db/replicas.ts); the section tree stays on the primary's events.
  const reads = publicReads(ctx);

  const items = async (res: Response, rows: ItemRow[]) => {
    surrogateKeys(res, rows.map((x) => `article:${x.articleId}`));
    const tree = await sections.knowing(rows.map((x) => x.sectionId));
    return rows.map((x) => renderItem(x.item, x.sectionId, tree, view));
  };
  const sectionIds = async (slug: string) => {
    const { tree, section } = await sections.bySlug(slug);
    if (!section) throw notFound("Section");
    return { tree, section, ids: tree.descendantIds(section.id) };
  };

  // 1 statement: the stored JSON when it was rendered with this instance's
  // key (src/delivery/rendered.ts), else the document, rendered here.
  const load = async (slug: string, res: Response): Promise<{ json: string; etag: string }> => {
    const k = await renderer.key();
    // Read already by the app's fast path (articleMissLoader), which left the answer to this chain.
    const pre = res.locals.prefetchedArticle as Prefetched | undefined;
    const row = pre && pre.slug === slug && pre.key === k.key
      ? pre.row
      : await reads.run(res.req, (db) => articleBySlug(db, slug, statuses, k.key, { tombstones: true }));
    if (!row) throw notFound("Article");
    if (row.tombstone) throw new Withdrawn(row.tombstone, row.jsonKeys ?? "");
    if (row.json !== null && row.etag !== null && row.jsonKeys !== null) {
      surrogateKeys(res, row.jsonKeys.split(" "));
      return { json: row.json, etag: row.etag };
    }
    const doc = row.doc!;
    surrogateKeys(res, articleKeys(doc, row));
    const tree = await sections.knowing([doc.sectionId, ...(doc.alternates ?? []).map((x) => x.sectionId)]);
    return renderer.render(doc, row, tree);
  };
  r.get("/articles/:slug", route({ params: slugParams }, async ({ params }, _req, res) => {
    const loaded = await load(params.slug, res).catch((err: unknown) => {
      if (!(err instanceof Withdrawn)) throw err;
      sendTombstone(res, err);
      return undefined;
    });
    if (!loaded) return;
    const { json, etag } = loaded;
    // The bytes as res.json would send them, with their ETag already known.
    res.locals.etag = etag;
    res.set("Content-Type", "application/json; charset=utf-8").send(json);
  }));
  // A print-friendly page: no scripts, nothing loaded but the article's images.
  r.get("/articles/:slug/print", route({ params: slugParams }, async ({ params }, req, res) => {
    const a = JSON.parse((await load(params.slug, res).catch(goneError)).json) as RenderedArticle;
    res.set("Content-Security-Policy", "default-src 'none'; img-src * data:; style-src 'unsafe-inline'");
    if (req.accepts(["text/html", "text/plain"]) === "text/plain") res.type("text/plain").send(printText(a));
    else res.type("text/html").send(printHtml(a));
  }));

  // 1 statement.
  const listQuery = z.object({ section: slugSchema.optional(), tag: slugSchema.optional(), kind: kind.optional(), ...languageQuery, ...pageQuery });
  r.get("/articles", route({ query: listQuery }, async ({ query }, req, res) => {
    const cursor = decodeCursor(query.cursor);
    if (cursor && !cursor.t) throw badRequest("The request is invalid.", [{ path: "query.cursor", message: "Invalid cursor." }]);
    const ids = query.section ? (await sectionIds(query.section)).ids : undefined;
    const rows = await reads.run(req, (db) => listItems(db.prisma, {
      sectionIds: ids,
      tag: query.tag,
      kind: query.kind,
      language: query.language,
      before: cursor ? { t: new Date(cursor.t!), id: cursor.id } : undefined,
      limit: query.limit + 1,
    }));
    const { page, nextCursor } = paginate(rows, query.limit, (x) => ({ t: x.item.publishedAt!, id: x.articleId }));
    res.json({ data: await items(res, page), meta: { nextCursor } });
  }));

  // 1 statement.
  r.get("/latest", route({ query: limitQuery(10) }, async ({ query }, req, res) => {
    const rows = await reads.run(req, (db) => listItems(db.prisma, { limit: query.limit, language: query.language }));
    res.json({ data: await items(res, rows) });
  }));

  // 1 statement: lead (pinned, else newest with an image, else newest) and the stories after it.
  r.get("/sections/:slug/front", route({ params: slugParams, query: limitQuery(10) }, async ({ params, query }, req, res) => {
    const { tree, section, ids } = await sectionIds(params.slug);
    const rows = await reads.run(req, (db) => frontRows(db.prisma, section.id, ids, query.limit, query.language));
    // Newest first; ISO timestamps of one format compare as strings.
    const key = (x: ItemRow) => `${x.item.publishedAt ?? ""} ${String(x.articleId).padStart(10, "0")}`;
    const list = rows.filter((x) => x.src === "list").sort((x, y) => (key(x) < key(y) ? 1 : key(x) > key(y) ? -1 : 0));
    const pick = rows.find((x) => x.src === "pinned") ?? rows.find((x) => x.src === "image") ?? list[0];
    const source = pick ? (pick.src === "list" ? "newest" : pick.src) : null;
    const stories = list.filter((x) => x.articleId !== pick?.articleId).slice(0, query.limit);
    surrogateKeys(res, [`section:${section.id}`, "sections"]);
    const [lead, ...rest] = await items(res, pick ? [pick, ...stories] : stories);
    res.json({
      section: { ...sectionRef(section), description: section.description, breadcrumb: tree.breadcrumb(section.id).map(sectionRef) },
      lead: pick ? lead : null,
      leadSource: source,
      stories: pick ? rest : [],
    });
  }));

  // 1 statement.
  r.get("/collections/:slug", route({ params: slugParams }, async ({ params }, req, res) => {
    const c = await reads.run(req, (db) => collectionBySlug(db.prisma, params.slug));
    if (!c) throw notFound("Collection");
    surrogateKeys(res, c.items.map((i) => `article:${i.item.id}`));
    const tree = await sections.knowing(c.items.map((i) => i.sectionId));
    res.json({
      slug: c.slug,
      name: c.name,
      items: c.items.map((i) => {
        const item = renderItem(i.item, i.sectionId, tree, view);
        return {
          ...item,
          headline: i.headline ?? item.headline,
          image: i.image ? publicImage(i.image, view.mediaBaseUrl) : item.leadImage,
        };
      }),
    });
  }));

  // 1 statement.
  r.get("/popular", route({ query: popularQuery }, async ({ query }, req, res) => {
    // Whole hour buckets: the one containing the window start counts in full.
    const since = new Date(Math.floor((Date.now() - WINDOWS[query.window]) / HOUR_MS) * HOUR_MS);
    const ids = query.section ? (await sectionIds(query.section)).ids : undefined;
    const rows = await reads.run(req, (db) => popularRows(db.prisma, since, query.limit, ids, query.language));
    const rendered = await items(res, rows);
    const data = rendered.map((item, i) => ({ ...item, views: Number(rows[i].views) }));
    res.json({ data, meta: { window: query.window, since: since.toISOString() } });
  }));

  // 1 statement: the page of approved comments with their approved replies.
  r.get("/articles/:slug/comments", route({ params: slugParams, query: z.object(pageQuery) }, async ({ params, query }, req, res) => {
    const cursor = decodeCursor(query.cursor);
    const row = await reads.run(req, (db) => commentPage(db.prisma, params.slug, statuses, cursor?.id ?? 0, query.limit + 1));
    if (!row) throw notFound("Article");
    // The article's key too: unpublishing it must end its comment list.
    surrogateKeys(res, [`comments:${row.id}`, `article:${row.id}`]);
    const { page, nextCursor } = paginate(row.page, query.limit, (c) => ({ id: c.id }));
    const one = (c: { id: number; authorName: string; body: string; createdAt: string }) => ({
      id: c.id, name: c.authorName, body: c.body, createdAt: new Date(c.createdAt).toISOString(),
    });
    res.json({ data: page.map((c) => ({ ...one(c), replies: c.replies.map(one) })), meta: { nextCursor } });
  }));

  // 1 statement (src/delivery/search.ts).
  r.use(searchRoutes(ctx, sections));

  return r;
}

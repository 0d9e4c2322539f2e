// The routes of feeds, sitemaps and robots.txt (issue 9, §2 and §3).
//
// - `api` (mounted in the public router under /api/v1, behind its response
//   cache): GET /feeds/{rss|atom|json} with ?section=, ?tag=, ?author=,
//   ?language=.
// - `root` (mounted at the top of the app, where feed readers and crawlers
//   look, and where a frontend proxies them on the site's host): /rss.xml,
//   /atom.xml, /feed.json (the same feeds), /sitemap.xml,
//   /sitemaps/articles-<n>.xml, /sitemaps/sections.xml, /sitemap-news.xml,
//   /robots.txt. Each route runs the public CORS rule and the same response
//   cache middleware as the public API (route-level, so the middleware sees
//   the full path it has a policy for: see POLICIES).
//
// Every response is cached in process, by CDNs and browsers (strong ETag,
// 304, Cache-Control, Surrogate-Key), and carries Last-Modified when it has
// a newest item. At most one SQL statement per request (the section tree
// comes from memory).
import { Router, type RequestHandler, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { notFound } from "../http/errors.ts";
import { route, slugSchema } from "../http/validate.ts";
import { publicView } from "../articles/presentation.ts";
import { normalizeLanguage } from "../i18n/languages.ts";
import { languageSchema } from "../i18n/schema.ts";
import { LiveSectionTree } from "./section-tree.ts";
import { surrogateKeys } from "./response-cache.ts";
import { lastModified, newest, urls } from "./discovery.ts";
import { publicReads } from "../db/replicas.ts";
import { authorSlugSchema } from "../authors/schema.ts";
import { authorPageUrl } from "../authors/mappers.ts";
import {
  FEED_MEDIA_TYPES, atom, feedRows, feedUpdated, jsonFeed, rss, toEntry,
  type FeedFilter, type FeedFormat, type FeedMeta,
} from "./feeds.ts";
import {
  SITEMAP_MAX_BYTES, articlePageRows, articlePages, articleSitemap, maxPublishedId, newsRows, newsSitemap,
  robotsTxt, sectionNewest, sectionSitemap, sitemapIndex,
} from "./sitemaps.ts";

const SITEMAP_TYPE = "application/xml; charset=utf-8";

export const feedQuery = z
  .object({
    section: slugSchema.optional(),
    tag: slugSchema.optional(),
    author: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
    // An author profile's slug (issue 12 §5; src/authors).
    authorProfile: authorSlugSchema.optional(),
    // As on the public lists: the effective language, matched in canonical case.
    language: languageSchema.optional(),
  })
  .superRefine((q, ctx) => {
    const set = (["section", "tag", "author", "authorProfile"] as const).filter((k) => q[k] !== undefined);
    if (set.length > 1) {
      for (const k of set.slice(1)) ctx.addIssue({ code: "custom", path: [k], message: `Use one of section, tag, author and authorProfile (got ${set.join(", ")}).` });
    }
  });
type FeedQuery = z.output<typeof feedQuery>;

/** The query as the feed names itself: known parameters only, in a fixed order. */
function canonicalQuery(q: FeedQuery): string {
  const p = new URLSearchParams();
  if (q.author !== undefined) p.set("author", String(q.author));
  if (q.authorProfile) p.set("authorProfile", q.authorProfile);
  if (q.language) p.set("language", q.language);
  if (q.section) p.set("section", q.section);
  if (q.tag) p.set("tag", q.tag);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export interface DiscoveryMiddleware {
  /** The public CORS rule. */
  cors: RequestHandler;
  /** The response cache's middleware (createResponseCache(...).middleware). */
  cache: RequestHandler;
}

export function discoveryRoutes(ctx: AppContext, mw: DiscoveryMiddleware, sections = new LiveSectionTree(ctx.prisma, ctx.events)) {
  const { config } = ctx;
  const view = publicView(config);
  const u = urls(config);
  const site = { language: normalizeLanguage(config.SITE_LANGUAGE), publication: config.PUBLICATION_NAME };
  // Read replicas when configured (src/db/replicas.ts).
  const reads = publicReads(ctx);

  async function feed(format: FeedFormat, q: FeedQuery, self: Record<FeedFormat, string>, res: Response) {
    const filter: FeedFilter = { language: q.language, tag: q.tag, author: q.author, authorProfile: q.authorProfile };
    let sectionName: string | undefined;
    let sectionSlug: string | undefined;
    let sectionDescription = "";
    let sectionId: number | undefined;
    if (q.section) {
      const { tree, section } = await sections.bySlug(q.section);
      if (!section) throw notFound("Section");
      filter.sectionIds = tree.descendantIds(section.id);
      sectionName = section.name;
      sectionSlug = section.slug;
      sectionDescription = section.description;
      sectionId = section.id;
    }
    const found = await reads.run(res.req, (db) => feedRows(db.prisma, filter));
    if (!found) throw notFound(q.tag ? "Tag" : "Author");
    const tree = await sections.knowing(found.rows.map((r) => r.sectionId));
    const entries = found.rows.map((r) => toEntry(r, tree, view, u, site));
    surrogateKeys(res, [
      ...found.rows.map((r) => `article:${r.articleId}`),
      ...(sectionId !== undefined ? [`section:${sectionId}`] : []),
    ]);
    const what = sectionName ?? found.name ?? undefined;
    const language = q.language
      ?? (sectionId !== undefined ? normalizeLanguage(tree.languageOf(sectionId) ?? site.language) : site.language);
    const meta: FeedMeta = {
      title: [config.PUBLICATION_NAME, what].filter(Boolean).join(" — ") + (q.language ? ` (${q.language})` : ""),
      description: sectionDescription
        || (q.tag ? `Stories tagged ${found.name} from ${config.PUBLICATION_NAME}`
          : q.author !== undefined ? `Stories by or edited by ${found.name} at ${config.PUBLICATION_NAME}`
            : q.authorProfile ? `Stories by ${found.name} at ${config.PUBLICATION_NAME}`
            : `The latest stories from ${config.PUBLICATION_NAME}`),
      home: sectionSlug ? u.section(sectionSlug) : q.authorProfile ? authorPageUrl(view, q.authorProfile) : u.site,
      self,
      language,
      publication: config.PUBLICATION_NAME,
      logo: config.PUBLISHER_LOGO_URL,
      updated: feedUpdated(entries),
    };
    const body = format === "rss" ? rss(meta, entries)
      : format === "atom" ? atom(meta, entries, { section: `${u.site}/sections/`, tag: `${u.site}/tags/` })
        : jsonFeed(meta, entries);
    lastModified(res, meta.updated);
    res.type(`${FEED_MEDIA_TYPES[format]}; charset=utf-8`).send(body);
  }

  // --- /api/v1/feeds/{format} ---
  const api = Router();
  const formatParams = z.object({ format: z.enum(["rss", "atom", "json"]) });
  api.get("/feeds/:format", route({ params: formatParams, query: feedQuery }, async ({ params, query }, _req, res) => {
    const qs = canonicalQuery(query);
    const self = {
      rss: `${u.api}/api/v1/feeds/rss${qs}`,
      atom: `${u.api}/api/v1/feeds/atom${qs}`,
      json: `${u.api}/api/v1/feeds/json${qs}`,
    };
    await feed(params.format, query, self, res);
  }));

  // --- top level ---
  const root = Router();
  const pub = [mw.cors, noStore, mw.cache];
  const aliases: [string, FeedFormat][] = [["/rss.xml", "rss"], ["/atom.xml", "atom"], ["/feed.json", "json"]];
  for (const [path, format] of aliases) {
    root.get(path, ...pub, route({ query: feedQuery }, async ({ query }, _req, res) => {
      const qs = canonicalQuery(query);
      await feed(format, query, { rss: `${u.site}/rss.xml${qs}`, atom: `${u.site}/atom.xml${qs}`, json: `${u.site}/feed.json${qs}` }, res);
    }));
  }

  // 1 statement: the highest published id.
  root.get("/sitemap.xml", ...pub, route({}, async (_input, _req, res) => {
    const pages = articlePages(await reads.run(res.req, (db) => maxPublishedId(db.prisma)), config.SITEMAP_PAGE_SIZE);
    surrogateKeys(res, ["articles"]);
    res.type(SITEMAP_TYPE).send(await sitemapIndex(u.site, pages));
  }));

  const fileParams = z.object({ file: z.string().max(40) });
  // 1 statement: a page (a primary-key range), or the newest story per section.
  root.get("/sitemaps/:file", ...pub, route({ params: fileParams }, async ({ params }, _req, res) => {
    if (params.file === "sections.xml") {
      const tree = await sections.get();
      const newestOf = await reads.run(res.req, (db) => sectionNewest(db.prisma, [...tree.byId.keys()]));
      surrogateKeys(res, ["sections"]);
      lastModified(res, newest([...newestOf.values()]));
      res.type(SITEMAP_TYPE).send(await sectionSitemap(tree, newestOf, u));
      return;
    }
    const m = /^articles-([1-9]\d{0,8})\.xml$/.exec(params.file);
    if (!m) throw notFound("Sitemap");
    const page = Number(m[1]);
    const rows = await reads.run(res.req, (db) => articlePageRows(db.prisma, page, config.SITEMAP_PAGE_SIZE));
    // Pages past the last one are 404 (the last page may be empty: a range of unpublished ids).
    if (!rows.length && page > 1 && page > articlePages(await reads.run(res.req, (db) => maxPublishedId(db.prisma)), config.SITEMAP_PAGE_SIZE)) {
      throw notFound("Sitemap");
    }
    const tree = await sections.knowing(rows.map((r) => r.sectionId));
    const body = await articleSitemap(rows, tree, view, u, site.language);
    if (body.length > SITEMAP_MAX_BYTES) {
      ctx.logger.warn({ page, bytes: body.length }, "sitemap page exceeds 50 MB: lower SITEMAP_PAGE_SIZE");
    }
    surrogateKeys(res, ["articles"]);
    lastModified(res, newest(rows.map((r) => (r.updatedAt ? new Date(r.updatedAt) : r.publishedAt ? new Date(r.publishedAt) : null))));
    res.type(SITEMAP_TYPE).send(body);
  }));

  // 1 statement: the last 48 hours' stories, newest first.
  root.get("/sitemap-news.xml", ...pub, route({}, async (_input, _req, res) => {
    const now = new Date();
    const rows = await reads.run(res.req, (db) => newsRows(db.prisma, now));
    const tree = await sections.knowing(rows.map((r) => r.sectionId));
    surrogateKeys(res, ["articles"]);
    lastModified(res, newest(rows.map((r) => new Date(r.publishedAt))));
    res.type(SITEMAP_TYPE).send(await newsSitemap(rows, tree, view, u, site));
  }));

  // No statement.
  const robots = robotsTxt(u.site, config.ROBOTS_DISALLOW, config.ROBOTS_TXT_EXTRA);
  root.get("/robots.txt", ...pub, (_req, res) => {
    surrogateKeys(res, ["robots"]);
    res.type("text/plain; charset=utf-8").send(robots);
  });

  return { api, root };
}

const noStore: RequestHandler = (_req, res, next) => {
  res.set("Cache-Control", "no-store");
  next();
};

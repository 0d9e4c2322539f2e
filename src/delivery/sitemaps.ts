// Sitemaps (issue 9, §3), written by the `sitemap` package (namespaces,
// escaping, W3C dates, the news and xhtml extensions), read from the read
// model with one bounded statement each:
// - /sitemap.xml: the index: the article pages and the sections sitemap;
// - /sitemaps/articles-<n>.xml: published articles with ids in
//   ((n-1)·SITEMAP_PAGE_SIZE, n·SITEMAP_PAGE_SIZE], read by a primary-key
//   range: a page never holds more than SITEMAP_PAGE_SIZE URLs (≤ 50,000), a
//   story stays on its page for good (new ones fill the last), and the index
//   needs only the highest id (one index probe), never a count;
//   lastmod is the editorial modification time, and each story of a
//   translation group lists itself and its translations (xhtml:link
//   hreflang, with x-default);
// - /sitemaps/sections.xml: every section page, lastmod the newest story in it or below;
// - /sitemap-news.xml: Google News: stories published in the last 48 hours, newest first, at most 1,000.
import { ErrorLevel, SitemapIndexStream, SitemapStream, streamToPromise, type SitemapItemLoose } from "sitemap";
import type { Readable } from "node:stream";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { PublicView } from "../articles/presentation.ts";
import { alternateLinks, type AlternateRef } from "../articles/jsonld.ts";
import type { SectionTree } from "../sections/service.ts";
import { languageOf, newsLanguage, type Urls } from "./discovery.ts";

export const NEWS_WINDOW_MS = 48 * 3_600_000;
export const NEWS_MAX_URLS = 1000;
/** The protocol's limit on a sitemap file, uncompressed. */
export const SITEMAP_MAX_BYTES = 50 * 1024 * 1024;

const NS = {
  sitemap: "http://www.sitemaps.org/schemas/sitemap/0.9",
  news: "http://www.google.com/schemas/sitemap-news/0.9",
  xhtml: "http://www.w3.org/1999/xhtml",
};

/**
 * A sitemap listing nothing (a new site, a quiet news day, a page of
 * unpublished ids): the library refuses to end an empty stream, so this one
 * element is written here. Search engines read an empty urlset as "no URLs".
 */
function emptyUrlset(xmlns: { news?: boolean; xhtml?: boolean }): Buffer {
  const attrs = [`xmlns="${NS.sitemap}"`, ...(xmlns.news ? [`xmlns:news="${NS.news}"`] : []), ...(xmlns.xhtml ? [`xmlns:xhtml="${NS.xhtml}"`] : [])];
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><urlset ${attrs.join(" ")}></urlset>`);
}

function urlset(xmlns: { news?: boolean; xhtml?: boolean }, items: SitemapItemLoose[]): Promise<Buffer> {
  if (!items.length) return Promise.resolve(emptyUrlset(xmlns));
  return render(new SitemapStream({
    xmlns: { news: Boolean(xmlns.news), video: false, image: false, xhtml: Boolean(xmlns.xhtml) }, level: ErrorLevel.SILENT,
  }), items);
}

async function render(stream: SitemapStream | SitemapIndexStream, items: (SitemapItemLoose | { url: string; lastmod?: string })[]): Promise<Buffer> {
  const done = streamToPromise(stream as unknown as Readable);
  for (const item of items) stream.write(item);
  stream.end();
  return done;
}

/** The highest published article id (the PK index read backwards), for the number of article pages. */
export async function maxPublishedId(prisma: PrismaClient): Promise<number> {
  const [row] = await prisma.$queryRaw<{ max: number | null }[]>`
    SELECT max("articleId") AS max FROM "PublishedArticle" WHERE status = 'PUBLISHED'`;
  return row?.max ?? 0;
}

export const articlePages = (maxId: number, pageSize: number) => Math.max(1, Math.ceil(maxId / pageSize));

export async function sitemapIndex(base: string, pages: number): Promise<Buffer> {
  const items = [
    ...Array.from({ length: pages }, (_, i) => ({ url: `${base}/sitemaps/articles-${i + 1}.xml` })),
    { url: `${base}/sitemaps/sections.xml` },
  ];
  return render(new SitemapIndexStream({ level: ErrorLevel.SILENT }), items);
}

interface Alternate {
  id: number;
  slug: string;
  sectionId: number;
  publishedAt: string | null;
  language: string;
}

interface PageRow {
  articleId: number;
  slug: string;
  sectionId: number;
  publishedAt: Date | null;
  updatedAt: string | null;
  language: string | null;
  alternates: Alternate[] | null;
}

/** One page of the article sitemap: a primary-key range of the read model. */
export async function articlePageRows(prisma: PrismaClient, page: number, pageSize: number): Promise<PageRow[]> {
  const lo = (page - 1) * pageSize;
  return prisma.$queryRaw<PageRow[]>`
    SELECT "articleId", slug, "sectionId", "publishedAt", doc->>'updatedAt' AS "updatedAt",
           doc->>'language' AS language, doc->'alternates' AS alternates
      FROM "PublishedArticle"
     WHERE "articleId" > ${lo}::int AND "articleId" <= ${lo + pageSize}::int AND status = 'PUBLISHED'
     ORDER BY "articleId"`;
}

export async function articleSitemap(rows: PageRow[], tree: SectionTree, view: PublicView, u: Urls, siteLanguage: string): Promise<Buffer> {
  const ref = (a: { slug: string; sectionId: number; publishedAt: Date | string | null }, language: string): AlternateRef => ({
    slug: a.slug, sectionSlug: tree.byId.get(a.sectionId)?.slug ?? "", publishedAt: a.publishedAt ? new Date(a.publishedAt) : null, language,
  });
  const items: SitemapItemLoose[] = rows.map((r) => {
    const self = ref(r, r.language ?? languageOf(tree, r.sectionId, null, siteLanguage));
    const published = r.publishedAt ? new Date(r.publishedAt) : null;
    const updated = r.updatedAt ? new Date(r.updatedAt) : published;
    const lastmod = updated && published && updated < published ? published : updated;
    // The article, its translations and x-default, by the rule of the public article's `alternates`.
    const links = alternateLinks(view, self, (r.alternates ?? []).map((a) => ref(a, a.language)));
    return {
      url: u.article(view, { slug: r.slug, sectionSlug: self.sectionSlug, publishedAt: self.publishedAt }),
      ...(lastmod ? { lastmod: lastmod.toISOString() } : {}),
      ...(links.length ? { links: links.map((l) => ({ lang: l.language, hreflang: l.language, url: l.url })) } : {}),
    };
  });
  return urlset({ xhtml: true }, items);
}

/** The newest published story of each section (its own stories; callers fold in sub-sections). */
export async function sectionNewest(prisma: PrismaClient, ids: number[]): Promise<Map<number, Date>> {
  if (!ids.length) return new Map();
  const rows = await prisma.$queryRaw<{ id: number; publishedAt: Date | null }[]>`
    SELECT s.id, x."publishedAt"
      FROM unnest(${ids}::int[]) AS s(id)
      CROSS JOIN LATERAL (
        SELECT p."publishedAt" FROM "PublishedArticle" p
         WHERE p."sectionId" = s.id AND p.status = 'PUBLISHED'
         ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT 1) x`;
  return new Map(rows.filter((r) => r.publishedAt).map((r) => [r.id, new Date(r.publishedAt!)]));
}

export async function sectionSitemap(tree: SectionTree, newestOf: Map<number, Date>, u: Urls): Promise<Buffer> {
  const items: SitemapItemLoose[] = [];
  // Tree order: parents before children, siblings by position.
  const walk = (parentId: number | null) => {
    for (const s of tree.children.get(parentId) ?? []) {
      let last: Date | undefined;
      for (const id of tree.descendantIds(s.id)) {
        const d = newestOf.get(id);
        if (d && (!last || d > last)) last = d;
      }
      items.push({ url: u.section(s.slug), ...(last ? { lastmod: last.toISOString() } : {}) });
      walk(s.id);
    }
  };
  walk(null);
  return urlset({}, items);
}

interface NewsRow {
  articleId: number;
  slug: string;
  sectionId: number;
  publishedAt: Date;
  headline: string;
  language: string | null;
}

/** Stories published in [now − 48 h, now], newest first, at most NEWS_MAX_URLS: a walk down the newest-first index. */
export async function newsRows(prisma: PrismaClient, now: Date): Promise<NewsRow[]> {
  const since = new Date(now.getTime() - NEWS_WINDOW_MS);
  return prisma.$queryRaw<NewsRow[]>`
    SELECT "articleId", slug, "sectionId", "publishedAt", doc->>'headline' AS headline, doc->>'language' AS language
      FROM "PublishedArticle"
     WHERE status = 'PUBLISHED' AND "publishedAt" >= ${since}::timestamptz AND "publishedAt" <= ${now}::timestamptz
     ORDER BY "publishedAt" DESC, "articleId" DESC
     LIMIT ${NEWS_MAX_URLS}`;
}

export async function newsSitemap(rows: NewsRow[], tree: SectionTree, view: PublicView, u: Urls, site: { language: string; publication: string }): Promise<Buffer> {
  const items: SitemapItemLoose[] = rows.map((r) => {
    const published = new Date(r.publishedAt);
    return {
      url: u.article(view, { slug: r.slug, sectionSlug: tree.byId.get(r.sectionId)?.slug ?? "", publishedAt: published }),
      news: {
        publication: { name: site.publication, language: newsLanguage(r.language ?? languageOf(tree, r.sectionId, null, site.language)) },
        publication_date: published.toISOString(),
        title: r.headline,
      },
    };
  });
  return urlset({ news: true }, items);
}

/** robots.txt: the Disallow paths and extra lines from config, and the sitemaps. */
export function robotsTxt(base: string, disallow: string[], extra: string): string {
  const lines = ["User-agent: *", ...(disallow.length ? disallow.map((p) => `Disallow: ${p}`) : ["Disallow:"])];
  if (extra.trim()) lines.push("", ...extra.trim().split(/\r?\n/));
  lines.push("", `Sitemap: ${base}/sitemap.xml`, `Sitemap: ${base}/sitemap-news.xml`, "");
  return lines.join("\n");
}

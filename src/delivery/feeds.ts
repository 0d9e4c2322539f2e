// Feeds (issue 9, §2): RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the newest
// published stories: the whole site, a section with its sub-sections, a tag,
// or an editor (the stories they wrote or are credited on as desk editor),
// optionally in one language. One statement per request, from the read model.
//
// RSS and Atom are written by `feed` (jpmonette/feed): it does the XML, its
// escaping and CDATA, the date formats (RFC 822 in RSS, RFC 3339 in Atom) and
// the self links. What it lacks is added through its item extensions
// (media:content, dc:creator in RSS). JSON Feed is a plain object serialized
// as JSON: `feed` writes JSON Feed 1.0 (`author`, no `language`), not 1.1.
import { Feed, type Item } from "feed";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { Prisma } from "../generated/prisma/client.ts";
import type { PublicView } from "../articles/presentation.ts";
import { bylinePeople } from "../articles/jsonld.ts";
import type { SectionTree } from "../sections/service.ts";
import type { ArticleDoc } from "./read-model.ts";
import { escapeHtml, languageOf, newest, xmlSafe, type Urls } from "./discovery.ts";

/** Items per feed (issue 9: the newest 50). */
export const FEED_ITEMS = 50;

export type FeedFormat = "rss" | "atom" | "json";

export const FEED_MEDIA_TYPES: Record<FeedFormat, string> = {
  rss: "application/rss+xml",
  atom: "application/atom+xml",
  json: "application/feed+json",
};

export interface FeedFilter {
  /** A section and its descendants. */
  sectionIds?: number[];
  tag?: string;
  /** An editor: stories they are the author of or credited on as desk editor. */
  author?: number;
  /** An author profile (issue 12 §5), by slug: the stories crediting it ("ArticleAuthor"(authorId)). */
  authorProfile?: string;
  /** Effective language (normalized BCP 47). */
  language?: string;
}

export interface FeedRow {
  articleId: number;
  sectionId: number;
  doc: ArticleDoc;
}

/**
 * The newest FEED_ITEMS published stories matching `f`, in one statement,
 * and the name of the tag or editor filtered by (undefined: no such tag, or
 * an editor credited on no published story; the caller answers 404).
 * Bounded by indexes: the site's and each section's newest-first partial
 * indexes, the tag's GIN index, an editor's articles by "Article"(authorId)
 * and "ArticleEditor"(editorId).
 */
export async function feedRows(prisma: PrismaClient, f: FeedFilter, limit = FEED_ITEMS): Promise<{ name: string | null; rows: FeedRow[] } | undefined> {
  const where = [Prisma.sql`p.status = 'PUBLISHED'`];
  if (f.language) where.push(Prisma.sql`p.language = ${f.language}`);
  if (f.tag) where.push(Prisma.sql`p."tagSlugs" @> ARRAY[${f.tag}]::text[]`);
  const cond = Prisma.join(where, " AND ");
  // An editor's feed starts from the editor's own stories (materialized:
  // never a walk of the whole site's index filtered by them): those written,
  // newest first by "Article_author_published_idx" (stopping after a feed's
  // worth unless a language filter may skip some), and those credited,
  // bounded by the editor's credits ("ArticleEditor"(editorId)).
  const walk = f.language ? Prisma.empty : Prisma.sql`LIMIT ${limit}`;
  const keys = f.authorProfile !== undefined
    ? Prisma.sql`
        SELECT p."articleId", p."publishedAt"
          FROM "Author" au JOIN "ArticleAuthor" x ON x."authorId" = au.id
          JOIN "PublishedArticle" p ON p."articleId" = x."articleId"
         WHERE au.slug = ${f.authorProfile} AND ${cond}
         ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit}`
    : f.author !== undefined
    ? Prisma.sql`
        WITH mine AS MATERIALIZED (
          (SELECT a.id FROM "Article" a
            WHERE a."authorId" = ${f.author} AND a.status = 'PUBLISHED' AND a."deletedAt" IS NULL
            ORDER BY a."publishedAt" DESC, a.id DESC ${walk})
          UNION
          SELECT x."articleId" FROM "ArticleEditor" x WHERE x."editorId" = ${f.author})
        SELECT p."articleId", p."publishedAt" FROM mine JOIN "PublishedArticle" p ON p."articleId" = mine.id
         WHERE ${cond}
         ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit}`
    : f.sectionIds
    ? Prisma.sql`
        SELECT x."articleId", x."publishedAt"
          FROM unnest(${f.sectionIds}::int[]) AS s(id)
          CROSS JOIN LATERAL (
            SELECT p."articleId", p."publishedAt" FROM "PublishedArticle" p
             WHERE p."sectionId" = s.id AND ${cond}
             ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit}) x
         ORDER BY x."publishedAt" DESC, x."articleId" DESC LIMIT ${limit}`
    : Prisma.sql`
        SELECT p."articleId", p."publishedAt" FROM "PublishedArticle" p WHERE ${cond}
         ORDER BY p."publishedAt" DESC, p."articleId" DESC LIMIT ${limit}`;
  const named = f.tag
    ? Prisma.sql`SELECT name FROM "Tag" WHERE slug = ${f.tag}`
    : f.authorProfile !== undefined
    ? Prisma.sql`SELECT name FROM "Author" WHERE slug = ${f.authorProfile}`
    : f.author !== undefined
      ? Prisma.sql`
          SELECT e.name FROM "Editor" e WHERE e.id = ${f.author} AND (
            EXISTS (SELECT 1 FROM "Article" a JOIN "PublishedArticle" p ON p."articleId" = a.id AND p.status = 'PUBLISHED'
                     WHERE a."authorId" = e.id)
            OR EXISTS (SELECT 1 FROM "ArticleEditor" x JOIN "PublishedArticle" p ON p."articleId" = x."articleId" AND p.status = 'PUBLISHED'
                        WHERE x."editorId" = e.id))`
      : Prisma.sql`SELECT NULL::text AS name`;
  // No row: the tag or editor does not exist; one row with a null article: nothing published matches.
  const rows = await prisma.$queryRaw<{ name: string | null; articleId: number | null; sectionId: number; doc: ArticleDoc }[]>`
    WITH f AS (${named})
    SELECT f.name, d."articleId", d."sectionId", d.doc
      FROM f LEFT JOIN LATERAL (
        SELECT r."articleId", r."sectionId", r.doc, k."publishedAt"
          FROM (${keys}) k
          JOIN "PublishedArticle" r ON r."articleId" = k."articleId") d ON true
     ORDER BY d."publishedAt" DESC, d."articleId" DESC`;
  if (!rows.length) return undefined;
  return { name: rows[0].name, rows: rows.filter((r): r is FeedRow & { name: string | null } => r.articleId !== null) };
}

/** One story as every format shows it. */
export interface FeedEntry {
  id: number;
  url: string;
  title: string;
  summary: string;
  /** The article body (sanitized HTML). */
  html: string;
  published: Date;
  /** The editorial modification time. */
  modified: Date;
  language: string;
  /** The byline's people, else the source (an agency), else the publication. */
  authors: string[];
  /** Desk editors credited on the story. */
  editors: string[];
  section: { slug: string; name: string; url: string };
  tags: { slug: string; name: string }[];
  image: { url: string; type: string; width: number | null; height: number | null; caption: string; credit: string; alt: string } | null;
}

export interface FeedMeta {
  title: string;
  description: string;
  /** The page the feed stands for (the site, a section page). */
  home: string;
  /** This feed's own URL, per format. */
  self: Record<FeedFormat, string>;
  language: string;
  publication: string;
  logo?: string;
  /** The newest item's editorial time (the feed's updated / lastBuildDate / Last-Modified). */
  updated: Date | undefined;
}

export function toEntry(row: FeedRow, tree: SectionTree, view: PublicView, u: Urls, site: { language: string; publication: string }): FeedEntry {
  const d = row.doc;
  const section = tree.byId.get(row.sectionId);
  const sectionSlug = section?.slug ?? "";
  const published = new Date(d.publishedAt ?? d.updatedAt);
  const modified = new Date(d.updatedAt ?? d.publishedAt);
  const lead = d.leadImage;
  // As the JSON-LD names them: the people of the byline, else the agency, else the publication.
  // Credited author profiles first (issue 12 §5), as the JSON-LD names them.
  const credited = (d.authorCredits ?? []).map((c) => c.author.name);
  const people = credited.length ? credited : bylinePeople(d.byline);
  const authors = people.length ? people : [d.source?.trim() || site.publication];
  return {
    id: d.id,
    url: u.article(view, { slug: d.slug, sectionSlug, publishedAt: d.publishedAt ? new Date(d.publishedAt) : null }),
    title: d.headline,
    summary: d.summary,
    html: absolutize(d.body, u),
    published,
    // Never before publication (an article edited in draft keeps its older system time otherwise).
    modified: modified < published ? published : modified,
    language: (d as { language?: string }).language ?? languageOf(tree, row.sectionId, null, site.language),
    authors,
    editors: (d.editors ?? []).map((e) => e.editor.name),
    section: { slug: sectionSlug, name: section?.name ?? "", url: u.section(sectionSlug) },
    tags: (d.tags ?? []).map((t) => ({ slug: t.tag.slug, name: t.tag.name })),
    image: lead
      ? {
        url: u.media(lead.storageKey), type: lead.mimeType, width: lead.width, height: lead.height,
        caption: lead.caption ?? "", credit: lead.credit ?? "", alt: lead.alt ?? "",
      }
      : null,
  };
}

/**
 * Root-relative links and images of a body made absolute (a feed reader has
 * no page to resolve them against): /media/… on the media base, anything else
 * on the site. The sanitizer writes attributes double-quoted.
 */
export function absolutize(html: string, u: Urls): string {
  return html.replace(/\b(href|src)="(\/(?!\/)[^"]*)"/g, (_m, attr: string, path: string) =>
    `${attr}="${path.startsWith("/media/") ? u.media(path.slice("/media/".length)) : `${u.site}${path}`}"`);
}

export const feedUpdated = (entries: FeedEntry[]) => newest(entries.map((e) => e.modified));

/** The Unix epoch: an empty feed's updated time (a fixed value keeps its ETag stable). */
const EPOCH = new Date(0);

const MEDIA_NS = "http://search.yahoo.com/mrss/";

/** RSS 2.0 with content:encoded, dc:creator, media:content and atom:link rel=self. */
export function rss(meta: FeedMeta, entries: FeedEntry[]): string {
  const feed = new Feed({
    title: xmlSafe(meta.title),
    description: xmlSafe(meta.description),
    id: meta.home,
    link: meta.home,
    language: meta.language,
    updated: meta.updated ?? EPOCH,
    generator: "Dateline",
    feedLinks: { rss: meta.self.rss },
    image: meta.logo,
    copyright: `© ${meta.publication}`,
  });
  for (const e of entries) {
    const extensions: Item["extensions"] = [
      // RSS's own <author> takes an e-mail address; names go in dc:creator.
      { name: "dc:creator", objects: e.authors.map((a) => ({ _text: xmlSafe(a) })) as unknown as Record<string, unknown> },
    ];
    if (e.editors.length) {
      extensions.push({ name: "dc:contributor", objects: e.editors.map((a) => ({ _text: xmlSafe(a) })) as unknown as Record<string, unknown> });
    }
    if (e.image) {
      // Media RSS, its namespace declared on the element (feed declares only its own on <rss>).
      extensions.push({
        name: "media:content",
        objects: {
          _attributes: {
            "xmlns:media": MEDIA_NS, url: e.image.url, medium: "image", type: e.image.type,
            ...(e.image.width ? { width: e.image.width } : {}), ...(e.image.height ? { height: e.image.height } : {}),
          },
          ...(e.image.caption ? { "media:description": { _attributes: { type: "plain" }, _text: xmlSafe(e.image.caption) } } : {}),
          ...(e.image.credit ? { "media:credit": { _text: xmlSafe(e.image.credit) } } : {}),
        },
      });
    }
    feed.addItem({
      title: xmlSafe(e.title),
      link: e.url,
      date: e.modified,
      published: e.published,
      description: xmlSafe(e.summary),
      content: xmlSafe(e.html),
      category: [
        { name: xmlSafe(e.section.name), domain: e.section.url },
        ...e.tags.map((t) => ({ name: xmlSafe(t.name) })),
      ],
      // The length of the file is not stored with the image: 0, as the RSS profile allows for unknown.
      enclosure: e.image ? { url: e.image.url, type: e.image.type, length: 0 } : undefined,
      extensions,
    });
  }
  return feed.rss2();
}

/** Atom 1.0: title, summary and content as escaped HTML; categories with term, label and scheme. */
export function atom(meta: FeedMeta, entries: FeedEntry[], scheme: { section: string; tag: string }): string {
  const feed = new Feed({
    title: xmlSafe(meta.title),
    description: xmlSafe(meta.description),
    id: meta.self.atom,
    link: meta.home,
    language: meta.language,
    updated: meta.updated ?? EPOCH,
    generator: "Dateline",
    feedLinks: { atom: meta.self.atom },
    image: meta.logo,
    copyright: `© ${meta.publication}`,
    author: { name: xmlSafe(meta.publication), link: meta.home },
  });
  for (const e of entries) {
    feed.addItem({
      // type="html": the plain-text headline escaped, so "<" in it stays text.
      title: escapeHtml(xmlSafe(e.title)),
      id: e.url,
      link: e.url,
      date: e.modified,
      published: e.published,
      description: escapeHtml(xmlSafe(e.summary)),
      content: xmlSafe(e.html),
      author: e.authors.map((name) => ({ name: xmlSafe(name) })),
      contributor: e.editors.map((name) => ({ name: xmlSafe(name) })),
      category: [
        { term: e.section.slug, name: xmlSafe(e.section.name), scheme: scheme.section },
        ...e.tags.map((t) => ({ term: t.slug, name: xmlSafe(t.name), scheme: scheme.tag })),
      ],
      enclosure: e.image ? { url: e.image.url, type: e.image.type } : undefined,
    });
  }
  // `feed` types an Atom enclosure by its URL's extension ("image/jpg" for
  // .jpg): the image's real media type replaces it. Only enclosure links
  // carry a type attribute (bodies are CDATA, and the sanitizer allows no
  // type attribute in them anyway).
  let xml = feed.atom1();
  for (const e of entries) {
    if (!e.image) continue;
    const href = e.image.url.replace(/&/g, "&amp;");
    const guessed = `image/${new URL(e.image.url).pathname.split(".").pop()}`;
    if (guessed !== e.image.type) {
      xml = xml.replaceAll(`rel="enclosure" href="${href}" type="${guessed}"`, `rel="enclosure" href="${href}" type="${e.image.type}"`);
    }
  }
  return xml;
}

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/). */
export function jsonFeed(meta: FeedMeta, entries: FeedEntry[]): string {
  const out = {
    version: "https://jsonfeed.org/version/1.1",
    title: meta.title,
    home_page_url: meta.home,
    feed_url: meta.self.json,
    description: meta.description,
    language: meta.language,
    ...(meta.logo ? { icon: meta.logo } : {}),
    authors: [{ name: meta.publication, url: meta.home }],
    items: entries.map((e) => ({
      id: e.url,
      url: e.url,
      title: e.title,
      summary: e.summary,
      content_html: e.html,
      ...(e.image ? { image: e.image.url } : {}),
      date_published: e.published.toISOString(),
      date_modified: e.modified.toISOString(),
      authors: e.authors.map((name) => ({ name })),
      tags: [e.section.name, ...e.tags.map((t) => t.name)],
      language: e.language,
      ...(e.image
        ? { attachments: [{ url: e.image.url, mime_type: e.image.type, ...(e.image.caption ? { title: e.image.caption } : {}) }] }
        : {}),
    })),
  };
  return JSON.stringify(out);
}

// Structured data for the article page (issue 9): schema.org NewsArticle as
// JSON-LD, and the article's translations (`alternates`, hreflang).
//
// Split in two for the delivery hot path: ldParts() is what does not depend
// on configuration (the headline cut to 110 characters, the people in the
// byline) and is computed once, when the read model builds the document;
// newsArticleLd() and alternateLinks() add what does (absolute URLs, the
// publisher, the site language) when the article is rendered, so a change of
// configuration applies without a rebuild.
import { mediaUrl, type MediaRef } from "../media/mappers.ts";
import { canonicalUrl, type PublicView } from "./presentation.ts";

/** Google's limit for a NewsArticle headline; longer ones are cut (and the editor warned). */
export const LD_HEADLINE_MAX = 110;

export interface LdParts {
  /** The headline, at most LD_HEADLINE_MAX characters (cut at a word, with an ellipsis). */
  headline: string;
  headlineTruncated: boolean;
  /** The people the byline names; none: the wire agency (`source`) is the author, else the publication. */
  people: string[];
}

/** Cuts `text` to at most `max` characters (code points), at a word boundary when one is near, ending in "…". */
export function truncateHeadline(text: string, max = LD_HEADLINE_MAX): { text: string; truncated: boolean } {
  const chars = Array.from(text.trim());
  if (chars.length <= max) return { text: chars.join(""), truncated: false };
  const cut = chars.slice(0, max - 1).join("");
  // Space-separated scripts: end at the last word boundary in the last third; CJK and long words: at a character.
  const space = cut.lastIndexOf(" ");
  const head = space >= Math.floor(((max - 1) * 2) / 3) ? cut.slice(0, space) : cut;
  return { text: `${head.replace(/[\s,;:.\-–—]+$/u, "")}…`, truncated: true };
}

/** "By Ann Lee, Bo Chen and Cy Diaz in Paris" -> ["Ann Lee", "Bo Chen", "Cy Diaz"]. */
export function bylinePeople(byline: string | null): string[] {
  if (!byline) return [];
  return byline
    .replace(/^\s*by\s+/i, "")
    .split(/\s*(?:,|;|&|\band\b)\s*/i)
    // "Chen Yuting in Chengdu": the place is not part of the name.
    .map((s) => s.replace(/\s+in\s+.*$/i, "").trim())
    .filter(Boolean)
    .slice(0, 20);
}

export function ldParts(a: { headline: string; byline: string | null }): LdParts {
  const h = truncateHeadline(a.headline);
  return { headline: h.text, headlineTruncated: h.truncated, people: bylinePeople(a.byline) };
}

/** Warnings the editor API shows for an article (nothing fails over them). */
export function editorialWarnings(a: { headline: string }): { code: string; message: string }[] {
  const n = Array.from(a.headline.trim()).length;
  return n > LD_HEADLINE_MAX
    ? [{
        code: "headline-too-long",
        message: `The headline has ${n} characters; search engines show at most ${LD_HEADLINE_MAX}, so the structured data (JSON-LD) carries it cut to ${LD_HEADLINE_MAX}.`,
      }]
    : [];
}

/** A URL as JSON-LD needs it: absolute (relative media URLs are served by the API, PUBLIC_API_URL, else PUBLIC_SITE_URL). */
export function absoluteUrl(view: PublicView, url: string): string {
  return /^https?:\/\//i.test(url) ? url : `${view.apiUrl || view.siteUrl}${url.startsWith("/") ? "" : "/"}${url}`;
}

export interface AlternateRef {
  slug: string;
  sectionSlug: string;
  publishedAt: Date | null;
  language: string;
}

export interface AlternateLink {
  language: string;
  slug: string;
  url: string;
}

/**
 * The article and its translations, one per language, with an `x-default`
 * (the one in SITE_LANGUAGE, or in its primary language, else the article
 * itself); empty when the article has no published translation.
 */
export function alternateLinks(view: PublicView, self: AlternateRef, others: AlternateRef[]): AlternateLink[] {
  if (!others.length) return [];
  const link = (r: AlternateRef): AlternateLink => ({
    language: r.language, slug: r.slug, url: canonicalUrl(view, { slug: r.slug, section: { slug: r.sectionSlug }, publishedAt: r.publishedAt }),
  });
  const all = [link(self), ...others.map(link)].sort((x, y) => x.language.localeCompare(y.language));
  const site = view.siteLanguage.toLowerCase();
  const primary = site.split("-")[0];
  const def = all.find((x) => x.language.toLowerCase() === site)
    ?? all.find((x) => x.language.toLowerCase().split("-")[0] === primary)
    ?? all.find((x) => x.slug === self.slug)!;
  return [...all, { ...def, language: "x-default" }];
}

type Image = (MediaRef & { id: number }) | null;

export interface LdInput {
  ld: LdParts;
  summary: string;
  dateline: string | null;
  source: string | null;
  publishedAt: Date | null;
  /** The editorial modification time. */
  updatedAt: Date;
  language: string;
  sectionName: string;
  canonical: string;
  tags: string[];
  leadImage: Image;
  gallery: (MediaRef & { id: number })[];
  /** LIVE articles are a LiveBlogPosting (a NewsArticle subtype in schema.org's sense of a live page). */
  kind?: string;
  /** Credited author profiles (issue 12 §5): when any, the JSON-LD authors, each with their page's URL. */
  authors?: { name: string; url: string }[];
  /** Corrections, newest first (issue 12 §1): schema.org CorrectionComment. */
  corrections?: { text: string; at: string }[];
}

/**
 * schema.org NewsArticle for the page's <script type="application/ld+json">.
 * A plain JSON object: a frontend serializing it into HTML must escape "<"
 * (JSON.stringify(x).replace(/</g, "\\u003c")), as for any JSON in a script element.
 */
export function newsArticleLd(view: PublicView, a: LdInput) {
  const publisher: Record<string, unknown> = { "@type": "Organization", name: view.publicationName, url: view.siteUrl };
  if (view.publisherLogoUrl) publisher.logo = { "@type": "ImageObject", url: view.publisherLogoUrl };
  const author = a.authors?.length
    ? a.authors.map((p) => ({ "@type": "Person", name: p.name, url: p.url }))
    : a.ld.people.length
    ? a.ld.people.map((name) => ({ "@type": "Person", name }))
    : [a.source ? { "@type": "Organization", name: a.source } : { "@type": "Organization", name: view.publicationName, url: view.siteUrl }];
  const images = [...(a.leadImage ? [a.leadImage] : []), ...a.gallery];
  const image = [...new Set(images.map((m) => absoluteUrl(view, mediaUrl(view.mediaBaseUrl, m.storageKey))))];
  const published = a.publishedAt?.toISOString();
  return {
    "@context": "https://schema.org",
    "@type": a.kind === "LIVE" ? "LiveBlogPosting" : "NewsArticle",
    headline: a.ld.headline,
    ...(a.kind === "LIVE" && published ? { coverageStartTime: published } : {}),
    ...(a.summary ? { description: a.summary } : {}),
    ...(published ? { datePublished: published } : {}),
    dateModified: a.updatedAt.toISOString(),
    ...(a.dateline ? { dateline: a.dateline } : {}),
    author,
    publisher,
    ...(image.length ? { image } : {}),
    articleSection: a.sectionName,
    inLanguage: a.language,
    mainEntityOfPage: { "@type": "WebPage", "@id": a.canonical },
    url: a.canonical,
    isAccessibleForFree: true,
    ...(a.tags.length ? { keywords: a.tags } : {}),
    ...(a.corrections?.length
      ? { correction: a.corrections.map((c) => ({ "@type": "CorrectionComment", text: c.text, datePublished: c.at })) }
      : {}),
  };
}

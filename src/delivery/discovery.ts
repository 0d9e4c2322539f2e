// What feeds and sitemaps share (issue 9, §2 and §3): absolute URLs, the
// effective language of a published article, and the editorial times.
//
// Absolute URLs, because a feed reader or a crawler has no page to resolve a
// relative one against:
// - article links: PUBLIC_SITE_URL + PERMALINK_PATTERN (canonicalUrl, as the
//   article's `links.canonical`);
// - section pages: PUBLIC_SITE_URL + SECTION_PATH_PATTERN;
// - the discovery files' own URLs (robots.txt's Sitemap lines, the sitemap
//   index's entries, the self links of /rss.xml, /atom.xml, /feed.json) on
//   PUBLIC_SITE_URL: search engines only accept sitemaps on the site's own
//   host, so the frontend serves (proxies) these paths there;
// - the API's own feeds (/api/v1/feeds/*) and images stored here (/media):
//   PUBLIC_API_URL, falling back to PUBLIC_SITE_URL (a site that proxies the API);
//   MEDIA_BASE_URL when it is already absolute (a CDN).
import type { Config } from "../config.ts";
import { canonicalUrl, type PublicView } from "../articles/presentation.ts";
import { effectiveLanguage, normalizeLanguage } from "../i18n/languages.ts";
import { mediaUrl } from "../media/mappers.ts";
import type { SectionTree } from "../sections/service.ts";

export type DiscoveryConfig = Pick<Config,
  "PUBLIC_SITE_URL" | "PUBLIC_API_URL" | "MEDIA_BASE_URL" | "SITE_LANGUAGE" | "PUBLICATION_NAME" | "SECTION_PATH_PATTERN">;

export interface Urls {
  site: string;
  api: string;
  /** Absolute URL of a stored image. */
  media(storageKey: string): string;
  section(slug: string): string;
  article(view: PublicView, a: { slug: string; sectionSlug: string; publishedAt: Date | null }): string;
}

export function urls(config: DiscoveryConfig): Urls {
  const site = config.PUBLIC_SITE_URL;
  const api = config.PUBLIC_API_URL ?? site;
  const mediaBase = /^https?:\/\//i.test(config.MEDIA_BASE_URL) ? config.MEDIA_BASE_URL : `${api}${config.MEDIA_BASE_URL}`;
  return {
    site,
    api,
    media: (key) => mediaUrl(mediaBase, key),
    section: (slug) => `${site}${config.SECTION_PATH_PATTERN.replaceAll("{section}", slug)}`,
    article: (view, a) => canonicalUrl(view, { slug: a.slug, section: { slug: a.sectionSlug }, publishedAt: a.publishedAt }),
  };
}

/** The effective language of an article in a section (its own, else the section chain's, else the site's), normalized. */
export function languageOf(tree: SectionTree, sectionId: number, own: string | null | undefined, site: string): string {
  return normalizeLanguage(effectiveLanguage(own, tree.languageOf(sectionId), site));
}

/**
 * Google News sitemaps want an ISO 639 code, with zh-cn and zh-tw for
 * simplified and traditional Chinese.
 */
export function newsLanguage(tag: string): string {
  const parts = tag.toLowerCase().split("-");
  if (parts[0] === "zh") {
    if (parts.includes("hant") || parts.includes("tw") || parts.includes("hk") || parts.includes("mo")) return "zh-tw";
    return "zh-cn";
  }
  return parts[0];
}

/** Characters XML 1.0 cannot carry at all (controls other than tab, newline, return; lone surrogates; U+FFFE/F). */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
export const xmlSafe = (s: string) => s.replace(NOT_XML, "");

export const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The newest of `dates` (undefined for none). */
export function newest(dates: (Date | null | undefined)[]): Date | undefined {
  let max: Date | undefined;
  for (const d of dates) if (d && (!max || d > max)) max = d;
  return max;
}

/** Sets Last-Modified (HTTP dates have whole seconds). */
export function lastModified(res: { setHeader(name: string, value: string): unknown }, d: Date | undefined): void {
  if (d) res.setHeader("Last-Modified", d.toUTCString());
}

import type { ArticleKind, CommentStatus } from "../generated/prisma/client.ts";

export interface DemoContent {
  /** Parents listed before their children. */
  /** language: BCP 47 (articles without their own inherit it). */
  sections: { slug: string; name: string; description: string; parent?: string; position: number; language?: string }[];
  editors: { key: string; name: string; email: string; role: "EDITOR" | "WRITER" }[];
  tags: { slug: string; name: string }[];
  articles: {
    key: string;
    slug: string;
    headline: string;
    summary: string;
    dateline?: string;
    source?: string;
    byline?: string;
    kind: ArticleKind;
    section: string;
    /** ISO 8601 with offset; null for a draft (unless publishedHoursAgo is set). */
    publishedAt: string | null;
    /**
     * Published this many hours before the seed runs, instead of publishedAt:
     * a fresh demo then has stories in the Google News sitemap (the last 48 hours).
     */
    publishedHoursAgo?: number;
    /** Published under an embargo that ends this many hours after the seed runs (src/articles/embargo.ts). */
    embargoHoursFromNow?: number;
    /** Plain text paragraphs; may contain <em>, <strong> or <a href>. */
    paragraphs: string[];
    /** LIVE only: its entries, oldest first, posted this many minutes before the seed runs (src/live). */
    liveEntries?: { minutesAgo: number; editor: string; title?: string; html: string; keyEvent?: boolean; pinned?: boolean }[];
    /** Editor keys, in credit order. */
    editors: string[];
    /** Article keys, in "We Recommend" order. */
    related: string[];
    tags: string[];
    comments?: { name: string; body: string; status: CommentStatus }[];
    /** BCP 47; unset: the section's. */
    language?: string;
    /** Key of the article this one translates (same translation group). */
    translationOf?: string;
    /** ISO 8601: the last update an editor marked significant (the public updatedAt). */
    significantUpdateAt?: string;
  }[];
}

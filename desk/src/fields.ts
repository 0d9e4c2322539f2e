import type { Article, ArticleKind } from "./api.ts";

/** The article fields the editor screen edits, as form values. */
export interface Fields {
  headline: string;
  summary: string;
  slug: string;
  dateline: string;
  source: string;
  byline: string;
  kind: ArticleKind;
  section: string;
  /** Tag slugs, comma-separated as typed. */
  tags: string;
  commentsClosed: boolean;
  body: string;
}

export const FIELD_LABELS: Record<keyof Fields, string> = {
  headline: "Headline", summary: "Summary", slug: "Slug", dateline: "Dateline", source: "Source",
  byline: "Byline", kind: "Kind", section: "Section", tags: "Tags", commentsClosed: "Comments", body: "Body",
};

export const FIELD_KEYS = Object.keys(FIELD_LABELS) as (keyof Fields)[];

export function fieldsOf(a: Article): Fields {
  return {
    headline: a.headline, summary: a.summary, slug: a.slug, dateline: a.dateline ?? "", source: a.source ?? "",
    byline: a.byline ?? "", kind: a.kind, section: a.section.slug, tags: a.tags.map((t) => t.slug).join(", "),
    commentsClosed: a.commentsClosed, body: a.body,
  };
}

/** Typed tags as slugs: "Trade, Sichuan province" → ["trade", "sichuan-province"]. */
export function tagSlugs(typed: string): string[] {
  const slugs = typed.split(",")
    .map((t) => t.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, ""))
    .filter(Boolean);
  return [...new Set(slugs)];
}

/** A field's value as the conflict screen and the history show it. */
export function showField(k: keyof Fields, v: Fields[keyof Fields]): string {
  if (k === "commentsClosed") return v ? "Closed" : "Open";
  return String(v);
}

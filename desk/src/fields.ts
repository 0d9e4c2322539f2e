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
  body: string;
}

export const FIELD_LABELS: Record<keyof Fields, string> = {
  headline: "Headline", summary: "Summary", slug: "Slug", dateline: "Dateline", source: "Source",
  byline: "Byline", kind: "Kind", section: "Section", body: "Body",
};

export function fieldsOf(a: Article): Fields {
  return {
    headline: a.headline, summary: a.summary, slug: a.slug, dateline: a.dateline ?? "", source: a.source ?? "",
    byline: a.byline ?? "", kind: a.kind, section: a.section.slug, body: a.body,
  };
}


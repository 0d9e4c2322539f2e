// The only places that decide which article fields leave the API.
import type { SectionTree } from "../sections/service.ts";
import { sectionRef } from "../sections/mappers.ts";
import type { AdminArticleRow, PublicArticleRow, PublicListRow } from "./service.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function publicListItem(a: PublicListRow) {
  return {
    slug: a.slug,
    headline: a.headline,
    summary: a.summary,
    kind: a.kind,
    publishedAt: iso(a.publishedAt),
    section: sectionRef(a.section),
  };
}

export function publicArticle(a: PublicArticleRow, tree: SectionTree) {
  return {
    slug: a.slug,
    headline: a.headline,
    summary: a.summary,
    dateline: a.dateline,
    source: a.source,
    byline: a.byline,
    body: a.body,
    bodyText: a.bodyText,
    kind: a.kind,
    publishedAt: iso(a.publishedAt),
    updatedAt: a.updatedAt.toISOString(),
    section: sectionRef(a.section),
    breadcrumb: tree.breadcrumb(a.section.id).map(sectionRef),
    editors: a.editors.map((e) => ({ name: e.editor.name })),
    tags: a.tags.map((t) => ({ slug: t.tag.slug, name: t.tag.name })),
    related: a.related.map((r) => ({ slug: r.related.slug, headline: r.related.headline, kind: r.related.kind })),
    commentCount: a._count.comments,
  };
}

export function adminArticle(a: AdminArticleRow) {
  return {
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
    scheduledAt: iso(a.scheduledAt),
    reviewNote: a.reviewNote,
    deletedAt: iso(a.deletedAt),
    version: a.version,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    section: { id: a.section.id, slug: a.section.slug, name: a.section.name },
    author: { id: a.author.id, name: a.author.name },
    editors: a.editors.map((e) => ({ id: e.editor.id, name: e.editor.name })),
    tags: a.tags.map((t) => ({ slug: t.tag.slug, name: t.tag.name })),
    related: a.related.map((r) => ({
      id: r.related.id,
      slug: r.related.slug,
      headline: r.related.headline,
      kind: r.related.kind,
      status: r.related.status,
    })),
  };
}

// The only places that decide which article fields leave the API.
import type { SectionTree } from "../sections/service.ts";
import { sectionRef } from "../sections/mappers.ts";
import { publicImage, type MediaRef } from "../media/mappers.ts";
import { formatLocal, shareLinks, type PublicView } from "./presentation.ts";
import type { AdminArticleRow, PublicArticleRow, PublicListRow } from "./service.ts";
import { lockedBy } from "./locks.ts";
import { publicCredits, type CreditDoc } from "../authors/mappers.ts";
import { alternateLinks, editorialWarnings, ldParts, newsArticleLd, type LdParts } from "./jsonld.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type Image = (MediaRef & { id: number }) | null;
const image = (m: Image, baseUrl: string) => (m ? publicImage(m, baseUrl) : null);

export function publicListItem(a: PublicListRow & { language?: string }, view: PublicView) {
  return {
    slug: a.slug,
    headline: a.headline,
    summary: a.summary,
    kind: a.kind,
    publishedAt: iso(a.publishedAt),
    publishedAtLocal: formatLocal(view, a.publishedAt),
    section: sectionRef(a.section),
    leadImage: image(a.leadImage, view.mediaBaseUrl),
    // The effective language, for lang attributes in lists of several languages.
    language: a.language ?? view.siteLanguage,
  };
}

export interface RelatedPick {
  slug: string;
  headline: string;
  kind: string;
}

/** What the public article adds for languages and structured data (the read model's document carries it). */
export interface LanguageFields {
  /** Effective language (article, section chain, SITE_LANGUAGE). */
  language: string;
  /** Other published members of the translation group. */
  alternates: { slug: string; sectionId: number; publishedAt: string | null; language: string }[];
  /** Precomputed by the read model; computed here when absent (draft preview). */
  ld?: LdParts;
}

export function publicArticle(
  a: Omit<PublicArticleRow, "language"> & LanguageFields, tree: SectionTree, view: PublicView, automatic: RelatedPick[] = [],
) {
  const picked = a.related.map((r) => ({ slug: r.related.slug, headline: r.related.headline, kind: r.related.kind, automatic: false }));
  const links = shareLinks(view, a);
  const alternates = alternateLinks(
    view,
    { slug: a.slug, sectionSlug: a.section.slug, publishedAt: a.publishedAt ?? a.updatedAt, language: a.language },
    a.alternates.map((x) => ({
      slug: x.slug, sectionSlug: tree.byId.get(x.sectionId)?.slug ?? "", language: x.language,
      publishedAt: x.publishedAt ? new Date(x.publishedAt) : null,
    })),
  );
  // Issue 12: credited profiles and corrections (newest first); absent in documents built before them.
  const authors = publicCredits((a as { authorCredits?: CreditDoc[] }).authorCredits, view);
  const corrections = ((a as { corrections?: { id: number; type: string; text: string; at: Date | string }[] }).corrections ?? [])
    .map((c) => ({ id: c.id, type: c.type, text: c.text, at: new Date(c.at).toISOString() }));
  const jsonLd = newsArticleLd(view, {
    ld: a.ld ?? ldParts(a),
    summary: a.summary,
    dateline: a.dateline,
    source: a.source,
    publishedAt: a.publishedAt,
    updatedAt: a.updatedAt,
    language: a.language,
    sectionName: a.section.name,
    canonical: links.canonical,
    tags: a.tags.map((t) => t.tag.name),
    leadImage: a.leadImage,
    gallery: a.gallery.map((g) => g.media),
    kind: a.kind,
    authors,
    corrections,
  });
  return {
    slug: a.slug,
    headline: a.headline,
    summary: a.summary,
    dateline: a.dateline,
    source: a.source,
    byline: a.byline,
    authors,
    body: a.body,
    bodyText: a.bodyText,
    kind: a.kind,
    publishedAt: iso(a.publishedAt),
    publishedAtLocal: formatLocal(view, a.publishedAt),
    updatedAt: a.updatedAt.toISOString(),
    section: sectionRef(a.section),
    breadcrumb: tree.breadcrumb(a.section.id).map(sectionRef),
    editors: a.editors.map((e) => ({ name: e.editor.name })),
    tags: a.tags.map((t) => ({ slug: t.tag.slug, name: t.tag.name })),
    leadImage: image(a.leadImage, view.mediaBaseUrl),
    gallery: a.gallery.map((g) => ({ image: publicImage(g.media, view.mediaBaseUrl), caption: g.caption || g.media.caption })),
    related: picked.length ? picked : automatic.map((r) => ({ slug: r.slug, headline: r.headline, kind: r.kind, automatic: true })),
    commentCount: a.commentCount,
    commentsOpen: !a.commentsClosed && a.status === "PUBLISHED",
    links,
    language: a.language,
    alternates,
    corrections,
    jsonLd,
  };
}

export function adminArticle(a: AdminArticleRow, mediaBaseUrl = "") {
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
    // The public updatedAt: moves only on a significant update (null: publishedAt stands in).
    editorialUpdatedAt: iso(a.editorialUpdatedAt),
    scheduledAt: iso(a.scheduledAt),
    reviewNote: a.reviewNote,
    // Pending embargo (null: none): no public surface shows the article before it (src/articles/embargo.ts).
    embargoedUntil: iso(a.embargoedUntil),
    // Set while WITHDRAWN (src/articles/withdrawal.ts): when, the public reason, the status reinstating restores.
    withdrawnAt: iso(a.withdrawnAt),
    withdrawalReason: a.withdrawalReason,
    withdrawnFrom: a.withdrawnFrom,
    deletedAt: iso(a.deletedAt),
    commentsClosed: a.commentsClosed,
    // Own language (null: the section's, then SITE_LANGUAGE) and translation group (null: none).
    language: a.language,
    translationGroup: a.translationGroup,
    warnings: editorialWarnings(a),
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
    leadImage: image(a.leadImage, mediaBaseUrl),
    gallery: a.gallery.map((g) => ({ image: publicImage(g.media, mediaBaseUrl), caption: g.caption })),
    // Who holds the edit lock (src/articles/locks.ts); null when nobody does or it expired.
    lockedBy: lockedBy(a.editLock),
    // Credited author profiles (src/authors), in byline order.
    authors: a.authorCredits.map((c) => ({ id: c.author.id, slug: c.author.slug, name: c.author.name, role: c.role })),
  };
}

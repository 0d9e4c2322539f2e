// Turns stored read-model documents into the public JSON, adding what depends
// on configuration (media URLs, permalinks, local times: publicView) and on the
// section tree (section name, breadcrumb). The editorial mappers do the
// shaping, so a document renders exactly as the editorial path would.
import { publicArticle, publicListItem } from "../articles/mappers.ts";
import type { PublicView } from "../articles/presentation.ts";
import type { PublicListRow } from "../articles/service.ts";
import type { SectionTree } from "../sections/service.ts";
import type { ArticleDoc, ItemDoc } from "./read-model.ts";

function sectionOf(tree: SectionTree, id: number) {
  const s = tree.byId.get(id);
  return { id, slug: s?.slug ?? "", name: s?.name ?? "" };
}

const date = (s: string | null) => (s ? new Date(s) : null);

export function renderArticle(
  d: ArticleDoc, row: { status: string; commentCount: number }, tree: SectionTree, view: PublicView,
) {
  const a = {
    ...d,
    status: row.status,
    commentCount: row.commentCount,
    publishedAt: date(d.publishedAt),
    updatedAt: new Date(d.updatedAt),
    section: sectionOf(tree, d.sectionId),
    // Documents built before languages existed (until the start-up backfill rebuilds them).
    language: d.language ?? view.siteLanguage,
    alternates: d.alternates ?? [],
  } as unknown as Parameters<typeof publicArticle>[0];
  return publicArticle(a, tree, view, d.automatic);
}

export type RenderedArticle = ReturnType<typeof renderArticle>;

export function renderItem(item: ItemDoc, sectionId: number, tree: SectionTree, view: PublicView) {
  const a = { ...item, publishedAt: date(item.publishedAt), section: sectionOf(tree, sectionId) } as unknown as PublicListRow;
  return publicListItem(a, view);
}

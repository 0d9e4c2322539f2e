import type { Section } from "../generated/prisma/client.ts";
import type { SectionRow, SectionTree } from "./service.ts";

export const sectionRef = (s: Pick<Section, "slug" | "name">) => ({ slug: s.slug, name: s.name });

export interface PublicSectionNode {
  slug: string;
  name: string;
  description: string;
  language: string;
  children: PublicSectionNode[];
}

/** `siteLanguage`: SITE_LANGUAGE, normalized (sections without a language in their chain have it). */
export function publicTree(tree: SectionTree, siteLanguage: string, parentId: number | null = null): PublicSectionNode[] {
  return (tree.children.get(parentId) ?? []).map((s) => ({
    slug: s.slug,
    name: s.name,
    description: s.description,
    language: tree.languageOf(s.id) ?? siteLanguage,
    children: publicTree(tree, siteLanguage, s.id),
  }));
}

export function publicSection(tree: SectionTree, s: SectionRow, siteLanguage: string) {
  return {
    slug: s.slug,
    name: s.name,
    description: s.description,
    language: tree.languageOf(s.id) ?? siteLanguage,
    breadcrumb: tree.breadcrumb(s.id).map(sectionRef),
    children: (tree.children.get(s.id) ?? []).map(sectionRef),
  };
}

type AdminSectionRow = Section & { parent: { id: number; slug: string; name: string } | null };

export function adminSection(s: AdminSectionRow) {
  return {
    id: s.id,
    slug: s.slug,
    name: s.name,
    description: s.description,
    position: s.position,
    parent: s.parent ? { id: s.parent.id, slug: s.parent.slug, name: s.parent.name } : null,
    leadArticleId: s.leadArticleId,
    // Own language; null: the parent's (then SITE_LANGUAGE).
    language: s.language,
    version: s.version,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

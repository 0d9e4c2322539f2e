// The only places that decide which author-profile fields leave the API.
import { publicImage, type MediaRef } from "../media/mappers.ts";
import type { PublicView } from "../articles/presentation.ts";
import type { AuthorLink, AuthorRow } from "./service.ts";

type Photo = (MediaRef & { id: number }) | null;

/** The author's page on the site (PUBLIC_SITE_URL): what articles and JSON-LD link to. */
export const authorPageUrl = (view: Pick<PublicView, "siteUrl">, slug: string) => `${view.siteUrl}/authors/${slug}`;

export function adminAuthor(a: AuthorRow, mediaBaseUrl = "") {
  return {
    id: a.id,
    slug: a.slug,
    name: a.name,
    bio: a.bio,
    photo: a.photo ? publicImage(a.photo, mediaBaseUrl) : null,
    links: a.links as unknown as AuthorLink[],
    version: a.version,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

export function publicAuthor(a: { slug: string; name: string; bio: string; links: unknown; photo: Photo }, view: PublicView) {
  return {
    slug: a.slug,
    name: a.name,
    bio: a.bio,
    photo: a.photo ? publicImage(a.photo, view.mediaBaseUrl) : null,
    links: a.links as AuthorLink[],
    url: authorPageUrl(view, a.slug),
  };
}

/** An article's credits as the public article shows them (stored in the read model's document as loaded). */
export interface CreditDoc {
  role: string;
  author: { id: number; slug: string; name: string };
}

export const publicCredits = (credits: CreditDoc[] | undefined, view: PublicView) =>
  (credits ?? []).map((c) => ({ slug: c.author.slug, name: c.author.name, role: c.role, url: authorPageUrl(view, c.author.slug) }));

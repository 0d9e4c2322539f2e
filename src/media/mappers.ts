import type { Media } from "../generated/prisma/client.ts";

/** Public URL of a stored file: MEDIA_BASE_URL (a CDN, say) or this server's /media. */
export const mediaUrl = (baseUrl: string, storageKey: string) => `${baseUrl}/media/${storageKey}`;

export type MediaRef = Pick<Media, "storageKey" | "width" | "height" | "caption" | "credit" | "alt" | "mimeType">;

export const mediaRefSelect = {
  id: true, storageKey: true, width: true, height: true, caption: true, credit: true, alt: true, mimeType: true,
} as const;

/** The image as public payloads show it (lead images, galleries, collections). */
export function publicImage(m: MediaRef & { id: number }, baseUrl: string) {
  return {
    id: m.id,
    url: mediaUrl(baseUrl, m.storageKey),
    width: m.width,
    height: m.height,
    mimeType: m.mimeType,
    caption: m.caption,
    credit: m.credit,
    alt: m.alt,
  };
}

/** The full record, for the editor API. */
export function adminMedia(m: Media, baseUrl: string) {
  return {
    ...publicImage(m, baseUrl),
    size: m.size,
    originalName: m.originalName,
    uploadedBy: m.uploadedById,
    createdAt: m.createdAt.toISOString(),
  };
}

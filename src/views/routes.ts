// The read beacon ("Most Popular" is ranked by src/delivery from what it counts).
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { clientIp } from "../auth/middleware.ts";
import { HttpError, notFound } from "../http/errors.ts";
import { route, slugParams } from "../http/validate.ts";

const BOT_UA = /bot|crawl|spider|slurp|facebookexternalhit|preview|monitor|curl|wget|python-requests|go-http-client|java\/|headless/i;

const SLUG_TTL_MS = 60_000;
// Unknown slugs are remembered briefly too (a flood of 404 beacons should not
// reach the database), but not for long: an article may be published any moment.
const MISSING_SLUG_TTL_MS = 10_000;
const SLUG_CACHE_MAX = 10_000;

/**
 * slug -> id of a published article. Beacons come in bursts for the same few
 * stories. Per instance, not in Redis: it caches the database, and every
 * instance reads the change events, which drop an article's entry (and every
 * "no such article" entry) as soon as it is published, unpublished, moved or
 * trashed on any instance; the TTL only bounds what an event could miss.
 */
function slugCache(ttlMs: number, missingTtlMs: number, max: number) {
  const entries = new Map<string, { id: number | null; expires: number }>();
  return {
    get(slug: string, now: number): number | null | undefined {
      const e = entries.get(slug);
      if (!e) return undefined;
      if (e.expires <= now) {
        entries.delete(slug);
        return undefined;
      }
      return e.id;
    },
    set(slug: string, id: number | null, now: number) {
      entries.delete(slug);
      entries.set(slug, { id, expires: now + (id === null ? missingTtlMs : ttlMs) });
      // Insertion order is roughly age: drop the oldest.
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
    /** Drops the entries of these article ids, and every remembered miss (one may just have been published). */
    drop(ids: Set<number>) {
      for (const [slug, e] of entries) if (e.id === null || ids.has(e.id)) entries.delete(slug);
    },
  };
}

const ARTICLE_KEY = /^article:(\d+)$/;

export function viewRoutes(ctx: AppContext): Router {
  const r = Router();
  const slugs = slugCache(SLUG_TTL_MS, MISSING_SLUG_TTL_MS, SLUG_CACHE_MAX);
  ctx.events.subscribe((batch) => {
    const ids = new Set<number>();
    for (const e of batch) {
      if (e.entityType === "article" && e.entityId !== null) ids.add(e.entityId);
      for (const k of e.keys) {
        const m = ARTICLE_KEY.exec(k);
        if (m) ids.add(Number(m[1]));
      }
    }
    if (ids.size) slugs.drop(ids);
  });

  async function publishedId(slug: string): Promise<number | null> {
    const now = Date.now();
    const cached = slugs.get(slug, now);
    if (cached !== undefined) return cached;
    const row = await ctx.prisma.article.findFirst({
      where: { slug, status: "PUBLISHED", deletedAt: null, embargoedUntil: null },
      select: { id: true },
    });
    slugs.set(slug, row?.id ?? null, now);
    return row?.id ?? null;
  }

  r.post("/articles/:slug/views", route({ params: slugParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    const id = await publishedId(params.slug);
    if (id === null) throw notFound("Article");
    const ua = req.headers["user-agent"];
    if (!ua || BOT_UA.test(ua)) {
      res.status(202).json({ counted: false, reason: "bot" });
      return;
    }
    const ip = clientIp(req);
    const outcome = await ctx.views.admit(id, ctx.hashClient.network(ip), ctx.hashClient.reader(ip, ua));
    if (outcome === "rate-limited") {
      throw new HttpError(429, "too-many-requests", "Too many view beacons from this address; try again in 60 seconds.", undefined, { "Retry-After": "60" });
    }
    res.status(202).json(
      outcome === "counted" ? { counted: true } : { counted: false, reason: outcome === "capped" ? "address-limit" : "duplicate" },
    );
  }));

  return r;
}

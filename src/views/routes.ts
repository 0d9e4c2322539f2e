// The read beacon and the "Most Popular" ranking.
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { clientIp } from "../auth/middleware.ts";
import { HttpError, notFound } from "../http/errors.ts";
import { route, slugParams, slugSchema } from "../http/validate.ts";
import { publicListSelect } from "../articles/service.ts";
import { publicListItem } from "../articles/mappers.ts";
import { publicView } from "../articles/presentation.ts";
import { loadTree } from "../sections/service.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";

const BOT_UA = /bot|crawl|spider|slurp|facebookexternalhit|preview|monitor|curl|wget|python-requests|go-http-client|java\/|headless/i;

const HOUR_MS = 3_600_000;
const WINDOWS = { "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS } as const;

const SLUG_TTL_MS = 60_000;
// Unknown slugs are remembered briefly too (a flood of 404 beacons should not
// reach the database), but not for long: an article may be published any moment.
const MISSING_SLUG_TTL_MS = 10_000;
const SLUG_CACHE_MAX = 10_000;

/**
 * slug -> id of a published article. Beacons come in bursts for the same few
 * stories; an unpublished or trashed article may keep counting until its entry
 * expires, which is harmless.
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
  };
}

const popularQuery = z.object({
  window: z.enum(["24h", "7d", "30d"]).default("24h"),
  section: slugSchema.optional(),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

export function viewRoutes(ctx: AppContext): Router {
  const r = Router();
  const slugs = slugCache(SLUG_TTL_MS, MISSING_SLUG_TTL_MS, SLUG_CACHE_MAX);
  const view = publicView(ctx.config);

  async function publishedId(slug: string): Promise<number | null> {
    const now = Date.now();
    const cached = slugs.get(slug, now);
    if (cached !== undefined) return cached;
    const row = await ctx.prisma.article.findFirst({
      where: { slug, status: "PUBLISHED", deletedAt: null },
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
    const outcome = ctx.views.record(id, ctx.hashClient.network(ip), ctx.hashClient.reader(ip, ua));
    if (outcome === "rate-limited") {
      throw new HttpError(429, "too-many-requests", "Too many view beacons from this address; try again in 60 seconds.", undefined, { "Retry-After": "60" });
    }
    res.status(202).json(
      outcome === "counted" ? { counted: true } : { counted: false, reason: outcome === "capped" ? "address-limit" : "duplicate" },
    );
  }));

  r.get("/popular", route({ query: popularQuery }, async ({ query }, _req, res) => {
    // Whole hour buckets: the one containing the window start counts in full.
    const since = new Date(Math.floor((Date.now() - WINDOWS[query.window]) / HOUR_MS) * HOUR_MS);
    let sectionFilter = Prisma.empty;
    if (query.section) {
      const tree = await loadTree(ctx.prisma);
      const s = tree.bySlug.get(query.section);
      if (!s) throw notFound("Section");
      sectionFilter = Prisma.sql`AND a."sectionId" IN (${Prisma.join(tree.descendantIds(s.id))})`;
    }
    const ranked = await ctx.prisma.$queryRaw<{ id: number; views: bigint }[]>`
      SELECT v."articleId" AS id, SUM(v."views")::bigint AS views
      FROM "ArticleViewHourly" v
      JOIN "Article" a ON a.id = v."articleId"
      WHERE v."hour" >= ${since.toISOString()}::timestamptz AND a.status = 'PUBLISHED' AND a."deletedAt" IS NULL ${sectionFilter}
      GROUP BY v."articleId", a."publishedAt"
      HAVING SUM(v."views") > 0
      ORDER BY views DESC, a."publishedAt" DESC NULLS LAST, v."articleId" DESC
      LIMIT ${query.limit}`;
    // Filtered again: an article unpublished between the two queries drops out.
    const articles = await ctx.prisma.article.findMany({
      where: { id: { in: ranked.map((x) => x.id) }, status: "PUBLISHED", deletedAt: null },
      select: publicListSelect,
    });
    const byId = new Map(articles.map((a) => [a.id, a]));
    const data = ranked.flatMap(({ id, views }) => {
      const a = byId.get(id);
      return a ? [{ ...publicListItem(a, view), views: Number(views) }] : [];
    });
    surrogateKeys(res, ranked.map((x) => `article:${x.id}`));
    res.json({ data, meta: { window: query.window, since: since.toISOString() } });
  }));

  return r;
}

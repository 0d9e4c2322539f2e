// Agency copy (IPTC ninjs): the editor API's ingest endpoint, and the public
// article as a ninjs item (`GET /api/v1/articles/{slug}?format=ninjs`).
import { Router, type RequestHandler } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole, type Actor } from "../auth/middleware.ts";
import { setEtag } from "../http/preconditions.ts";
import { route, slugParams, slugSchema } from "../http/validate.ts";
import { adminArticle } from "../articles/mappers.ts";
import { publicView } from "../articles/presentation.ts";
import { adminArticleInclude, publicStatuses, transition, trashArticle, type AdminArticleRow } from "../articles/service.ts";
import { articleBySlug } from "../delivery/reads.ts";
import { articleKeys, type ArticleRenderer } from "../delivery/rendered.ts";
import type { RenderedArticle } from "../delivery/render.ts";
import type { LiveSectionTree } from "../delivery/section-tree.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";
import { withdrawArticle } from "../articles/withdrawal.ts";
import { ingestItem, type IngestResult, type WireRow } from "./ingest.ts";
import { ninjsItemSchema, toNinjs } from "./ninjs.ts";

const ingestQuery = z.object({
  section: slugSchema.optional(),
  source: z.string().trim().min(1).max(200).optional(),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const wireJson = (w: WireRow) => ({
  uri: w.uri,
  version: w.version,
  firstCreated: iso(w.firstCreated),
  versionCreated: iso(w.versionCreated),
  pubStatus: w.pubStatus,
  embargoedUntil: iso(w.embargoedUntil),
  ingestCount: w.ingestCount,
  receivedAt: w.receivedAt.toISOString(),
});

/**
 * A canceled item takes the story down: a story readers have seen is
 * withdrawn (410 with the reason, src/articles/withdrawal.ts); one that never
 * ran goes to the trash (a scheduled one is returned to the desk first).
 */
async function withdrawCanceled(ctx: AppContext, actor: Actor, a: AdminArticleRow, agency: string | null): Promise<AdminArticleRow> {
  if (a.status === "WITHDRAWN" || a.deletedAt) return a;
  if (a.status === "PUBLISHED" || a.status === "ARCHIVED") {
    return withdrawArticle(ctx.prisma, actor, a.id, `${agency ?? "The agency"} canceled this story.`, null);
  }
  if (a.status === "SCHEDULED") await transition(ctx.prisma, actor, a.id, "return", { note: "Canceled by the agency." }, null);
  await trashArticle(ctx.prisma, actor, a.id, { any: true });
  return ctx.prisma.article.findUniqueOrThrow({ where: { id: a.id }, include: adminArticleInclude });
}

export function adminWireRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post("/ingest", requireRole(...EDITOR_PLUS), route({ query: ingestQuery, body: ninjsItemSchema }, async ({ query, body }, req, res) => {
    const actor = req.editor!;
    const result: IngestResult = await ingestItem(ctx.prisma, ctx.sanitizer, actor, body, query);
    let article = result.article;
    if (result.outcome === "canceled") article = await withdrawCanceled(ctx, actor, article, article.source);
    if (result.outcome === "created") res.location(`/api/v1/admin/articles/${article.id}`);
    setEtag(res, article.version);
    res.status(result.outcome === "created" ? 201 : 200).json({
      outcome: result.outcome,
      article: adminArticle(article, ctx.config.MEDIA_BASE_URL),
      wire: wireJson(result.wire),
      // Pictures are named, not fetched: an editor picks them up from the agency.
      pictures: result.content.pictures,
    });
  }));
  return r;
}

const NOT_HERE = Symbol("not a public article");

/**
 * `?format=ninjs` on the public article (mounted before the delivery routes;
 * any other request goes on to them). Two statements: the article as the
 * delivery route reads it, then the agency item it came from. Cached like
 * the article (the response cache keys entries by path and query), with the
 * article's surrogate keys: an ingest is an article change and drops both.
 */
export function publicWireRoutes(ctx: AppContext, sections: LiveSectionTree, renderer: ArticleRenderer): Router {
  const r = Router();
  const view = publicView(ctx.config);
  const statuses = publicStatuses(ctx.config.ARCHIVED_PUBLIC);
  const onlyNinjs: RequestHandler = (req, _res, next) => {
    const f = req.query.format;
    next(f === undefined || f === "json" ? "route" : undefined);
  };
  const formatQuery = z.object({ format: z.enum(["json", "ninjs"]) });
  const ninjs = route({ params: slugParams, query: formatQuery }, async ({ params }, _req, res) => {
    const k = await renderer.key();
    const row = await articleBySlug(ctx.db, params.slug, statuses, k.key);
    // No public article: the delivery route says why (404, or 410 with a withdrawn story's tombstone).
    if (!row) throw NOT_HERE;
    let article: RenderedArticle;
    let keys: string[];
    if (row.json !== null && row.jsonKeys !== null) {
      article = JSON.parse(row.json) as RenderedArticle;
      keys = row.jsonKeys.split(" ");
    } else {
      const doc = row.doc!;
      keys = articleKeys(doc, row);
      const tree = await sections.knowing([doc.sectionId, ...(doc.alternates ?? []).map((x) => x.sectionId)]);
      article = JSON.parse(renderer.render(doc, row, tree).json) as RenderedArticle;
    }
    // The article's own key comes first (articleKeys).
    const id = Number(keys.find((x) => x.startsWith("article:"))!.slice("article:".length));
    const [wire] = await ctx.db.read<{ uri: string; version: string | null }>(
      `SELECT uri, version FROM "WireItem" WHERE "articleId" = $1`, [id],
    );
    surrogateKeys(res, keys);
    res.json(toNinjs(article, wire ?? null, view.publicationName));
  });
  r.get("/articles/:slug", onlyNinjs, (req, res, next) => {
    Promise.resolve(ninjs(req, res, next)).catch((err: unknown) => next(err === NOT_HERE ? "route" : err));
  });
  return r;
}

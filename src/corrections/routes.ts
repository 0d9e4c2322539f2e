// Corrections: the desk's API under an article (EDITOR+ writes) and the
// public corrections feed (the site's corrections page).
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { badRequest } from "../http/errors.ts";
import { decodeCursor, pageQuery, paginate } from "../http/pagination.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { dateTimeSchema, idParams, idSchema, route } from "../http/validate.ts";
import { canonicalUrl, publicView } from "../articles/presentation.ts";
import { publicStatuses } from "../articles/service.ts";
import { sectionRef } from "../sections/mappers.ts";
import { publicReads } from "../db/replicas.ts";
import { LiveSectionTree } from "../delivery/section-tree.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import {
  CORRECTIONS_KEY, CORRECTION_TYPES, addCorrection, adminCorrection, deleteCorrection, getCorrection, listCorrections,
  updateCorrection, type CorrectionRow,
} from "./service.ts";

const fields = {
  type: z.enum(CORRECTION_TYPES),
  text: z.string().trim().min(1).max(5000),
  at: dateTimeSchema,
};
const createBody = z.strictObject({ ...fields, at: fields.at.optional() });
const updateBody = z.strictObject(fields).partial();
const correctionParams = z.object({ id: idSchema, correctionId: idSchema });

export function adminCorrectionRoutes(ctx: AppContext): Router {
  const r = Router();
  const send = (res: import("express").Response, c: CorrectionRow, status = 200) => {
    setEtag(res, c.version);
    res.status(status).json(adminCorrection(c));
  };
  r.get("/articles/:id/corrections", route({ params: idParams }, async ({ params }, req, res) => {
    const list = await listCorrections(ctx.prisma, req.editor!, params.id);
    res.json({ data: list.map(adminCorrection) });
  }));
  r.get("/articles/:id/corrections/:correctionId", route({ params: correctionParams }, async ({ params }, req, res) => {
    send(res, await getCorrection(ctx.prisma, req.editor!, params.id, params.correctionId));
  }));
  r.post("/articles/:id/corrections", requireRole(...EDITOR_PLUS), route({ params: idParams, body: createBody }, async ({ params, body }, req, res) => {
    const c = await addCorrection(ctx.prisma, req.editor!, params.id, body, parseIfMatch(req));
    res.location(`/api/v1/admin/articles/${params.id}/corrections/${c.id}`);
    send(res, c, 201);
  }));
  r.patch("/articles/:id/corrections/:correctionId", requireRole(...EDITOR_PLUS), route({ params: correctionParams, body: updateBody }, async ({ params, body }, req, res) => {
    send(res, await updateCorrection(ctx.prisma, req.editor!, params.id, params.correctionId, body, parseIfMatch(req)));
  }));
  r.delete("/articles/:id/corrections/:correctionId", requireRole(...EDITOR_PLUS), route({ params: correctionParams }, async ({ params }, req, res) => {
    await deleteCorrection(ctx.prisma, req.editor!, params.id, params.correctionId, parseIfMatch(req));
    res.status(204).end();
  }));
  return r;
}

interface FeedRow {
  id: number;
  type: string;
  text: string;
  at: Date;
  articleId: number;
  slug: string;
  headline: string;
  sectionId: number;
  publishedAt: Date | null;
}

/**
 * The newest corrections of publicly readable articles, in one statement:
 * a walk of "Correction"(at DESC, id DESC) joined to the read model, stopping
 * after a page.
 */
async function correctionsFeed(prisma: PrismaClient, statuses: string[], limit: number, before?: { t: Date; id: number }): Promise<FeedRow[]> {
  const after = before ? Prisma.sql`AND (c.at, c.id) < (${before.t}::timestamptz, ${before.id}::int)` : Prisma.empty;
  return prisma.$queryRaw<FeedRow[]>`
    SELECT c.id, c.type::text AS type, c.text, c.at, p."articleId", p.slug, p.doc->>'headline' AS headline, p."sectionId", p."publishedAt"
      FROM "Correction" c JOIN "PublishedArticle" p ON p."articleId" = c."articleId"
     WHERE p.status::text = ANY(${statuses}::text[]) ${after}
     ORDER BY c.at DESC, c.id DESC LIMIT ${limit}`;
}

export function publicCorrectionRoutes(ctx: AppContext, sections = new LiveSectionTree(ctx.prisma, ctx.events)): Router {
  const r = Router();
  const view = publicView(ctx.config);
  const statuses = publicStatuses(ctx.config.ARCHIVED_PUBLIC);
  const reads = publicReads(ctx);
  // 1 statement.
  r.get("/corrections", route({ query: z.object(pageQuery) }, async ({ query }, req, res) => {
    const cursor = decodeCursor(query.cursor);
    if (cursor && !cursor.t) throw badRequest("The request is invalid.", [{ path: "query.cursor", message: "Invalid cursor." }]);
    const rows = await reads.run(req, (db) => correctionsFeed(db.prisma, statuses, query.limit + 1, cursor ? { t: new Date(cursor.t!), id: cursor.id } : undefined));
    const { page, nextCursor } = paginate(rows, query.limit, (x) => ({ t: new Date(x.at).toISOString(), id: x.id }));
    surrogateKeys(res, [CORRECTIONS_KEY, ...page.map((x) => `article:${x.articleId}`)]);
    const tree = await sections.knowing(page.map((x) => x.sectionId));
    res.json({
      data: page.map((x) => {
        const s = tree.byId.get(x.sectionId);
        const section = { slug: s?.slug ?? "", name: s?.name ?? "" };
        const publishedAt = x.publishedAt ? new Date(x.publishedAt) : null;
        return {
          id: x.id,
          type: x.type,
          text: x.text,
          at: new Date(x.at).toISOString(),
          article: {
            slug: x.slug,
            headline: x.headline,
            section: sectionRef(section),
            publishedAt: publishedAt?.toISOString() ?? null,
            url: canonicalUrl(view, { slug: x.slug, section, publishedAt }),
          },
        };
      }),
      meta: { nextCursor },
    });
  }));
  return r;
}

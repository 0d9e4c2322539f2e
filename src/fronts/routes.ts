import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { publicListItem } from "../articles/mappers.ts";
import { publicView } from "../articles/presentation.ts";
import { setEtag } from "../http/preconditions.ts";
import { bodyIdSchema, idParams, route, slugParams } from "../http/validate.ts";
import { adminSection, sectionRef } from "../sections/mappers.ts";
import { latest, pinLead, sectionFront } from "./service.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";

const limitQuery = (dflt: number) => z.object({ limit: z.coerce.number().int().min(1).max(50).default(dflt) });

export function frontRoutes(ctx: AppContext): Router {
  const r = Router();
  const view = publicView(ctx.config);
  r.get("/latest", route({ query: limitQuery(10) }, async ({ query }, _req, res) => {
    const rows = await latest(ctx.prisma, query.limit);
    surrogateKeys(res, rows.map((a) => `article:${a.id}`));
    res.json({ data: rows.map((a) => publicListItem(a, view)) });
  }));
  r.get("/sections/:slug/front", route({ params: slugParams, query: limitQuery(10) }, async ({ params, query }, _req, res) => {
    const f = await sectionFront(ctx.prisma, params.slug, query.limit);
    surrogateKeys(res, [`section:${f.section.id}`, "sections", ...[...(f.lead ? [f.lead] : []), ...f.stories].map((a) => `article:${a.id}`)]);
    res.json({
      section: {
        ...sectionRef(f.section),
        description: f.section.description,
        breadcrumb: f.tree.breadcrumb(f.section.id).map(sectionRef),
      },
      lead: f.lead ? publicListItem(f.lead, view) : null,
      leadSource: f.source,
      stories: f.stories.map((a) => publicListItem(a, view)),
    });
  }));
  return r;
}

export function adminFrontRoutes(ctx: AppContext): Router {
  const r = Router();
  r.put("/sections/:id/lead", requireRole(...EDITOR_PLUS), route({ params: idParams, body: z.strictObject({ articleId: bodyIdSchema }) }, async ({ params, body }, req, res) => {
    const s = await pinLead(ctx.prisma, req.editor!, params.id, body.articleId);
    setEtag(res, s.version);
    res.json(adminSection(s));
  }));
  r.delete("/sections/:id/lead", requireRole(...EDITOR_PLUS), route({ params: idParams }, async ({ params }, req, res) => {
    const s = await pinLead(ctx.prisma, req.editor!, params.id, null);
    setEtag(res, s.version);
    res.json(adminSection(s));
  }));
  return r;
}

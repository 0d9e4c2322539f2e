import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { setEtag } from "../http/preconditions.ts";
import { bodyIdSchema, idParams, route } from "../http/validate.ts";
import { adminSection } from "../sections/mappers.ts";
import { pinLead } from "./service.ts";

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

import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { idSchema, isoDateTimeSchema, route } from "../http/validate.ts";
import { auditView, listAudit } from "./service.ts";

export function adminAuditRoutes(ctx: AppContext): Router {
  const r = Router();
  const query = z.object({
    action: z.string().regex(/^[a-z.-]{1,60}$/, "An action such as article.publish, or a prefix such as article.").optional(),
    actor: idSchema.optional(),
    targetType: z.enum(["article", "section", "comment", "editor", "media", "collection", "author", "live-entry"]).optional(),
    targetId: idSchema.optional(),
    since: isoDateTimeSchema.optional(),
    until: isoDateTimeSchema.optional(),
    ...pageQuery,
  });
  r.get("/audit", requireRole("ADMIN"), route({ query }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listAudit(ctx.prisma, query);
    res.json({ data: page.map(auditView), meta: { nextCursor } });
  }));
  return r;
}

// POST /api/v1/admin/articles/{id}/withdraw (EDITOR+) and /reinstate (ADMIN): src/articles/withdrawal.ts.
import { Router, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { idParams, route } from "../http/validate.ts";
import { adminArticle } from "./mappers.ts";
import type { AdminArticleRow } from "./service.ts";
import { reinstateArticle, withdrawArticle } from "./withdrawal.ts";

// The reason is public (the tombstone shows it): required, plain text.
const withdrawBody = z.strictObject({ reason: z.string().trim().min(1).max(1000) });

export function adminWithdrawalRoutes(ctx: AppContext): Router {
  const r = Router();
  const send = (res: Response, a: AdminArticleRow) => {
    setEtag(res, a.version);
    res.json(adminArticle(a, ctx.config.MEDIA_BASE_URL));
  };
  r.post("/articles/:id/withdraw", requireRole(...EDITOR_PLUS), route({ params: idParams, body: withdrawBody }, async ({ params, body }, req, res) => {
    send(res, await withdrawArticle(ctx.prisma, req.editor!, params.id, body.reason, parseIfMatch(req)));
  }));
  r.post("/articles/:id/reinstate", requireRole("ADMIN"), route({ params: idParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    send(res, await reinstateArticle(ctx.prisma, req.editor!, params.id, parseIfMatch(req)));
  }));
  return r;
}

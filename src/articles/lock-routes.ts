// POST/DELETE /api/v1/admin/articles/{id}/lock: the advisory edit lock (src/articles/locks.ts).
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { idParams, route } from "../http/validate.ts";
import { releaseLock, takeLock } from "./locks.ts";
import { assertCanEdit, getArticleFor } from "./service.ts";

const lockQuery = z.object({
  force: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
});

export function adminLockRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post("/articles/:id/lock", route({ params: idParams, query: lockQuery, body: z.strictObject({}) }, async ({ params, query }, req, res) => {
    const actor = req.editor!;
    const result = await takeLock(ctx.prisma, actor, params.id, query.force ?? false, async (tx) => {
      assertCanEdit(actor, await getArticleFor(tx, actor, params.id));
    });
    res.json(result);
  }));
  r.delete("/articles/:id/lock", route({ params: idParams }, async ({ params }, req, res) => {
    await releaseLock(ctx.prisma, req.editor!, params.id, (tx) => getArticleFor(tx, req.editor!, params.id));
    res.status(204).end();
  }));
  return r;
}

import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, clientIp, requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { bodyIdSchema, idParams, idSchema, route, slugParams } from "../http/validate.ts";
import { publicStatuses } from "../articles/service.ts";
import { listAdmin, moderate, moderateMany, remove, submitComment, type AdminCommentRow } from "./service.ts";

const adminComment = (c: AdminCommentRow) => ({
  id: c.id,
  name: c.authorName,
  body: c.body,
  status: c.status,
  parentId: c.parentId,
  parent: c.parent
    ? { id: c.parent.id, name: c.parent.authorName, body: c.parent.body, status: c.parent.status, createdAt: c.parent.createdAt.toISOString() }
    : null,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  article: { id: c.article.id, slug: c.article.slug, headline: c.article.headline },
});

export const COMMENT_NAME_MAX = 80;
export const COMMENT_BODY_MAX = 5000;

const submitBody = z.strictObject({
  name: z.string().trim().min(1).max(COMMENT_NAME_MAX),
  body: z.string().trim().min(1).max(COMMENT_BODY_MAX),
  parentId: bodyIdSchema.optional(),
  // Honeypot: hidden from people, so only bots fill it. Judged in the service,
  // after the article checks, so the answer names it like any other field error.
  website: z.string().optional(),
});

export function publicCommentRoutes(ctx: AppContext): Router {
  const r = Router();
  const { config } = ctx;
  const policy = {
    autoApprove: config.COMMENTS_AUTO_APPROVE,
    rateMax: config.COMMENT_RATE_MAX,
    rateWindowSeconds: config.COMMENT_RATE_WINDOW_SECONDS,
    maxLinks: config.COMMENT_MAX_LINKS,
  };
  r.post("/articles/:slug/comments", route({ params: slugParams, body: submitBody }, async ({ params, body }, req, res) => {
    const c = await submitComment(ctx.prisma, params.slug, publicStatuses(config.ARCHIVED_PUBLIC), policy, {
      // The address only: a limit keyed on anything the client picks (its
      // User-Agent) resets whenever the client changes it.
      ...body, clientHash: ctx.hashClient.network(clientIp(req)),
    });
    res.status(202).json({ id: c.id, status: c.status });
  }));
  return r;
}

const status = z.enum(["PENDING", "APPROVED", "REJECTED", "SPAM"]);

export function adminCommentRoutes(ctx: AppContext): Router {
  const r = Router();
  r.use("/comments", requireRole(...EDITOR_PLUS));
  const listQuery = z.object({ status: status.optional(), article: idSchema.optional(), ...pageQuery });
  r.get("/comments", route({ query: listQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listAdmin(ctx.prisma, query);
    res.json({ data: page.map(adminComment), meta: { nextCursor } });
  }));
  const patchBody = z.strictObject({ status: status.exclude(["PENDING"]) });
  r.patch("/comments/:id", route({ params: idParams, body: patchBody }, async ({ params, body }, req, res) => {
    res.json(adminComment(await moderate(ctx.prisma, req.editor!, params.id, body.status)));
  }));
  const bulkBody = z.strictObject({
    ids: z.array(bodyIdSchema).min(1).max(100).superRefine((ids, zctx) => {
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) zctx.addIssue({ code: "custom", path: [i], message: "Duplicate id." });
      });
    }),
    status: status.exclude(["PENDING"]),
  });
  r.post("/comments/bulk", route({ body: bulkBody }, async ({ body }, req, res) => {
    const updated = await moderateMany(ctx.prisma, req.editor!, body.ids, body.status);
    res.json({ updated, status: body.status });
  }));
  r.delete("/comments/:id", route({ params: idParams }, async ({ params }, req, res) => {
    await remove(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));
  return r;
}

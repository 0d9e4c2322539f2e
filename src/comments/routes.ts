import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { idParams, idSchema, route, slugParams } from "../http/validate.ts";
import { publicStatuses } from "../articles/service.ts";
import { listAdmin, listApproved, moderate, remove, submitComment, type AdminCommentRow } from "./service.ts";

const publicComment = (c: { id: number; authorName: string; body: string; createdAt: Date }) => ({
  id: c.id,
  name: c.authorName,
  body: c.body,
  createdAt: c.createdAt.toISOString(),
});

const adminComment = (c: AdminCommentRow) => ({
  id: c.id,
  name: c.authorName,
  body: c.body,
  status: c.status,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
  article: { id: c.article.id, slug: c.article.slug, headline: c.article.headline },
});

export const COMMENT_NAME_MAX = 80;
export const COMMENT_BODY_MAX = 5000;

const submitBody = z.strictObject({
  name: z.string().trim().min(1).max(COMMENT_NAME_MAX),
  body: z.string().trim().min(1).max(COMMENT_BODY_MAX),
});

export function publicCommentRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get("/articles/:slug/comments", route({ params: slugParams, query: z.object(pageQuery) }, async ({ params, query }, _req, res) => {
    const { page, nextCursor } = await listApproved(ctx.prisma, params.slug, publicStatuses(ctx.config.ARCHIVED_PUBLIC), query.limit, query.cursor);
    res.json({ data: page.map(publicComment), meta: { nextCursor } });
  }));
  r.post("/articles/:slug/comments", route({ params: slugParams, body: submitBody }, async ({ params, body }, _req, res) => {
    const c = await submitComment(ctx.prisma, params.slug, publicStatuses(ctx.config.ARCHIVED_PUBLIC), body.name, body.body);
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
  r.delete("/comments/:id", route({ params: idParams }, async ({ params }, req, res) => {
    await remove(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));
  return r;
}

import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { ANY_ROLE, EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { bodyIdSchema, idParams, idSchema, route, slugParams, slugSchema } from "../http/validate.ts";
import { adminArticle, publicArticle, publicListItem } from "./mappers.ts";
import {
  createArticle, deleteArticle, getArticleAdmin, getArticlePublic, listArticlesAdmin,
  listArticlesPublic, publishArticle, unpublishArticle, updateArticle,
} from "./service.ts";

const kind = z.enum(["STORY", "ANALYSIS", "OPINION", "PHOTO_STORY"]);
const status = z.enum(["DRAFT", "IN_REVIEW", "SCHEDULED", "PUBLISHED", "ARCHIVED"]);

export function publicArticleRoutes(ctx: AppContext): Router {
  const r = Router();
  const listQuery = z.object({ section: slugSchema.optional(), tag: slugSchema.optional(), kind: kind.optional(), ...pageQuery });
  r.get("/articles", route({ query: listQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listArticlesPublic(ctx.prisma, query);
    res.json({ data: page.map(publicListItem), meta: { nextCursor } });
  }));
  r.get("/articles/:slug", route({ params: slugParams }, async ({ params }, _req, res) => {
    const { article, tree } = await getArticlePublic(ctx.prisma, params.slug);
    res.json(publicArticle(article, tree));
  }));
  return r;
}

// Blank strings are stored as null, so "no dateline" has one representation.
const optionalText = (max: number) =>
  z.string().trim().max(max).nullable().transform((v) => (v === "" ? null : v));
const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).max(max).refine((a) => new Set(a).size === a.length, "Must not contain duplicates.");

const articleFields = {
  slug: slugSchema,
  headline: z.string().trim().min(1).max(300),
  summary: z.string().trim().max(2000),
  dateline: optionalText(100),
  source: optionalText(200),
  byline: optionalText(200),
  body: z.string().max(500_000),
  kind,
  section: slugSchema,
  editors: uniqueList(bodyIdSchema, 20),
  related: uniqueList(bodyIdSchema, 20),
  tags: uniqueList(slugSchema, 30),
};

const createBody = z.strictObject({
  ...articleFields,
  slug: articleFields.slug.optional(),
  summary: articleFields.summary.optional(),
  dateline: articleFields.dateline.optional(),
  source: articleFields.source.optional(),
  byline: articleFields.byline.optional(),
  body: articleFields.body.optional(),
  kind: articleFields.kind.optional(),
  editors: articleFields.editors.optional(),
  related: articleFields.related.optional(),
  tags: articleFields.tags.optional(),
});
const updateBody = z.strictObject(articleFields).partial();
const publishBody = z.strictObject({ publishedAt: z.iso.datetime({ offset: true }).optional() });

export function adminArticleRoutes(ctx: AppContext): Router {
  const r = Router();
  const listQuery = z.object({
    status: status.optional(),
    section: slugSchema.optional(),
    author: idSchema.optional(),
    kind: kind.optional(),
    ...pageQuery,
  });
  r.get("/articles", route({ query: listQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listArticlesAdmin(ctx.prisma, query);
    res.json({ data: page.map(adminArticle), meta: { nextCursor } });
  }));
  r.get("/articles/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(adminArticle(await getArticleAdmin(ctx.prisma, params.id)));
  }));
  r.post("/articles", requireRole(...ANY_ROLE), route({ body: createBody }, async ({ body }, req, res) => {
    const a = await createArticle(ctx.prisma, req.editor!, body);
    res.status(201).location(`/api/v1/admin/articles/${a.id}`).json(adminArticle(a));
  }));
  r.patch("/articles/:id", route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    res.json(adminArticle(await updateArticle(ctx.prisma, req.editor!, params.id, body)));
  }));
  r.delete("/articles/:id", route({ params: idParams }, async ({ params }, req, res) => {
    await deleteArticle(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));
  r.post("/articles/:id/publish", requireRole(...EDITOR_PLUS), route({ params: idParams, body: publishBody }, async ({ params, body }, _req, res) => {
    const at = body.publishedAt ? new Date(body.publishedAt) : undefined;
    res.json(adminArticle(await publishArticle(ctx.prisma, params.id, at)));
  }));
  r.post("/articles/:id/unpublish", requireRole(...EDITOR_PLUS), route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(adminArticle(await unpublishArticle(ctx.prisma, params.id)));
  }));
  return r;
}

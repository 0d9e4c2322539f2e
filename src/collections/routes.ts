import { Router, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { publicImage } from "../media/mappers.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { bodyIdSchema, idParams, idSchema, route, slugSchema } from "../http/validate.ts";
import {
  addItem, createCollection, deleteCollection, getCollection, listCollections, removeItem, reorder,
  updateCollection, updateItem, type AdminCollectionRow,
} from "./service.ts";

function adminCollection(c: AdminCollectionRow, baseUrl: string) {
  return {
    id: c.id,
    slug: c.slug,
    name: c.name,
    version: c.version,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    items: c.items.map((i) => ({
      id: i.id,
      position: i.position,
      headline: i.headline,
      image: i.image ? publicImage(i.image, baseUrl) : null,
      article: {
        id: i.article.id, slug: i.article.slug, headline: i.article.headline, status: i.article.status,
        trashed: i.article.deletedAt !== null,
      },
    })),
  };
}

const name = z.string().trim().min(1).max(120);
const headline = z.string().trim().min(1).max(300).nullable();

export function adminCollectionRoutes(ctx: AppContext): Router {
  const r = Router();
  const base = ctx.config.MEDIA_BASE_URL;
  const send = (res: Response, c: AdminCollectionRow, status = 200) => {
    setEtag(res, c.version);
    res.status(status).json(adminCollection(c, base));
  };
  r.use("/collections", requireRole(...EDITOR_PLUS));
  r.get("/collections", route({}, async (_i, _req, res) => {
    const rows = await listCollections(ctx.prisma);
    res.json({
      data: rows.map((c) => ({
        id: c.id, slug: c.slug, name: c.name, itemCount: c._count.items, version: c.version,
        createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString(),
      })),
    });
  }));
  r.post("/collections", route({ body: z.strictObject({ slug: slugSchema, name }) }, async ({ body }, req, res) => {
    const c = await createCollection(ctx.prisma, req.editor!, body);
    res.location(`/api/v1/admin/collections/${c.id}`);
    send(res, c, 201);
  }));
  r.get("/collections/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    send(res, await getCollection(ctx.prisma, params.id));
  }));
  r.patch("/collections/:id", route({ params: idParams, body: z.strictObject({ slug: slugSchema, name }).partial() }, async ({ params, body }, req, res) => {
    send(res, await updateCollection(ctx.prisma, req.editor!, params.id, body, parseIfMatch(req)));
  }));
  r.delete("/collections/:id", route({ params: idParams }, async ({ params }, req, res) => {
    await deleteCollection(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));
  const itemBody = z.strictObject({
    articleId: bodyIdSchema,
    position: z.number().int().min(0).max(10000).optional(),
    headline: headline.optional(),
    image: bodyIdSchema.nullable().optional(),
  });
  r.post("/collections/:id/items", route({ params: idParams, body: itemBody }, async ({ params, body }, req, res) => {
    send(res, await addItem(ctx.prisma, req.editor!, params.id, body), 201);
  }));
  r.put("/collections/:id/items", route({ params: idParams, body: z.strictObject({ itemIds: z.array(bodyIdSchema).max(1000) }) }, async ({ params, body }, req, res) => {
    send(res, await reorder(ctx.prisma, req.editor!, params.id, body.itemIds));
  }));
  const itemParams = z.object({ id: idSchema, itemId: idSchema });
  const itemPatch = z.strictObject({ headline, image: bodyIdSchema.nullable() }).partial();
  r.patch("/collections/:id/items/:itemId", route({ params: itemParams, body: itemPatch }, async ({ params, body }, req, res) => {
    send(res, await updateItem(ctx.prisma, req.editor!, params.id, params.itemId, body));
  }));
  r.delete("/collections/:id/items/:itemId", route({ params: itemParams }, async ({ params }, req, res) => {
    send(res, await removeItem(ctx.prisma, req.editor!, params.id, params.itemId));
  }));
  return r;
}

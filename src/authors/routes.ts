// Author profiles: the editor API (EDITOR+) and the public author page.
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { badRequest, notFound } from "../http/errors.ts";
import { decodeCursor, pageQuery, paginate } from "../http/pagination.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { bodyIdSchema, idParams, route, slugParams } from "../http/validate.ts";
import { publicView } from "../articles/presentation.ts";
import { publicReads } from "../db/replicas.ts";
import { LiveSectionTree } from "../delivery/section-tree.ts";
import { renderItem } from "../delivery/render.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";
import { adminAuthor, publicAuthor } from "./mappers.ts";
import { authorPage } from "./reads.ts";
import { authorSlugSchema } from "./schema.ts";
import { createAuthor, deleteAuthor, getAuthor, listAuthors, updateAuthor, type AuthorRow } from "./service.ts";

const httpUrl = z.url({ protocol: /^https?$/, normalize: true }).max(2000);

const authorFields = {
  slug: authorSlugSchema,
  name: z.string().trim().min(1).max(200),
  bio: z.string().trim().max(5000),
  photo: bodyIdSchema.nullable(),
  links: z.array(z.strictObject({ label: z.string().trim().min(1).max(100), url: httpUrl })).max(20),
};
const createBody = z.strictObject({
  ...authorFields,
  bio: authorFields.bio.optional(),
  photo: authorFields.photo.optional(),
  links: authorFields.links.optional(),
});
const updateBody = z.strictObject(authorFields).partial();

export function adminAuthorRoutes(ctx: AppContext): Router {
  const r = Router();
  const send = (res: import("express").Response, a: AuthorRow, status = 200) => {
    setEtag(res, a.version);
    res.status(status).json(adminAuthor(a, ctx.config.MEDIA_BASE_URL));
  };
  const listQuery = z.object({ q: z.string().trim().min(1).max(200).optional(), ...pageQuery });
  // Any editor may look profiles up (to credit them); only EDITOR+ change them.
  r.get("/authors", route({ query: listQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listAuthors(ctx.prisma, query);
    res.json({ data: page.map((a) => adminAuthor(a, ctx.config.MEDIA_BASE_URL)), meta: { nextCursor } });
  }));
  r.get("/authors/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    send(res, await getAuthor(ctx.prisma, params.id));
  }));
  r.post("/authors", requireRole(...EDITOR_PLUS), route({ body: createBody }, async ({ body }, req, res) => {
    const a = await createAuthor(ctx.prisma, req.editor!, body);
    res.location(`/api/v1/admin/authors/${a.id}`);
    send(res, a, 201);
  }));
  r.patch("/authors/:id", requireRole(...EDITOR_PLUS), route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    send(res, await updateAuthor(ctx.prisma, req.editor!, params.id, body, parseIfMatch(req)));
  }));
  r.delete("/authors/:id", requireRole(...EDITOR_PLUS), route({ params: idParams }, async ({ params }, req, res) => {
    await deleteAuthor(ctx.prisma, req.editor!, params.id, parseIfMatch(req));
    res.status(204).end();
  }));
  return r;
}

export function publicAuthorRoutes(ctx: AppContext, sections = new LiveSectionTree(ctx.prisma, ctx.events)): Router {
  const r = Router();
  const view = publicView(ctx.config);
  const reads = publicReads(ctx);
  // 1 statement: the profile and a page of their newest published stories.
  r.get("/authors/:slug", route({ params: slugParams, query: z.object(pageQuery) }, async ({ params, query }, req, res) => {
    const cursor = decodeCursor(query.cursor);
    if (cursor && !cursor.t) throw badRequest("The request is invalid.", [{ path: "query.cursor", message: "Invalid cursor." }]);
    const found = await reads.run(req, (db) => authorPage(db.prisma, params.slug, query.limit + 1, cursor ? { t: new Date(cursor.t!), id: cursor.id } : undefined));
    if (!found) throw notFound("Author");
    const { page, nextCursor } = paginate(found.items, query.limit, (x) => ({ t: x.item.publishedAt!, id: x.articleId }));
    // A story newly credited or published changes the list: "articles" (any public article change) covers it.
    surrogateKeys(res, [`author:${found.author.id}`, "articles", ...page.map((x) => `article:${x.articleId}`)]);
    const tree = await sections.knowing(page.map((x) => x.sectionId));
    res.json({
      author: publicAuthor(found.author, view),
      data: page.map((x) => renderItem(x.item, x.sectionId, tree, view)),
      meta: { nextCursor },
    });
  }));
  return r;
}

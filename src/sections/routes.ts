import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { requireRole } from "../auth/middleware.ts";
import { notFound } from "../http/errors.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { idParams, route, slugParams, slugSchema } from "../http/validate.ts";
import { adminSection, publicSection, publicTree } from "./mappers.ts";
import { createSection, deleteSection, getSectionAdmin, listSectionsAdmin, loadTree, updateSection } from "./service.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";
import { languageSchema } from "../i18n/schema.ts";
import { normalizeLanguage } from "../i18n/languages.ts";
import { publicReads } from "../db/replicas.ts";

export function publicSectionRoutes(ctx: AppContext): Router {
  const r = Router();
  const site = normalizeLanguage(ctx.config.SITE_LANGUAGE);
  const reads = publicReads(ctx);
  r.get("/sections", route({}, async (_i, req, res) => {
    const tree = await reads.run(req, (db) => loadTree(db.prisma));
    surrogateKeys(res, ["sections"]);
    res.json({ data: publicTree(tree, site) });
  }));
  r.get("/sections/:slug", route({ params: slugParams }, async ({ params }, req, res) => {
    const tree = await reads.run(req, (db) => loadTree(db.prisma));
    const s = tree.bySlug.get(params.slug);
    if (!s) throw notFound("Section");
    surrogateKeys(res, [`section:${s.id}`]);
    res.json(publicSection(tree, s, site));
  }));
  return r;
}

const sectionFields = {
  slug: slugSchema,
  name: z.string().trim().min(1).max(120),
  description: z.string().max(1000),
  parent: slugSchema.nullable(),
  position: z.number().int().min(-100000).max(100000),
  // BCP 47 (issue 9); null: inherit the parent's, then SITE_LANGUAGE.
  language: languageSchema.nullable(),
};

const createBody = z.strictObject({
  ...sectionFields,
  description: sectionFields.description.optional(),
  parent: sectionFields.parent.optional(),
  position: sectionFields.position.optional(),
  language: sectionFields.language.optional(),
});
const updateBody = z.strictObject(sectionFields).partial();

export function adminSectionRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get("/sections", route({}, async (_i, _req, res) => {
    res.json({ data: (await listSectionsAdmin(ctx.prisma)).map(adminSection) });
  }));
  r.get("/sections/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    const s = await getSectionAdmin(ctx.prisma, params.id);
    setEtag(res, s.version);
    res.json(adminSection(s));
  }));
  r.post("/sections", requireRole("ADMIN"), route({ body: createBody }, async ({ body }, req, res) => {
    const s = await createSection(ctx.prisma, req.editor!, body);
    setEtag(res, s.version);
    res.status(201).location(`/api/v1/admin/sections/${s.id}`).json(adminSection(s));
  }));
  r.patch("/sections/:id", requireRole("ADMIN"), route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    const s = await updateSection(ctx.prisma, req.editor!, params.id, body, parseIfMatch(req));
    setEtag(res, s.version);
    res.json(adminSection(s));
  }));
  r.delete("/sections/:id", requireRole("ADMIN"), route({ params: idParams }, async ({ params }, req, res) => {
    await deleteSection(ctx.prisma, req.editor!, params.id, parseIfMatch(req));
    res.status(204).end();
  }));
  return r;
}

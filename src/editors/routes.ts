import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { idParams, route } from "../http/validate.ts";
import { createEditor, editorView, getEditor, listEditors, updateEditor } from "./service.ts";

const role = z.enum(["ADMIN", "EDITOR", "WRITER"]);
export const passwordSchema = z.string().min(12, "Use at least 12 characters.").max(200);

const fields = {
  name: z.string().trim().min(1).max(120),
  email: z.string().trim().max(254).pipe(z.email()),
  password: passwordSchema,
  role,
};

export function adminEditorRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get("/me", route({}, async (_i, req, res) => {
    res.json(editorView(await getEditor(ctx.prisma, req.editor!.id)));
  }));
  r.use("/editors", requireRole("ADMIN"));
  const listQuery = z.object({
    active: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
    role: role.optional(),
    ...pageQuery,
  });
  r.get("/editors", route({ query: listQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listEditors(ctx.prisma, query);
    res.json({ data: page.map(editorView), meta: { nextCursor } });
  }));
  r.get("/editors/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(editorView(await getEditor(ctx.prisma, params.id)));
  }));
  const createBody = z.strictObject({ ...fields, role: role.default("WRITER") });
  r.post("/editors", route({ body: createBody }, async ({ body }, _req, res) => {
    const e = await createEditor(ctx.prisma, body);
    res.status(201).location(`/api/v1/admin/editors/${e.id}`).json(editorView(e));
  }));
  const updateBody = z.strictObject({ ...fields, active: z.boolean() }).partial();
  r.patch("/editors/:id", route({ params: idParams, body: updateBody }, async ({ params, body }, _req, res) => {
    res.json(editorView(await updateEditor(ctx.prisma, params.id, body)));
  }));
  // Editors are never hard-deleted: their names stay credited on articles.
  r.delete("/editors/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(editorView(await updateEditor(ctx.prisma, params.id, { active: false })));
  }));
  return r;
}

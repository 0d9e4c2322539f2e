import { Router, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import type { Editor } from "../generated/prisma/client.ts";
import { createLoginLimiter } from "../auth/login-limits.ts";
import { requireRole } from "../auth/middleware.ts";
import { pageQuery } from "../http/pagination.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { idParams, route } from "../http/validate.ts";
import { changeOwnPassword, createEditor, directoryEntry, editorView, getEditor, listEditors, updateEditor } from "./service.ts";

const role = z.enum(["ADMIN", "EDITOR", "WRITER"]);
export const passwordSchema = z.string().min(12, "Use at least 12 characters.").max(200);

const fields = {
  name: z.string().trim().min(1).max(120),
  email: z.string().trim().max(254).pipe(z.email()),
  password: passwordSchema,
  role,
};

function send(res: Response, e: Editor, status = 200) {
  setEtag(res, e.version);
  res.status(status).json(editorView(e));
}

export function adminEditorRoutes(ctx: AppContext): Router {
  const r = Router();
  r.get("/me", route({}, async (_i, req, res) => {
    send(res, await getEditor(ctx.prisma, req.editor!.id));
  }));
  const passwordBody = z.strictObject({ currentPassword: z.string().min(1).max(200), newPassword: passwordSchema });
  const limiter = createLoginLimiter(ctx.prisma, ctx.tokens, ctx.config);
  r.post("/me/password", route({ body: passwordBody }, async ({ body }, req, res) => {
    const actor = req.editor!;
    // Wrong current passwords count as failed logins, so a stolen access
    // token is no unlimited oracle for the password. The actor holds a
    // session, so it is a known client (see auth/login-limits.ts).
    const attempt = await limiter.begin(limiter.keys(actor.email, actor.ip), true);
    await changeOwnPassword(ctx.prisma, actor, body.currentPassword, body.newPassword, attempt);
    res.status(204).end();
  }));
  // Any signed-in editor credits desk editors on articles, so any may list who can be credited: active
  // accounts' id, name and role only. Emails, versions and deactivated accounts stay behind /editors (ADMIN).
  const directoryQuery = z.object({ role: role.optional(), ...pageQuery });
  r.get("/editor-directory", route({ query: directoryQuery }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listEditors(ctx.prisma, { ...query, active: true });
    res.json({ data: page.map(directoryEntry), meta: { nextCursor } });
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
    send(res, await getEditor(ctx.prisma, params.id));
  }));
  const createBody = z.strictObject({ ...fields, role: role.default("WRITER") });
  r.post("/editors", route({ body: createBody }, async ({ body }, req, res) => {
    const e = await createEditor(ctx.prisma, body, req.editor!);
    res.location(`/api/v1/admin/editors/${e.id}`);
    send(res, e, 201);
  }));
  const updateBody = z.strictObject({ ...fields, active: z.boolean() }).partial();
  r.patch("/editors/:id", route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    send(res, await updateEditor(ctx.prisma, req.editor!, params.id, body, parseIfMatch(req)));
  }));
  // Editors are never hard-deleted: their names stay credited on articles.
  r.delete("/editors/:id", route({ params: idParams }, async ({ params }, req, res) => {
    send(res, await updateEditor(ctx.prisma, req.editor!, params.id, { active: false }, parseIfMatch(req), "editor.deactivate"));
  }));
  return r;
}

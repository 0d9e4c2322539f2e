import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { unauthorized } from "../http/errors.ts";
import { route } from "../http/validate.ts";
import { normalizeEmail } from "../editors/service.ts";
import { dummyHash, verifyPassword } from "./passwords.ts";

const loginBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(200),
});

export function authRoutes(ctx: AppContext): Router {
  const r = Router();
  r.post("/auth/login", route({ body: loginBody }, async ({ body }, req, res) => {
    const editor = await ctx.prisma.editor.findUnique({ where: { email: normalizeEmail(body.email) } });
    // Verify against a dummy hash for unknown emails: same cost either way.
    const ok = await verifyPassword(body.password, editor?.passwordHash ?? (await dummyHash()));
    if (!editor || !ok || !editor.active) {
      req.log.info({ email: normalizeEmail(body.email) }, "login failed");
      throw unauthorized("Invalid email or password.");
    }
    req.log.info({ editorId: editor.id }, "login succeeded");
    res.set("Cache-Control", "no-store").json(ctx.tokens.sign(editor.id));
  }));
  return r;
}

import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { audit } from "../audit/service.ts";
import { HttpError, unauthorized } from "../http/errors.ts";
import { route } from "../http/validate.ts";
import { normalizeEmail } from "../editors/service.ts";
import { createLoginLimiter } from "./login-limits.ts";
import { clientIp } from "./middleware.ts";
import { dummyHash, verifyPassword } from "./passwords.ts";
import { logout, openSession, rotate } from "./sessions.ts";

const loginBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(200),
});
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200) });

export function authRoutes(ctx: AppContext): Router {
  const r = Router();
  const { config } = ctx;
  const limiter = createLoginLimiter(ctx.prisma, ctx.tokens, config);
  r.post("/auth/login", route({ body: loginBody }, async ({ body }, req, res) => {
    const email = normalizeEmail(body.email);
    const ip = clientIp(req);
    const keys = limiter.keys(email, ip);
    const editor = await ctx.prisma.editor.findUnique({ where: { email } });
    const attempt = await limiter.begin(keys, await limiter.isKnownClient(editor?.id, keys.address)).catch((err: unknown) => {
      if (err instanceof HttpError && err.status === 429) {
        req.log.warn({ editorId: editor?.id, account: keys.account, ip }, "login rate-limited");
      }
      throw err;
    });
    // Verify against a dummy hash for unknown emails: same cost either way.
    const ok = await verifyPassword(body.password, editor?.passwordHash ?? (await dummyHash()));
    if (!editor || !ok || !editor.active) {
      // What was typed into the email field may be anything, a password
      // included: it is kept only when it is an editor's email (then it is
      // that stored, normalized address); otherwise only its keyed hash,
      // which groups repeated attempts without revealing them.
      await audit(ctx.prisma, {
        actorId: null, action: "auth.login-failed", targetType: editor ? "editor" : undefined,
        targetId: editor?.id, ip, email: editor?.email, details: editor ? undefined : { emailHash: keys.account },
      });
      req.log.info({ editorId: editor?.id, account: keys.account }, "login failed");
      throw unauthorized("Invalid email or password.");
    }
    const pair = await ctx.prisma.$transaction(async (tx) => {
      await attempt.succeeded(tx);
      const p = await openSession(tx, ctx.tokens, config, editor.id, { ip, userAgent: req.headers["user-agent"] });
      await audit(tx, { actorId: editor.id, action: "auth.login", targetType: "editor", targetId: editor.id, ip });
      return p;
    });
    req.log.info({ editorId: editor.id }, "login succeeded");
    res.json(pair);
  }));
  r.post("/auth/refresh", route({ body: refreshBody }, async ({ body }, req, res) => {
    res.json(await rotate(ctx.prisma, ctx.tokens, config, body.refreshToken, clientIp(req)));
  }));
  r.post("/auth/logout", route({ body: refreshBody }, async ({ body }, req, res) => {
    await logout(ctx.prisma, body.refreshToken, clientIp(req));
    res.status(204).end();
  }));
  return r;
}

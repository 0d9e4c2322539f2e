import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { audit } from "../audit/service.ts";
import { HttpError, unauthorized } from "../http/errors.ts";
import { route } from "../http/validate.ts";
import { retryAfterSeconds, windowStart } from "../http/rate-limit.ts";
import { normalizeEmail } from "../editors/service.ts";
import { clientIp } from "./middleware.ts";
import { dummyHash, verifyPassword } from "./passwords.ts";
import { logout, openSession, rotate } from "./sessions.ts";

const loginBody = z.strictObject({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(200),
});
const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(200) });

/** Failed logins are counted from the audit log (see http/rate-limit.ts). */
async function loginRetryAfter(
  prisma: PrismaClient,
  key: { email: string } | { ip: string },
  max: number,
  windowSeconds: number,
): Promise<number> {
  const where = { action: "auth.login-failed", createdAt: { gte: windowStart(windowSeconds) }, ...key };
  const recent = await prisma.auditLog.findMany({ where, orderBy: { createdAt: "desc" }, take: max, select: { createdAt: true } });
  return retryAfterSeconds(recent.map((r) => r.createdAt), max, windowSeconds);
}

export function authRoutes(ctx: AppContext): Router {
  const r = Router();
  const { config } = ctx;
  r.post("/auth/login", route({ body: loginBody }, async ({ body }, req, res) => {
    const email = normalizeEmail(body.email);
    const ip = clientIp(req) ?? "unknown";
    const [byAccount, byIp] = await Promise.all([
      loginRetryAfter(ctx.prisma, { email }, config.LOGIN_MAX_FAILURES_PER_ACCOUNT, config.LOGIN_WINDOW_SECONDS),
      loginRetryAfter(ctx.prisma, { ip }, config.LOGIN_MAX_FAILURES_PER_IP, config.LOGIN_WINDOW_SECONDS),
    ]);
    const wait = Math.max(byAccount, byIp);
    if (wait > 0) {
      req.log.warn({ email, ip }, "login rate-limited");
      throw new HttpError(429, "too-many-login-attempts",
        `Too many failed logins ${byAccount ? "for this account" : "from this address"}; try again in ${wait} seconds.`,
        undefined, { "Retry-After": String(wait) });
    }
    const editor = await ctx.prisma.editor.findUnique({ where: { email } });
    // Verify against a dummy hash for unknown emails: same cost either way.
    const ok = await verifyPassword(body.password, editor?.passwordHash ?? (await dummyHash()));
    if (!editor || !ok || !editor.active) {
      await audit(ctx.prisma, {
        actorId: null, action: "auth.login-failed", targetType: editor ? "editor" : undefined,
        targetId: editor?.id, ip, email,
      });
      req.log.info({ email }, "login failed");
      throw unauthorized("Invalid email or password.");
    }
    const pair = await ctx.prisma.$transaction(async (tx) => {
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

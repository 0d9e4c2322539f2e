import type { Request, RequestHandler } from "express";
import type { Role } from "../generated/prisma/client.ts";
import { forbidden, unauthorized } from "../http/errors.ts";
import type { AppContext } from "../context.ts";

/** The acting editor, as services receive it. */
export interface Actor {
  id: number;
  name: string;
  email: string;
  role: Role;
  sessionId: string;
  ip: string | null;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      editor?: Actor;
    }
  }
}

export const clientIp = (req: Request): string | null => req.ip ?? null;

/** Requires a valid bearer token of an active editor in an open session. */
export function authenticate(ctx: AppContext): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw unauthorized();
    const claims = ctx.tokens.verify(m[1]);
    if (!claims) throw unauthorized("The access token is invalid or expired.");
    // One indexed lookup per request (session joined to editor): logout,
    // password changes, deactivation and role changes apply to the very next
    // request, not when the token expires.
    const session = await ctx.prisma.session.findUnique({
      where: { id: claims.sessionId },
      select: {
        revokedAt: true,
        editor: { select: { id: true, name: true, email: true, role: true, active: true } },
      },
    });
    const editor = session?.editor;
    if (!session || session.revokedAt || !editor || editor.id !== claims.editorId || !editor.active) {
      throw unauthorized("The access token is invalid or expired.");
    }
    req.editor = {
      id: editor.id, name: editor.name, email: editor.email, role: editor.role,
      sessionId: claims.sessionId, ip: clientIp(req),
    };
    next();
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.editor) throw unauthorized();
    if (!roles.includes(req.editor.role)) throw forbidden(`This action requires the role ${roles.join(" or ")}.`);
    next();
  };
}

export const EDITOR_PLUS: Role[] = ["ADMIN", "EDITOR"];

import type { RequestHandler } from "express";
import type { Role } from "../generated/prisma/client.ts";
import { forbidden, unauthorized } from "../http/errors.ts";
import type { AppContext } from "../context.ts";

export interface AuthEditor {
  id: number;
  name: string;
  email: string;
  role: Role;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      editor?: AuthEditor;
    }
  }
}

/** Requires a valid bearer token of an active editor. */
export function authenticate(ctx: AppContext): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw unauthorized();
    const id = ctx.tokens.verify(m[1]);
    if (id === undefined) throw unauthorized("The access token is invalid or expired.");
    // One indexed lookup per request: a deactivated editor or a changed role
    // takes effect on the very next request, not when the token expires.
    const editor = await ctx.prisma.editor.findUnique({
      where: { id },
      select: { id: true, name: true, email: true, role: true, active: true },
    });
    if (!editor || !editor.active) throw unauthorized("The access token is invalid or expired.");
    req.editor = { id: editor.id, name: editor.name, email: editor.email, role: editor.role };
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
export const ANY_ROLE: Role[] = ["ADMIN", "EDITOR", "WRITER"];

// Sessions and refresh tokens. A login opens a session; its refresh tokens
// are opaque, stored only as SHA-256 hashes, and rotated on every use. A
// rotated token presented again means it was copied: the whole session is
// revoked (RFC 6819 5.2.2.3, "refresh token rotation").
import crypto from "node:crypto";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Config } from "../config.ts";
import { audit } from "../audit/service.ts";
import { unauthorized } from "../http/errors.ts";
import type { TokenService } from "./tokens.ts";

type Db = PrismaClient | Prisma.TransactionClient;

const hash = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

export interface TokenPair {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

async function mintRefresh(db: Db, sessionId: string, ttlSeconds: number): Promise<string> {
  const token = crypto.randomBytes(32).toString("base64url");
  await db.refreshToken.create({
    data: { sessionId, tokenHash: hash(token), expiresAt: new Date(Date.now() + ttlSeconds * 1000) },
  });
  return token;
}

export async function openSession(
  db: Db,
  tokens: TokenService,
  config: Pick<Config, "REFRESH_TTL_SECONDS">,
  editorId: number,
  meta: { ip?: string | null; userAgent?: string | null } = {},
): Promise<TokenPair> {
  const session = await db.session.create({
    data: { id: crypto.randomUUID(), editorId, ip: meta.ip ?? null, userAgent: meta.userAgent?.slice(0, 300) ?? null },
  });
  const refreshToken = await mintRefresh(db, session.id, config.REFRESH_TTL_SECONDS);
  return { ...tokens.sign(editorId, session.id), refreshToken, refreshExpiresIn: config.REFRESH_TTL_SECONDS };
}

const invalidRefresh = () => unauthorized("The refresh token is invalid, expired or revoked; log in again.");

export async function rotate(
  prisma: PrismaClient,
  tokens: TokenService,
  config: Pick<Config, "REFRESH_TTL_SECONDS">,
  refreshToken: string,
  ip: string | null,
): Promise<TokenPair> {
  const outcome = await prisma.$transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({
      where: { tokenHash: hash(refreshToken) },
      include: { session: { include: { editor: { select: { id: true, active: true } } } } },
    });
    if (!row || row.session.revokedAt || !row.session.editor.active) return { ok: false as const };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false as const };
    // Claim the token atomically: of two concurrent uses, one finds it used.
    const claimed = await tx.refreshToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count === 0) {
      await tx.session.update({ where: { id: row.sessionId }, data: { revokedAt: new Date(), revokedWhy: "reuse-detected" } });
      await audit(tx, {
        actorId: row.session.editorId, action: "auth.refresh-reuse", targetType: "editor",
        targetId: row.session.editorId, ip, details: { sessionId: row.sessionId },
      });
      return { ok: false as const };
    }
    const next = await mintRefresh(tx, row.sessionId, config.REFRESH_TTL_SECONDS);
    return {
      ok: true as const,
      pair: { ...tokens.sign(row.session.editorId, row.sessionId), refreshToken: next, refreshExpiresIn: config.REFRESH_TTL_SECONDS },
    };
  });
  // The reuse revocation above must commit, so the 401 is thrown out here.
  if (!outcome.ok) throw invalidRefresh();
  return outcome.pair;
}

/** Revokes the session a refresh token belongs to. Unknown tokens are ignored. */
export async function logout(prisma: PrismaClient, refreshToken: string, ip: string | null): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({ where: { tokenHash: hash(refreshToken) }, include: { session: true } });
    if (!row || row.session.revokedAt) return;
    await tx.session.update({ where: { id: row.sessionId }, data: { revokedAt: new Date(), revokedWhy: "logout" } });
    await audit(tx, { actorId: row.session.editorId, action: "auth.logout", targetType: "editor", targetId: row.session.editorId, ip });
  });
}

/** Revokes every open session of an editor, except `keep`. */
export async function revokeSessions(db: Db, editorId: number, why: string, keep?: string): Promise<number> {
  const { count } = await db.session.updateMany({
    where: { editorId, revokedAt: null, ...(keep ? { id: { not: keep } } : {}) },
    data: { revokedAt: new Date(), revokedWhy: why },
  });
  return count;
}

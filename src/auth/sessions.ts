// Sessions and refresh tokens. A login opens a session; its refresh tokens
// are opaque, stored only as SHA-256 hashes, and rotated on every use. A
// rotated token presented again means it was copied: the whole session is
// revoked (RFC 6819 5.2.2.3, "refresh token rotation").
//
// Except within REFRESH_REUSE_GRACE_SECONDS of its rotation, while its
// successor is still unused: two tabs refreshing with the same token at once
// both get the same new pair. A token cannot be recovered from its hash, so
// the used row keeps its successor sealed (AES-256-GCM under a key derived
// from the JWT secret, bound to the used token's hash). A database dump alone
// reveals no usable token; whoever also holds the JWT secret can mint access
// tokens anyway, so the sealed copy adds nothing for them. It is wiped when
// the session is revoked for reuse.
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
  config: Pick<Config, "REFRESH_TTL_SECONDS" | "REFRESH_REUSE_GRACE_SECONDS">,
  refreshToken: string,
  ip: string | null,
): Promise<TokenPair> {
  const tokenHash = hash(refreshToken);
  const outcome = await prisma.$transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({
      where: { tokenHash },
      include: { session: { include: { editor: { select: { id: true, active: true } } } } },
    });
    if (!row || row.session.revokedAt || !row.session.editor.active) return { ok: false as const };
    if (row.expiresAt.getTime() <= Date.now()) return { ok: false as const };
    const pair = (next: string): TokenPair => ({
      ...tokens.sign(row.session.editorId, row.sessionId), refreshToken: next, refreshExpiresIn: config.REFRESH_TTL_SECONDS,
    });
    // Claim the token atomically: of two concurrent uses, one waits for the
    // other's commit and then finds it used.
    const claimed = await tx.refreshToken.updateMany({ where: { id: row.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count === 1) {
      const next = await mintRefresh(tx, row.sessionId, config.REFRESH_TTL_SECONDS);
      await tx.refreshToken.update({ where: { id: row.id }, data: { successor: tokens.seal("refresh-successor", next, tokenHash) } });
      return { ok: true as const, pair: pair(next) };
    }
    // Re-read: the claim above may have waited for the rotation that used it.
    const used = await tx.refreshToken.findUniqueOrThrow({ where: { id: row.id } });
    const inGrace = used.usedAt && Date.now() - used.usedAt.getTime() <= config.REFRESH_REUSE_GRACE_SECONDS * 1000;
    const next = inGrace && used.successor ? tokens.unseal("refresh-successor", used.successor, tokenHash) : undefined;
    if (next) {
      const successor = await tx.refreshToken.findUnique({ where: { tokenHash: hash(next) } });
      if (successor && !successor.usedAt && successor.sessionId === row.sessionId) return { ok: true as const, pair: pair(next) };
    }
    const revoked = await tx.session.updateMany({
      where: { id: row.sessionId, revokedAt: null },
      data: { revokedAt: new Date(), revokedWhy: "reuse-detected" },
    });
    await tx.refreshToken.updateMany({ where: { sessionId: row.sessionId, successor: { not: null } }, data: { successor: null } });
    if (revoked.count === 1) {
      await audit(tx, {
        actorId: row.session.editorId, action: "auth.refresh-reuse", targetType: "editor",
        targetId: row.session.editorId, ip, details: { sessionId: row.sessionId },
      });
    }
    return { ok: false as const };
  });
  // The reuse revocation above must commit, so the 401 is thrown out here.
  if (!outcome.ok) throw invalidRefresh();
  return outcome.pair;
}

/** Revokes the session a refresh token belongs to. Unknown tokens are ignored. */
export async function logout(prisma: PrismaClient, refreshToken: string, ip: string | null): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const row = await tx.refreshToken.findUnique({ where: { tokenHash: hash(refreshToken) }, include: { session: true } });
    if (!row) return;
    // Conditional on still being open, so two concurrent logouts record one.
    const { count } = await tx.session.updateMany({
      where: { id: row.sessionId, revokedAt: null },
      data: { revokedAt: new Date(), revokedWhy: "logout" },
    });
    if (count === 1) {
      await audit(tx, { actorId: row.session.editorId, action: "auth.logout", targetType: "editor", targetId: row.session.editorId, ip });
    }
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

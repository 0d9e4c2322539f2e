// Access tokens: HS256 JWTs, algorithm pinned on verify, issuer and audience
// checked, short-lived, naming the session (`sid`) they were minted for. The
// editor and session are re-read on every request (see middleware.ts), so
// deactivation, role changes, logout and password changes apply at once.
// Preview tokens use the same secret with their own audience, so neither kind
// is accepted in place of the other.
import jwt from "jsonwebtoken";
import type { Config } from "../config.ts";

type TokenConfig = Pick<Config, "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_TTL_SECONDS" | "PREVIEW_TTL_SECONDS">;

export interface TokenService {
  sign(editorId: number, sessionId: string): { accessToken: string; tokenType: "Bearer"; expiresIn: number };
  /** The editor and session ids, or undefined for any invalid token. */
  verify(token: string): { editorId: number; sessionId: string } | undefined;
  signPreview(articleId: number): { token: string; expiresAt: Date };
  /** The article id, or undefined for any invalid or expired preview token. */
  verifyPreview(token: string): number | undefined;
}

export function createTokenService(cfg: TokenConfig, secret: string): TokenService {
  const previewAudience = `${cfg.JWT_AUDIENCE}-preview`;
  const verifySubject = (token: string, audience: string) => {
    try {
      const payload = jwt.verify(token, secret, { algorithms: ["HS256"], issuer: cfg.JWT_ISSUER, audience });
      if (typeof payload === "string" || !payload.sub || !/^\d{1,10}$/.test(payload.sub)) return undefined;
      return payload;
    } catch {
      return undefined;
    }
  };
  return {
    sign(editorId, sessionId) {
      const accessToken = jwt.sign({ sid: sessionId }, secret, {
        algorithm: "HS256",
        subject: String(editorId),
        issuer: cfg.JWT_ISSUER,
        audience: cfg.JWT_AUDIENCE,
        expiresIn: cfg.JWT_TTL_SECONDS,
      });
      return { accessToken, tokenType: "Bearer", expiresIn: cfg.JWT_TTL_SECONDS };
    },
    verify(token) {
      const payload = verifySubject(token, cfg.JWT_AUDIENCE);
      if (!payload || typeof payload.sid !== "string") return undefined;
      return { editorId: Number(payload.sub), sessionId: payload.sid };
    },
    signPreview(articleId) {
      const token = jwt.sign({}, secret, {
        algorithm: "HS256",
        subject: String(articleId),
        issuer: cfg.JWT_ISSUER,
        audience: previewAudience,
        expiresIn: cfg.PREVIEW_TTL_SECONDS,
      });
      return { token, expiresAt: new Date((jwt.decode(token) as { exp: number }).exp * 1000) };
    },
    verifyPreview(token) {
      const payload = verifySubject(token, previewAudience);
      return payload ? Number(payload.sub) : undefined;
    },
  };
}

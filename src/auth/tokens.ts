// Access tokens: HS256 JWTs, algorithm pinned on verify, issuer and audience
// checked, short-lived, naming the session (`sid`) they were minted for. The
// editor and session are re-read on every request (see middleware.ts), so
// deactivation, role changes, logout and password changes apply at once.
// Preview tokens use the same secret with their own audience, so neither kind
// is accepted in place of the other. The server's other keys (keyed hashes,
// sealed values) are derived from the same secret, one per purpose.
import crypto from "node:crypto";
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
  /**
   * A keyed hash (HMAC-SHA256, base64url) of `value`, one key per `purpose`:
   * lets the server recognise a value again without storing it.
   */
  keyedHash(purpose: string, value: string): string;
  /** Encrypts `plain` (AES-256-GCM), bound to `context`: it opens only with the same context. */
  seal(purpose: string, plain: string, context: string): string;
  /** The sealed value, or undefined if it was tampered with or sealed for another context. */
  unseal(purpose: string, sealed: string, context: string): string | undefined;
}

export function createTokenService(cfg: TokenConfig, secret: string): TokenService {
  const previewAudience = `${cfg.JWT_AUDIENCE}-preview`;
  // Every other use of the secret gets its own derived key (HKDF), so no
  // value computed for one purpose is valid for another or for JWT signing.
  const keys = new Map<string, Buffer>();
  const keyFor = (purpose: string) => {
    let key = keys.get(purpose);
    if (!key) keys.set(purpose, (key = Buffer.from(crypto.hkdfSync("sha256", secret, "", `dateline:${purpose}`, 32))));
    return key;
  };
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
    keyedHash(purpose, value) {
      return crypto.createHmac("sha256", keyFor(`hash:${purpose}`)).update(value).digest("base64url");
    },
    seal(purpose, plain, context) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv("aes-256-gcm", keyFor(`seal:${purpose}`), iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    unseal(purpose, sealed, context) {
      const raw = Buffer.from(sealed, "base64url");
      if (raw.length < 28) return undefined;
      try {
        const decipher = crypto.createDecipheriv("aes-256-gcm", keyFor(`seal:${purpose}`), raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      } catch {
        return undefined;
      }
    },
  };
}

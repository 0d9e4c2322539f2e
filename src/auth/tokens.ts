// Access tokens: HS256 JWTs, algorithm pinned on verify, issuer and audience
// checked, short-lived. The editor is re-read on every request (see
// middleware.ts), so deactivation and role changes apply at once.
import jwt from "jsonwebtoken";
import type { Config } from "../config.ts";

export interface TokenService {
  sign(editorId: number): { accessToken: string; tokenType: "Bearer"; expiresIn: number };
  /** Returns the editor id, or undefined for any invalid token. */
  verify(token: string): number | undefined;
}

export function createTokenService(cfg: Pick<Config, "JWT_ISSUER" | "JWT_AUDIENCE" | "JWT_TTL_SECONDS">, secret: string): TokenService {
  return {
    sign(editorId) {
      const accessToken = jwt.sign({}, secret, {
        algorithm: "HS256",
        subject: String(editorId),
        issuer: cfg.JWT_ISSUER,
        audience: cfg.JWT_AUDIENCE,
        expiresIn: cfg.JWT_TTL_SECONDS,
      });
      return { accessToken, tokenType: "Bearer", expiresIn: cfg.JWT_TTL_SECONDS };
    },
    verify(token) {
      try {
        const payload = jwt.verify(token, secret, {
          algorithms: ["HS256"],
          issuer: cfg.JWT_ISSUER,
          audience: cfg.JWT_AUDIENCE,
        });
        if (typeof payload === "string" || !payload.sub || !/^\d+$/.test(payload.sub)) return undefined;
        return Number(payload.sub);
      } catch {
        return undefined;
      }
    },
  };
}

import crypto from "node:crypto";

/**
 * A keyed hash of the client address and User-Agent: enough to recognise a
 * repeat visitor for rate limits and de-duplication, useless to anyone who
 * reads the database without the key.
 */
export function clientHasher(secret: string) {
  const key = crypto.createHash("sha256").update(`client-hash:${secret}`).digest();
  return (ip: string | null, userAgent: string | undefined) =>
    crypto.createHmac("sha256", key).update(`${ip ?? "?"}\n${userAgent ?? ""}`).digest("base64url").slice(0, 32);
}

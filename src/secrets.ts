import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "./config.ts";

/**
 * JWT_SECRET, or in development a random secret generated once per data
 * directory and kept there, so tokens survive restarts. Production refuses to
 * start without JWT_SECRET (see config.ts).
 */
export function jwtSecret(config: Config, logger: Logger): string {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  const file = path.join(config.DATA_DIR, "jwt-secret");
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  if (!fs.existsSync(file)) {
    // Written aside and linked into place: link fails if the file exists, so
    // two instances starting at once on one DATA_DIR agree on one secret, and
    // neither can read the other's half-written file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, crypto.randomBytes(48).toString("base64url"), { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      fs.unlinkSync(tmp);
    }
  }
  logger.warn({ file }, "JWT_SECRET is not set; using a generated development secret");
  return fs.readFileSync(file, "utf8").trim();
}

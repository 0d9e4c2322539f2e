// Process entry point: config, database, migrations, first admin, demo
// content, then listen. SIGTERM/SIGINT stop accepting, let in-flight requests
// finish, close the database and exit 0.
import fs from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.ts";
import { createApp } from "./app.ts";
import { createTokenService } from "./auth/tokens.ts";
import { Scheduler } from "./articles/scheduler.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { ensureAdmin } from "./seed/admin.ts";
import { seedDemo } from "./seed/demo.ts";
import { jwtSecret } from "./secrets.ts";
import { localDiskStorage } from "./media/storage.ts";
import { createViewCounter } from "./views/counter.ts";
import { bodySanitizerOptions, createBodySanitizer } from "./articles/sanitize-pool.ts";
import { clientHasher } from "./http/client-hash.ts";

/** Reads ./.env if present; variables already in the environment win. */
function loadDotEnv() {
  if (!fs.existsSync(".env")) return;
  for (const [k, v] of Object.entries(parseEnv(fs.readFileSync(".env", "utf8")))) {
    if (process.env[k] === undefined) process.env[k] = v;
  }
}

async function main() {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = pino({
    level: config.LOG_LEVEL,
    redact: ["req.headers.authorization", "req.headers.cookie", "password", "*.password"],
  });
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: path.join(config.DATA_DIR, "pglite"),
    poolSize: config.DATABASE_POOL_SIZE,
  });
  logger.info({ database: db.kind }, "database opened");
  await migrate(db, (msg) => logger.info(msg));
  await ensureAdmin(db.prisma, config, logger);
  const media = localDiskStorage(path.join(config.DATA_DIR, "media"));
  if (config.SEED_DEMO) {
    if (await seedDemo(db.prisma, media)) logger.info("seeded demo content into the empty database");
  }
  const secret = jwtSecret(config, logger);
  const tokens = createTokenService(config, secret);
  const views = createViewCounter(db.prisma, logger, {
    flushIntervalMs: config.VIEW_FLUSH_INTERVAL_MS,
    dedupSeconds: config.VIEW_DEDUP_SECONDS,
    rateMaxPerMinute: config.VIEW_RATE_MAX_PER_MINUTE,
    maxPerNetworkPerArticle: config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE,
  });
  views.start();
  const sanitizer = createBodySanitizer(bodySanitizerOptions(config));
  const app = createApp({ config, db, prisma: db.prisma, tokens, logger, media, views, sanitizer, hashClient: clientHasher(secret) });
  const scheduler = new Scheduler(db.prisma, logger, {
    intervalMs: config.SCHEDULER_INTERVAL_MS,
    trashRetentionDays: config.TRASH_RETENTION_DAYS,
  });
  if (config.SCHEDULER_ENABLED) scheduler.start();
  const server = app.listen(config.PORT, config.HOST, () => {
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : config.PORT;
    logger.info({ port }, `Dateline listening on http://localhost:${port} (docs at /docs)`);
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("in-flight requests did not finish in time; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    server.close(async () => {
      await scheduler.stop();
      // Accepted views are written before the database closes.
      await views.stop();
      // Its worker threads would otherwise keep the process alive.
      await sanitizer.close();
      await db.close();
      logger.info("stopped");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err) => {
  process.stderr.write(`Dateline failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

// Process entry point. Start-up, in order, each step refusing with one line
// that names what to fix: configuration (before anything is touched) -> the
// PGlite data-directory lock -> a database connection -> under one advisory
// lock, so instances starting together on an empty database take turns: the
// first-ADMIN check, migrations, the first ADMIN, demo content -> listen (a
// port in use exits 1). SIGTERM/SIGINT drain connections (http/drain.ts),
// write buffered views, close the database and exit 0.
import { fork } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { pino, type Logger } from "pino";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createApp, endStreams, stopApp } from "./app.ts";
import { createTokenService } from "./auth/tokens.ts";
import { Scheduler } from "./articles/scheduler.ts";
import { openDatabase, type Database, type OpenOptions } from "./db/client.ts";
import { DATA_DIR_LOCK_HELD_ENV, DataDirLockedError, lockDataDir, type DataDirLock } from "./db/lock.ts";
import { applyMigrations, withBootstrapLock } from "./db/migrate.ts";
import { adminBootstrapProblem, ensureAdmin } from "./seed/admin.ts";
import { DEMO_DESK_PASSWORD, seedDemo } from "./seed/demo.ts";
import { DEMO } from "./seed/demo-content.ts";
import { backfill, backfillDue, startRecommendationRefresh, type RefreshTimer } from "./delivery/read-model.ts";
import { backfillSearch } from "./search/index.ts";
import { jwtSecret } from "./secrets.ts";
import type { MediaStorage } from "./media/storage.ts";
import { mediaStorageFromConfig } from "./media/from-config.ts";
import { createViewCounter } from "./views/counter.ts";
import { createEventBus, type EventBus } from "./events/bus.ts";
import { createReplicaReads } from "./db/replicas.ts";
import { createWebhookRuntime, dropWebhookPosition } from "./distribution/webhooks/service.ts";
import { createPurgeService } from "./distribution/purge/service.ts";
import { bodySanitizerOptions, createBodySanitizer } from "./articles/sanitize-pool.ts";
import { clientHasher } from "./http/client-hash.ts";
import { drainable } from "./http/drain.ts";
import { startMetricsServer, type MetricsServer } from "./observability/http.ts";
import { registerHealthGauge } from "./observability/metrics.ts";
import { createSharedState } from "./shared-state/index.ts";
import { watchInstances, type InstanceWatch } from "./shared-state/instances.ts";

/** A start-up failure the operator can fix: printed as one line, without a stack trace. */
class StartupError extends Error {}

/** Reads ./.env if present; variables already in the environment win. */
function loadDotEnv() {
  if (!fs.existsSync(".env")) return;
  for (const [k, v] of Object.entries(parseEnv(fs.readFileSync(".env", "utf8")))) {
    if (process.env[k] === undefined) process.env[k] = v;
  }
}

function databaseOptions(config: Config): OpenOptions {
  return {
    url: config.DATABASE_URL,
    dataDir: path.join(config.DATA_DIR, "pglite"),
    poolSize: config.DATABASE_POOL_SIZE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_TX_TIMEOUT_MS,
  };
}

/** DATABASE_URL as it may be printed: the password masked. */
function printableUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "****";
  return u.toString();
}

// What a failed PostgreSQL connection most likely means, by error code.
const CONNECT_HINTS: Record<string, string> = {
  ECONNREFUSED: "nothing accepts connections there; is PostgreSQL running, and are the host and port right?",
  ENOTFOUND: "the host name does not resolve; check the host",
  EAI_AGAIN: "the host name could not be resolved now; check the host and DNS",
  ETIMEDOUT: "no answer from the host; check the host, the port and any firewall",
  EHOSTUNREACH: "the host is unreachable; check the host and the network",
  ENETUNREACH: "the network is unreachable; check the host and the network",
  "28P01": "the password was refused; check the user and password (special characters percent-encoded)",
  "28000": "the server refused this user or client address (pg_hba.conf); check the user",
  "3D000": "that database does not exist; create it or fix its name",
  "42501": "the user lacks a privilege needed here (e.g. CREATE on the schema)",
  "57P03": "the server is starting up or shutting down; try again shortly",
};

function connectProblem(err: unknown, config: Config): string {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  // Node reports a refused "localhost" (IPv6 and IPv4 both tried) as an AggregateError.
  const code = e.code ?? e.errors?.find((x) => x.code)?.code;
  const hint =
    (code && CONNECT_HINTS[code]) ??
    (/timeout/i.test(e.message ?? "")
      ? `no answer within DATABASE_CONNECT_TIMEOUT_MS (${config.DATABASE_CONNECT_TIMEOUT_MS} ms); check the host, the port and any firewall`
      : /terminated/i.test(e.message ?? "")
        ? "the connection was closed before the server answered; check the host, the port, any firewall, and whether the server requires SSL (sslmode)"
        : "check DATABASE_URL");
  const detail = code ?? e.message ?? String(err);
  return `cannot connect to the database at DATABASE_URL=${printableUrl(config.DATABASE_URL!)}: ${hint} (${detail})`;
}

/** The replicas' pools are the primary's, with its schema, and a connect timeout of at most 2 s: a replica that cannot connect is taken out rather than waited for. */
function openReplicas(config: Config, primary: Database, secret: string, logger: Logger, events: EventBus) {
  const opts = databaseOptions(config);
  return createReplicaReads({
    primary, urls: config.DATABASE_REPLICA_URLS, secret, logger, events,
    probeIntervalMs: config.DATABASE_REPLICA_PROBE_INTERVAL_MS,
    open: {
      schema: new URL(config.DATABASE_URL!).searchParams.get("schema") || undefined,
      poolSize: opts.poolSize,
      connectTimeoutMs: Math.min(opts.connectTimeoutMs!, 2000),
      statementTimeoutMs: opts.statementTimeoutMs,
      idleInTransactionTimeoutMs: opts.idleInTransactionTimeoutMs,
    },
  });
}

/** Opens the database and proves it answers, or throws a StartupError naming the variable to fix. */
async function openChecked(config: Config): Promise<Database> {
  const opts = databaseOptions(config);
  let db: Database | undefined;
  try {
    db = await openDatabase(opts);
    await db.withConnection((c) => c.query("SELECT 1"));
    return db;
  } catch (err) {
    await db?.close().catch(() => {});
    if (config.DATABASE_URL) throw new StartupError(connectProblem(err, config));
    throw new StartupError(
      `cannot open the embedded database in ${path.resolve(opts.dataDir!)} (DATA_DIR=${config.DATA_DIR}): ` +
        `${(err as Error).message ?? String(err)}. If it is damaged, restore it from a backup or move it aside to start empty.`,
    );
  }
}

/**
 * Rows of the read model for articles that have none (content from before
 * it existed, or loaded without events). When there are many
 * (READ_MODEL_CHILD_MIN_ROWS), a child process builds them and renders their
 * JSON (`read-model:rebuild --missing`), so the server's heap does not keep
 * what building them grew it to. On PostgreSQL here, under the start-up lock;
 * PGlite is one process per data directory, so there it returns true and the
 * caller runs the child with the database closed (buildReadModelInChild).
 */
async function buildReadModel(db: Database, config: Config, logger: Logger): Promise<boolean> {
  const due = await backfillDue(db.prisma);
  const missing = due.missing.length + due.stale.length;
  if (missing < config.READ_MODEL_CHILD_MIN_ROWS) {
    await backfill(db.prisma, logger, db.kind === "postgresql" ? Math.min(4, config.DATABASE_POOL_SIZE) : 1, due);
    return false;
  }
  logger.info({ articles: missing }, "read model: building the missing rows in a child process");
  if (db.kind === "pglite") return true;
  await buildReadModelInChild({});
  return false;
}

async function buildReadModelInChild(env: NodeJS.ProcessEnv): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const cli = path.join(path.dirname(self), "delivery", `rebuild-cli${path.extname(self)}`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = fork(cli, ["--missing"], { execArgv: process.execArgv, env: { ...process.env, ...env }, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (c) => resolve(c));
  });
  if (code !== 0) throw new StartupError(`building the read model failed (${cli} --missing exited with ${code})`);
}

/** First-start work, one instance at a time: see withBootstrapLock. */
/** Resolves to true when the read model still has to be built by a child process with the (PGlite) database closed. */
async function bootstrap(config: Config, db: Database, media: MediaStorage, logger: Logger): Promise<boolean> {
  let childBuild = false;
  // On PostgreSQL the lock is held on a connection of its own, so the work
  // inside can use the whole pool (even a pool of one). PGlite is one
  // connection shared by everything: it holds the lock itself.
  const lockDb = db.kind === "postgresql" ? await openDatabase({ ...databaseOptions(config), poolSize: 1 }) : db;
  try {
    await withBootstrapLock(lockDb, async (conn) => {
      // Before migrating: a production start that cannot create its first
      // ADMIN leaves an empty database empty.
      const problem = await adminBootstrapProblem(conn, config);
      if (problem) throw new StartupError(problem);
      await applyMigrations(conn, (msg) => logger.info(msg));
      await ensureAdmin(db.prisma, config, logger);
      const deskPassword = config.NODE_ENV === "production" ? undefined : DEMO_DESK_PASSWORD;
      if (config.SEED_DEMO && (await seedDemo(db.prisma, media, { deskPassword }))) {
        logger.info("seeded demo content into the empty database");
        if (deskPassword) {
          logger.warn({ editors: DEMO.editors.map((e) => e.email), password: deskPassword },
            "the demo desk editors sign in with the documented demo password (development only): do not expose this instance");
        }
      }
      // Articles published before the read model existed, or written without an event.
      childBuild = await buildReadModel(db, config, logger);
      // Search rows for articles written without events (demo, bench corpus) or indexed under another SITE_LANGUAGE.
      await backfillSearch(db.prisma, config.SITE_LANGUAGE, logger, db.kind === "postgresql" ? Math.min(4, config.DATABASE_POOL_SIZE) : 1);
    });
  } finally {
    if (lockDb !== db) await lockDb.close();
  }
  return childBuild;
}

function listen(server: http.Server, config: Config): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const where = `PORT=${config.PORT} HOST=${config.HOST}`;
      const why: Record<string, string> = {
        EADDRINUSE: "the port is already in use by another process; stop it or choose another PORT",
        EACCES: "not allowed to listen on this port (below 1024 needs privileges); choose another PORT",
        EADDRNOTAVAIL: "HOST is not an address of this machine; use 0.0.0.0 or one of its addresses",
        ENOTFOUND: "HOST does not resolve; use 0.0.0.0 or one of this machine's addresses",
      };
      reject(new StartupError(`cannot listen on ${where}: ${why[err.code ?? ""] ?? err.message} (${err.code ?? "error"})`));
    };
    server.once("error", failed);
    server.listen(config.PORT, config.HOST, () => {
      server.off("error", failed);
      resolve();
    });
  });
}

async function main() {
  loadDotEnv();
  let config: Config;
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

  // Before PGlite opens the directory: a second process on it would corrupt it.
  let lock: DataDirLock | undefined;
  if (!config.DATABASE_URL) {
    try {
      lock = lockDataDir(path.join(config.DATA_DIR, "pglite"));
    } catch (err) {
      if (err instanceof DataDirLockedError) throw new StartupError(`DATA_DIR=${config.DATA_DIR}: ${err.message}`);
      throw err;
    }
    if (lock.tookOverFrom) {
      logger.warn({ stalePid: lock.tookOverFrom, file: lock.file }, "took over the data-directory lock of a process that is gone");
    }
  }

  let db = await openChecked(config);
  logger.info({ database: db.kind }, "database opened");
  // MEDIA_STORAGE: the local disk, or an S3-compatible bucket every instance shares.
  const media = mediaStorageFromConfig(config, path.join(config.DATA_DIR, "media"));
  try {
    if (await bootstrap(config, db, media, logger)) {
      // PGlite: the child opens the data directory while this process, which holds its lock, has it closed.
      await db.close();
      await buildReadModelInChild({ [DATA_DIR_LOCK_HELD_ENV]: "1" });
      db = await openChecked(config);
    }
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  const secret = jwtSecret(config, logger);
  const tokens = createTokenService(config, secret);
  // Redis when REDIS_URL is set (README "Running several instances"); start-up does not wait for it.
  const shared = createSharedState(config, logger);
  const beaconLimits = {
    dedupSeconds: config.VIEW_DEDUP_SECONDS,
    rateMaxPerMinute: config.VIEW_RATE_MAX_PER_MINUTE,
    maxPerNetworkPerArticle: config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE,
  };
  const views = createViewCounter(db.prisma, logger, {
    flushIntervalMs: config.VIEW_FLUSH_INTERVAL_MS,
    ...beaconLimits,
    gate: shared.kind === "redis" ? shared.beaconGate(beaconLimits) : undefined,
  });
  const sanitizer = createBodySanitizer(bodySanitizerOptions(config));
  const events = createEventBus(db, logger, { pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS });
  // Read replicas for the public reads (README "Read replicas"); without them the primary serves them.
  const reads = config.DATABASE_REPLICA_URLS.length ? await openReplicas(config, db, secret, logger, events) : undefined;
  // CDN purge: a durable consumer of the events (README "Purging"); PURGE_PROVIDER=none starts nothing.
  const purge = createPurgeService(db.prisma, logger, config);
  // Webhooks: the "webhooks" consumer queues deliveries, the dispatcher sends them (README "Webhooks").
  const webhooks = config.WEBHOOKS_ENABLED ? createWebhookRuntime(db.prisma, logger, config) : undefined;
  const app = createApp({ config, db, prisma: db.prisma, tokens, logger, media, views, sanitizer, events, hashClient: clientHasher(secret), reads });
  const scheduler = new Scheduler(db.prisma, logger, {
    intervalMs: config.SCHEDULER_INTERVAL_MS,
    trashRetentionDays: config.TRASH_RETENTION_DAYS,
    eventRetentionDays: config.EVENTS_RETENTION_DAYS,
  });

  const server = http.createServer(
    {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      // Node checks both only this often (default 30 s).
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.HTTP_HEADERS_TIMEOUT_MS / 2)),
    },
    app,
  );
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  const connections = drainable(server);

  /** Everything after the last request, in order; also after a failed listen. */
  let refresh: RefreshTimer | undefined;
  let metricsServer: MetricsServer | undefined;
  let instances: InstanceWatch | undefined;
  const release = async () => {
    await metricsServer?.close();
    instances?.stop();
    await scheduler.stop();
    await refresh?.stop();
    await stopApp(app);
    await webhooks?.stop();
    await purge.stop();
    await events.stop();
    // Accepted views are written before the database closes, whatever happened before.
    await views.stop();
    await shared.close();
    // Its worker threads would otherwise keep the process alive.
    await sanitizer.close();
    await media.close?.();
    await reads?.close();
    await db.close();
    lock?.release();
  };

  try {
    await listen(server, config);
    // METRICS_PORT: /metrics on a port of its own (README "Metrics").
    if (config.METRICS_PORT !== undefined) {
      const where = `METRICS_PORT=${config.METRICS_PORT} METRICS_HOST=${config.METRICS_HOST ?? config.HOST}`;
      metricsServer = await startMetricsServer(
        { port: config.METRICS_PORT, host: config.METRICS_HOST ?? config.HOST, token: config.METRICS_TOKEN }, logger,
      ).catch((err: NodeJS.ErrnoException) => {
        throw new StartupError(`cannot listen on ${where}: ${err.message} (${err.code ?? "error"})`);
      });
    }
  } catch (err) {
    await release().catch(() => {});
    throw err;
  }
  // dateline_dependency_up{dependency="redis"} (README "Metrics").
  if (shared.kind === "redis") registerHealthGauge("redis", () => shared.health().connected);
  views.start();
  await events.start();
  // After the bus: its LISTEN connection is how instances see each other.
  instances = watchInstances(db, config.DATABASE_URL, shared, logger);
  if (webhooks) await webhooks.start(events);
  else await dropWebhookPosition(db.prisma);
  await purge.start(events);
  if (config.SCHEDULER_ENABLED) scheduler.start();
  refresh = startRecommendationRefresh(db.prisma, logger, {
    intervalMs: config.READ_MODEL_REFRESH_INTERVAL_MS, batch: config.READ_MODEL_REFRESH_BATCH,
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.PORT;
  logger.info({ port }, `Dateline listening on http://localhost:${port} (docs at /docs)`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, connections: connections.open }, "shutting down");
    // Live entry streams never finish by themselves: end them so the drain is not held up.
    endStreams(app);
    const drained = await connections.drain(config.SHUTDOWN_TIMEOUT_MS);
    if (!drained) {
      logger.error({ connections: connections.open }, "requests still in flight after SHUTDOWN_TIMEOUT_MS; closing their connections");
      connections.closeAll();
    }
    // A database that no longer answers must not keep the process from exiting.
    setTimeout(() => {
      logger.error("closing the database took longer than SHUTDOWN_TIMEOUT_MS; exiting");
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    try {
      await release();
    } catch (err) {
      logger.error({ err }, "error while stopping");
      process.exit(1);
    }
    logger.info("stopped");
    process.exit(drained ? 0 : 1);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  const text = err instanceof StartupError ? err.message : err instanceof Error ? err.stack : String(err);
  process.stderr.write(`Dateline failed to start: ${text}\n`);
  process.exit(1);
});

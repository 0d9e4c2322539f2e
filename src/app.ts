// Builds the Express app from its dependencies; src/server.ts listens.
// Request path: helmet -> request id + log -> CORS -> JSON body -> router
// (auth -> role -> Zod parse -> service -> mapper) -> problem+json errors.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import cors from "cors";
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import { pinoHttp } from "pino-http";
import swaggerUi from "swagger-ui-express";
import YAML from "yaml";
import type { AppContext } from "./context.ts";
import { authenticate } from "./auth/middleware.ts";
import { authRoutes } from "./auth/routes.ts";
import { adminArticleRoutes, publicArticleRoutes } from "./articles/routes.ts";
import { adminLockRoutes } from "./articles/lock-routes.ts";
import { adminWithdrawalRoutes } from "./articles/withdrawal-routes.ts";
import { adminLiveRoutes, publicLiveRoutes } from "./live/routes.ts";
import { adminCommentRoutes, publicCommentRoutes } from "./comments/routes.ts";
import { adminEditorRoutes } from "./editors/routes.ts";
import { adminCorrectionRoutes, publicCorrectionRoutes } from "./corrections/routes.ts";
import { adminAuthorRoutes, publicAuthorRoutes } from "./authors/routes.ts";
import { adminSectionRoutes, publicSectionRoutes } from "./sections/routes.ts";
import { adminAuditRoutes } from "./audit/routes.ts";
import { adminEventRoutes } from "./events/routes.ts";
import { adminPurgeRoutes } from "./distribution/purge/routes.ts";
import { adminWebhookRoutes } from "./distribution/webhooks/routes.ts";
import { adminMediaRoutes } from "./media/routes.ts";
import { viewRoutes } from "./views/routes.ts";
import { adminCollectionRoutes } from "./collections/routes.ts";
import { adminFrontRoutes } from "./fronts/routes.ts";
import { adminWireRoutes, publicWireRoutes } from "./wire/routes.ts";
import { DESK_PATH, deskRedirect, deskRoutes } from "./desk/routes.ts";
import { articleMissLoader, deliveryRoutes } from "./delivery/routes.ts";
import { discoveryRoutes } from "./delivery/discovery-routes.ts";
import { LiveSectionTree } from "./delivery/section-tree.ts";
import { createArticleRenderer } from "./delivery/rendered.ts";
import { publicView } from "./articles/presentation.ts";
import { pendingMigrations } from "./db/migrate.ts";
import { REPO_ROOT } from "./paths.ts";
import { DATABASE_RETRY_AFTER_SECONDS, HttpError, errorHandler, notFoundHandler } from "./http/errors.ts";
import { inputHygiene } from "./http/input-hygiene.ts";
import { redactUrl } from "./http/redact.ts";
import { statementTiming } from "./http/statement-timing.ts";
import { createResponseCache, pollAfterWrite } from "./delivery/response-cache.ts";
import { publicReads } from "./db/replicas.ts";
import { httpMetrics, METRICS_PATH, metricsHandler, metricsOnMainPort } from "./observability/http.ts";
import { observeHttp, registerCacheStats } from "./observability/metrics.ts";
import { registerDatabaseMetrics } from "./observability/collectors.ts";

interface AppLocals {
  stop?: () => Promise<void>;
  endStreams?: () => void;
}

/**
 * Ends the open event streams (live entries' Server-Sent Events): a stop
 * calls it before draining, since a stream is a request that never ends on
 * its own. Their EventSource clients reconnect, to another instance.
 */
export function endStreams(app: express.Express): void {
  (app.locals as AppLocals).endStreams?.();
}

/** Stops what createApp started in the background (the article renderer); the caller closes the database after. */
export async function stopApp(app: express.Express): Promise<void> {
  await (app.locals as AppLocals).stop?.();
}

export const OPENAPI_PATH = path.join(REPO_ROOT, "openapi.yaml");

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Rejects when `p` has not settled after `ms`; `p` itself is left to finish. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  // The loser's rejection is handled, never "unhandled".
  p.catch(() => {});
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createApp(ctx: AppContext): express.Express {
  const { config } = ctx;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.TRUST_PROXY);
  app.set("query parser", "simple");
  const requestId = (req: express.Request) => {
    const incoming = req.headers["x-request-id"];
    return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  };
  const anyPublicOrigin = config.CORS_PUBLIC_ORIGINS.includes("*");
  // The section tree and the renderer of stored article JSON (delivery side).
  const sections = new LiveSectionTree(ctx.prisma, ctx.events);
  const renderer = createArticleRenderer({ db: ctx.db, events: ctx.events, logger: ctx.logger, sections, view: publicView(config) });
  // Open Server-Sent Events streams end when the app stops (set below, with the public routes).
  let liveStreams: { close(): void } | undefined;
  (app.locals as AppLocals).stop = () => {
    liveStreams?.close();
    for (const unregister of unregisterMetrics) unregister();
    return renderer.stop();
  };
  // --- public read API, in-process cache hits (and article misses with stored
  // JSON): answered before everything else (helmet's and CORS's headers are
  // replayed from a stored response), with an access log (hits sampled); see
  // src/delivery/response-cache.ts ---
  const responseCache = createResponseCache(ctx.events, {
    maxBytes: config.DELIVERY_CACHE_MAX_BYTES,
    allowOrigin: anyPublicOrigin ? () => "*" : (origin) => (origin && config.CORS_PUBLIC_ORIGINS.includes(origin) ? origin : undefined),
    requestId,
    onFastAnswer(req, statusCode, id, cacheHit, route, startedAt) {
      observeHttp(route, req.method, statusCode, (performance.now() - startedAt) / 1000);
      if ((cacheHit && Math.random() >= config.ACCESS_LOG_CACHE_HIT_SAMPLE) || !ctx.logger.isLevelEnabled("info")) return;
      ctx.logger.info({
        req: { id, method: req.method, url: redactUrl(req.url), remoteAddress: req.socket.remoteAddress },
        res: { statusCode }, responseTime: 0,
      }, "request completed");
    },
  });
  // An article read that misses is answered here too, with its stored JSON (one statement).
  app.use(responseCache.fastPath("/api/v1", { "/articles/:slug": articleMissLoader(ctx, renderer) }));
  // Request metrics by route template for everything the fast path did not answer (it records its own above).
  app.use(httpMetrics(app));
  // This instance's figures for /metrics (src/observability), until the app stops.
  const unregisterMetrics = [
    registerCacheStats(() => ({ ...responseCache.stats, entries: responseCache.size, bytes: responseCache.bytes })),
    registerDatabaseMetrics(ctx.prisma),
  ];
  // Counts each request's SQL statements (Server-Timing), from here on.
  app.use(statementTiming);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          // Swagger UI's "Try it out" must reach this server over plain http too.
          upgradeInsecureRequests: null,
          imgSrc: ["'self'", "data:"],
        },
      },
    }),
  );

  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId(req, res) {
        const id = requestId(req as express.Request);
        res.setHeader("X-Request-Id", id);
        return id;
      },
      customLogLevel: (_req, res, err) => {
        if (err || res.statusCode >= 500) return "error";
        // Sampled: a cache hit is cheap enough that its log line would dominate its cost.
        if ((res as express.Response).locals?.cacheHit && Math.random() >= config.ACCESS_LOG_CACHE_HIT_SAMPLE) return "silent";
        return "info";
      },
      serializers: {
        // Never log credentials: only method, path (preview tokens and
        // token-like query values redacted) and client address.
        req: (req) => ({ id: req.id, method: req.method, url: redactUrl(req.url), remoteAddress: req.remoteAddress }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  const publicCors = cors({
    origin: anyPublicOrigin ? "*" : config.CORS_PUBLIC_ORIGINS,
    exposedHeaders: ["X-Request-Id", "Location"],
    maxAge: 600,
  });
  const adminCors = cors({
    origin: config.CORS_ADMIN_ORIGINS.length ? config.CORS_ADMIN_ORIGINS : false,
    exposedHeaders: ["X-Request-Id", "Location"],
    maxAge: 600,
  });

  app.use(express.json({ limit: config.BODY_LIMIT }));

  // --- operations ---
  app.get("/healthz", (_req, res) => {
    res.set("Cache-Control", "no-store").json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    let pending: string[];
    try {
      // A hanging database must not hang the probe: answer within the timeout.
      pending = await withTimeout(pendingMigrations(ctx.db), config.READINESS_TIMEOUT_MS);
    } catch {
      throw new HttpError(503, "not-ready", "The database is not reachable.", undefined,
        { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) });
    }
    if (pending.length) throw new HttpError(503, "not-ready", `Pending migrations: ${pending.join(", ")}.`);
    res.set("Cache-Control", "no-store").json({ status: "ok", database: ctx.db.kind, articleJson: renderer.status() });
  });

  // Prometheus metrics: here only with a token and no METRICS_PORT (src/observability/http.ts); otherwise 404.
  if (metricsOnMainPort(config)) app.get(METRICS_PATH, metricsHandler(config.METRICS_TOKEN));

  // --- uploaded images: immutable keys, cached for a year ---
  app.use("/media", publicCors, ctx.media.serve());

  // --- docs ---
  const specText = fs.readFileSync(OPENAPI_PATH, "utf8");
  const spec = YAML.parse(specText);
  app.get("/openapi.yaml", publicCors, (_req, res) => {
    res.type("application/yaml").send(specText);
  });
  app.get("/openapi.json", publicCors, (_req, res) => {
    res.json(spec);
  });
  app.use("/docs", swaggerUi.serve, swaggerUi.setup(spec, {
    customSiteTitle: "Dateline API",
    swaggerOptions: { persistAuthorization: true, validatorUrl: null },
  }));
  app.get("/", (_req, res) => {
    res.json({ name: "Dateline", docs: "/docs", openapi: "/openapi.yaml", api: "/api/v1" });
  });

  // --- the desk: the editors' web app (desk/dist), with its own strict CSP (src/desk/routes.ts) ---
  app.get(DESK_PATH, deskRedirect);
  app.use(DESK_PATH, deskRoutes({ siteTimeZone: config.SITE_TIMEZONE, mediaBaseUrl: config.MEDIA_BASE_URL }));

  // Strings the database cannot store (NUL, lone surrogates) in the query or
  // a JSON body are a 400 for every operation, before any handler runs.
  app.use("/api/v1", inputHygiene);
  // The editor API is never for search engines (draft previews say so themselves: src/articles/routes.ts).
  app.use("/api/v1/admin", (_req, res, next) => {
    res.set("X-Robots-Tag", "noindex, nofollow");
    next();
  });

  // --- editor API: JWT, editor CORS, never cached ---
  const noStore: RequestHandler = (_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  };
  app.use("/api/v1/auth", adminCors, noStore);
  app.use("/api/v1", authRoutes(ctx));
  const admin = express.Router();
  // A write answers only after this instance has applied its change events (response cache).
  admin.use(adminCors, noStore, pollAfterWrite(ctx.events, (err) => ctx.logger.warn({ err }, "change-event poll after a write failed")), authenticate(ctx));
  // With read replicas, a write's response carries the read-your-writes cookie (src/db/replicas.ts).
  admin.use(publicReads(ctx).afterWrite);
  admin.use(adminEditorRoutes(ctx));
  admin.use(adminArticleRoutes(ctx));
  // Issue 12: corrections (under articles) and author profiles.
  admin.use(adminCorrectionRoutes(ctx));
  admin.use(adminAuthorRoutes(ctx));
  admin.use(adminLockRoutes(ctx));
  admin.use(adminWithdrawalRoutes(ctx));
  admin.use(adminLiveRoutes(ctx));
  admin.use(adminSectionRoutes(ctx));
  admin.use(adminCommentRoutes(ctx));
  admin.use(adminAuditRoutes(ctx));
  admin.use(adminEventRoutes(ctx));
  admin.use(adminPurgeRoutes(ctx));
  admin.use(adminWebhookRoutes(ctx));
  admin.use(adminMediaRoutes(ctx));
  admin.use(adminCollectionRoutes(ctx));
  admin.use(adminFrontRoutes(ctx));
  // Agency copy in (IPTC ninjs): POST /ingest (src/wire).
  admin.use(adminWireRoutes(ctx));
  app.use("/api/v1/admin", admin);

  // --- public read API: any origin; GETs cached in process, by CDNs and
  // browsers as src/delivery/response-cache.ts says, anything else no-store ---
  // View counts raise no change events (one per read would flood them). The
  // instance that wrote counts drops its Most Popular entries at once, at most
  // once per flush interval; other instances refresh within the entry's TTL.
  ctx.views.onWritten(() => responseCache.invalidate(["popular"]));
  const publicApi = express.Router();
  publicApi.use(publicCors, (_req, res, next) => {
    res.set("Cache-Control", "no-store");
    next();
  }, responseCache.middleware);
  // Reads served from the published read model (src/delivery); the routes
  // below keep the public writes, the preview and the section tree.
  // ?format=ninjs on the public article (src/wire); every other article read goes on to the delivery routes.
  publicApi.use(publicWireRoutes(ctx, sections, renderer));
  publicApi.use(deliveryRoutes(ctx, sections, renderer));
  // Issue 12: the corrections feed and author pages.
  publicApi.use(publicCorrectionRoutes(ctx, sections));
  publicApi.use(publicAuthorRoutes(ctx, sections));
  // Live coverage: entries (polled, cached) and their event stream (src/live).
  const live = publicLiveRoutes(ctx);
  liveStreams = live.streams;
  (app.locals as AppLocals).endStreams = () => live.streams.close();
  publicApi.use(live.router);
  // Feeds, sitemaps and robots.txt (src/delivery/discovery-routes.ts): /api/v1/feeds here, the top-level files below.
  const discovery = discoveryRoutes(ctx, { cors: publicCors, cache: responseCache.middleware }, sections);
  publicApi.use(discovery.api);
  publicApi.use(publicArticleRoutes(ctx));
  // A reader's comment: the same cookie, so the reader's next reads are not sent to a replica without it.
  publicApi.post("/articles/:slug/comments", publicReads(ctx).afterWrite);
  publicApi.use(publicCommentRoutes(ctx));
  publicApi.use(publicSectionRoutes(ctx));
  publicApi.use(viewRoutes(ctx));
  app.use("/api/v1", publicApi);
  app.use(discovery.root);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

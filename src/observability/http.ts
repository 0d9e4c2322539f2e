// GET /metrics and the request metrics (README "Metrics").
//
// /metrics is never public. METRICS_TOKEN requires `Authorization: Bearer
// <token>`; METRICS_PORT serves it on a port of its own (its own HTTP server,
// on METRICS_HOST), and then not on the public port at all; both together
// require the token on that port. With neither it is not served (404), so a
// deployment never exposes it by accident.
import crypto from "node:crypto";
import http from "node:http";
import express, { type Express, type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import { errorHandler, notFoundHandler, unauthorized } from "../http/errors.ts";
import { refreshDatabaseMetrics } from "./collectors.ts";
import { METRICS_CONTENT_TYPE, observeHttp, registry, startProcessMetrics } from "./metrics.ts";

export const METRICS_PATH = "/metrics";
/** The route label of requests no route (nor mounted middleware) answered: 404s, mostly. */
export const UNMATCHED = "unmatched";
/** nginx's convention: the client closed the connection before the response was complete. */
const CLIENT_CLOSED = 499;

const TEMPLATE = Symbol("dateline.routeTemplate");
const ROUTE = Symbol("dateline.route");
type Tracked = Request & { [TEMPLATE]?: string; [ROUTE]?: unknown };

/**
 * Makes every request of `app` remember its full route template (mount path
 * + route path) at the moment the router matches it. Read at the end instead,
 * `req.baseUrl + req.route.path` is wrong whenever the answer came from the
 * app-level error handler: the routers have restored baseUrl by then. The
 * accessor sits on this app's own request prototype (app.request), so nothing
 * outside this app changes.
 */
function trackRouteTemplates(app: Express): void {
  Object.defineProperty(app.request, "route", {
    configurable: true,
    enumerable: true,
    get(this: Tracked) {
      return this[ROUTE];
    },
    set(this: Tracked, route: { path?: unknown } | undefined) {
      this[ROUTE] = route;
      // Route paths are string literals in the code (bounded); anything else is labelled by its mount.
      if (route && typeof route.path === "string") this[TEMPLATE] = (this.baseUrl || "") + route.path;
    },
  });
}

/** The bounded label of a finished request. */
export function routeLabel(req: Request, res: Response): string {
  const template = (req as Tracked)[TEMPLATE] ?? (res.locals.routeTemplate as string | undefined);
  if (template) return template;
  // Answered by middleware mounted at a fixed path (uploaded media, the docs): its mount path.
  return req.baseUrl ? `${req.baseUrl}/*` : UNMATCHED;
}

/**
 * Times every request that reaches it, labelled by route template and status
 * (requests the response cache's fast path answers before it are recorded
 * there: src/app.ts). Install right after the fast path.
 */
export function httpMetrics(app: Express): RequestHandler {
  trackRouteTemplates(app);
  return (req, res, next) => {
    // A miss the fast path's loader tried first counts from when the fast path took it.
    const start: number = res.locals.requestStartedAt ?? performance.now();
    // "close" also fires for a client that went away before the end (not "finish").
    res.once("close", () => {
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED;
      observeHttp(routeLabel(req, res), req.method, status, (performance.now() - start) / 1000);
    });
    next();
  };
}

function sameSecret(given: string, expected: string): boolean {
  // Hashed first: timingSafeEqual needs equal lengths, and the length must not leak either.
  const a = crypto.createHash("sha256").update(given).digest();
  const b = crypto.createHash("sha256").update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** GET /metrics: the bearer token when one is configured, then the Prometheus text format. */
export function metricsHandler(token: string | undefined): RequestHandler {
  startProcessMetrics();
  return async (req, res) => {
    if (token) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      if (!m || !sameSecret(m[1], token)) throw unauthorized("A valid metrics token is required (Authorization: Bearer <METRICS_TOKEN>).");
    }
    await refreshDatabaseMetrics();
    const text = await registry.metrics();
    res.set("Cache-Control", "no-store").type(METRICS_CONTENT_TYPE).send(text);
  };
}

/** METRICS_TOKEN and METRICS_PORT of the configuration (src/config.ts). */
type MetricsConfig = { METRICS_TOKEN?: string; METRICS_PORT?: number };

/** Whether the public app serves /metrics itself: a token and no port of its own. */
export function metricsOnMainPort(config: MetricsConfig): boolean {
  return Boolean(config.METRICS_TOKEN) && config.METRICS_PORT === undefined;
}

export interface MetricsServer {
  server: http.Server;
  /** The port it listens on (METRICS_PORT, or the one the system chose for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The metrics port's own server: /metrics (with the token when one is set)
 * and 404 for anything else, as problem+json like the main app.
 */
export async function startMetricsServer(opts: { port: number; host: string; token?: string }, logger: Logger): Promise<MetricsServer> {
  const app = express();
  app.disable("x-powered-by");
  app.get(METRICS_PATH, metricsHandler(opts.token));
  app.use(notFoundHandler);
  app.use(errorHandler);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  logger.info({ port, host: opts.host, token: Boolean(opts.token) }, "metrics served on their own port");
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

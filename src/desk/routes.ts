// The desk (issue 14): the editors' web app, built from desk/ into desk/dist by
// `npm run build`, served here at /desk on the API's own origin (no CORS). It
// reads only the editor API, which is never cached; these routes serve its
// static files and nothing of the public read API's caching touches them.
//
// - /desk/assets/*: content-hashed files, cached for a year, immutable.
// - any other GET under /desk: index.html (the app routes on the client),
//   revalidated on every load (no-cache + ETag), so a new build is picked up.
// - a strict Content-Security-Policy for all of /desk, replacing the app-wide
//   one helmet sets (which is shaped for Swagger UI): no inline script or style.
// - desk/dist missing: 503 problem saying to run `npm run build`.
// - index.html carries the site's time zone (SITE_TIMEZONE) in a <meta>, for the
//   desk's schedule picker and times: data, not script, so the CSP stays strict.
import fs from "node:fs";
import path from "node:path";
import express, { type RequestHandler } from "express";
import { HttpError } from "../http/errors.ts";
import { REPO_ROOT } from "../paths.ts";

export const DESK_PATH = "/desk";
export const DESK_DIST = path.join(REPO_ROOT, "desk", "dist");

/** The desk's policy; images may also come from the media origin (MEDIA_BASE_URL, e.g. a CDN). */
export function deskCsp(imageOrigins: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data: blob:", ...imageOrigins].join(" "),
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

export const DESK_CSP = deskCsp();

/** The origin of MEDIA_BASE_URL, when it names one (empty: media on this server, already 'self'). */
function mediaOrigin(mediaBaseUrl: string | undefined): string[] {
  if (!mediaBaseUrl) return [];
  try {
    const u = new URL(mediaBaseUrl);
    return u.protocol === "https:" || u.protocol === "http:" ? [u.origin] : [];
  } catch {
    return [];
  }
}

const YEAR_SECONDS = 365 * 24 * 60 * 60;

const TIMEZONE_META = /<meta name="dateline-site-timezone" content="[^"]*">/;
const escapeAttr = (v: string) => v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function deskRoutes(options: { dist?: string; siteTimeZone?: string; mediaBaseUrl?: string } = {}): express.Router {
  const dist = options.dist ?? DESK_DIST;
  const csp = deskCsp(mediaOrigin(options.mediaBaseUrl));
  const siteTimeZone = options.siteTimeZone ?? "UTC";
  const assets = path.join(dist, "assets");
  const index = path.join(dist, "index.html");
  const router = express.Router({ strict: true });

  const headers: RequestHandler = (_req, res, next) => {
    res.setHeader("Content-Security-Policy", csp);
    res.setHeader("X-Robots-Tag", "noindex, nofollow");
    res.setHeader("Referrer-Policy", "same-origin");
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    next();
  };
  router.use(headers);

  const notBuilt = () => new HttpError(503, "desk-not-built",
    "The desk has not been built: run `npm run build` (or `npm install`) in the repository, then reload.",
    undefined, { "Cache-Control": "no-store" });

  router.use("/assets", express.static(assets, {
    index: false,
    redirect: false,
    dotfiles: "ignore",
    immutable: true,
    maxAge: YEAR_SECONDS * 1000,
    fallthrough: true,
  }));
  // A missing asset is a 404 (a stale index.html asking for an old build's file), never the app page.
  router.use("/assets", (_req, _res, next) => {
    next(fs.existsSync(index) ? new HttpError(404, "not-found", "No such file in the desk's build.") : notBuilt());
  });

  // The page as built, with the site's time zone filled in; read again when a new build replaces it.
  let cached: { mtimeMs: number; html: string } | null = null;
  const page: RequestHandler = (_req, res, next) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(index);
    } catch {
      next(notBuilt());
      return;
    }
    if (!cached || cached.mtimeMs !== stat.mtimeMs) {
      const built = fs.readFileSync(index, "utf8");
      cached = { mtimeMs: stat.mtimeMs, html: built.replace(TIMEZONE_META, `<meta name="dateline-site-timezone" content="${escapeAttr(siteTimeZone)}">`) };
    }
    // Revalidated on every load: Express answers 304 to a matching If-None-Match (its ETag of the body).
    res.setHeader("Cache-Control", "no-cache");
    res.type("html").send(cached.html);
  };
  router.get("/", page);
  router.get("/*splat", page);
  return router;
}

/** `/desk` → `/desk/`: the app's relative URLs and its client routes live under the slash. */
export const deskRedirect: RequestHandler = (req, res, next) => {
  const q = req.originalUrl.indexOf("?");
  // Non-strict routing also matches "/desk/" here: that one is the app's.
  if ((q >= 0 ? req.originalUrl.slice(0, q) : req.originalUrl) !== DESK_PATH) { next(); return; }
  res.redirect(301, `${DESK_PATH}/${q >= 0 ? req.originalUrl.slice(q) : ""}`);
};

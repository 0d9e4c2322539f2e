// HTTP caching of the public read API, in one place:
// - an in-process response cache (lru-cache, bounded by bytes) keyed by path
//   and sorted query, shared by GET and HEAD; a hit answers without touching
//   the database, routing, Zod or the handler;
// - a strong ETag (hash of the exact bytes) on every public 200, and 304 for
//   a matching If-None-Match, from the cache or after the handler ran;
// - Cache-Control per endpoint (POLICIES), Surrogate-Key and Cache-Tag with
//   the keys the route declared (surrogateKeys), Vary only on /print;
// - invalidation by change events (ctx.events, every instance): an event
//   drops every entry sharing one of its keys.
// Errors are never stored and go out as no-store.
import { beforeWriteAnswer } from "../http/before-write-answer.ts";
import crypto from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import { LRUCache } from "lru-cache";
import type { EventBus } from "../events/bus.ts";
import { strongEtag } from "./rendered.ts";

export interface CachePolicy {
  /** Browser freshness (max-age), seconds. */
  maxAge: number;
  /** Shared caches (CDN): s-maxage, seconds; they are purged by surrogate key. */
  sMaxAge: number;
  staleWhileRevalidate: number;
  staleIfError: number;
  /**
   * In-process lifetime in ms for responses no event can announce (popular
   * counts move with every view flush); absent: kept until an event drops it.
   */
  ttlMs?: number;
  /** The representation depends on Accept (content negotiation). */
  varyAccept?: boolean;
  /** Keys every response of the endpoint carries, from its path parameters and query. */
  baseKeys?: (params: Record<string, string>, query: URLSearchParams) => string[];
}

const DAY = 86400;
const policy = (maxAge: number, sMaxAge: number, staleWhileRevalidate: number, staleIfError: number, extra: Partial<CachePolicy> = {}): CachePolicy =>
  ({ maxAge, sMaxAge, staleWhileRevalidate, staleIfError, ...extra });

/** Feeds list stories (and show section names); a tag feed also carries the tag's key. */
function feedKeys(_p: Record<string, string>, q: URLSearchParams): string[] {
  return ["articles", "sections", ...(q.get("tag") ? [`tag:${q.get("tag")}`] : [])];
}

/**
 * Public GET endpoints (paths under /api/v1) and how they are cached. Browsers
 * keep a response briefly; a CDN keeps it longer because Dateline purges it by
 * surrogate key the moment it changes, and may serve it stale while it
 * revalidates or while the origin is failing. Documented in openapi.yaml and
 * the README ("Caching and CDN"); keep the three in step. Articles and lists
 * carry `sections` because they show section names and breadcrumbs: section
 * changes are rare, so they simply drop them all.
 */
export const POLICIES: { pattern: string; policy: CachePolicy }[] = [
  { pattern: "/articles", policy: policy(15, 60, 30, DAY, {
    baseKeys: (_p, q) => ["articles", "sections", ...(q.get("tag") ? [`tag:${q.get("tag")}`] : [])],
  }) },
  { pattern: "/articles/:slug", policy: policy(30, 300, 60, DAY, { baseKeys: () => ["sections"] }) },
  { pattern: "/articles/:slug/print", policy: policy(30, 300, 60, DAY, { varyAccept: true, baseKeys: () => ["sections"] }) },
  { pattern: "/articles/:slug/comments", policy: policy(15, 60, 30, 3600) },
  // Live entries (src/live): polled every few seconds; a new entry purges entries:<articleId> at once.
  { pattern: "/articles/:slug/entries", policy: policy(5, 30, 10, 300) },
  { pattern: "/latest", policy: policy(15, 60, 30, DAY, { baseKeys: () => ["latest", "articles", "sections"] }) },
  // Issue 12: the corrections feed (purged by "corrections") and author pages (author:<id>; "articles" for new credits).
  { pattern: "/corrections", policy: policy(15, 60, 30, DAY, { baseKeys: () => ["corrections", "sections"] }) },
  { pattern: "/authors/:slug", policy: policy(30, 300, 60, DAY, { baseKeys: () => ["articles", "sections"] }) },
  { pattern: "/sections", policy: policy(60, 600, 300, DAY, { baseKeys: () => ["sections"] }) },
  { pattern: "/sections/:slug", policy: policy(60, 600, 300, DAY, { baseKeys: () => ["sections"] }) },
  { pattern: "/sections/:slug/front", policy: policy(15, 60, 30, DAY, { baseKeys: (p) => [`front:${p.slug}`, "articles", "sections"] }) },
  { pattern: "/collections/:slug", policy: policy(30, 120, 60, DAY, { baseKeys: (p) => [`collection:${p.slug}`, "sections"] }) },
  // Any change to a public article (key "articles") or to sections drops every cached search; kept 60 s at most.
  { pattern: "/search", policy: policy(15, 60, 30, 3600, { ttlMs: 60_000, baseKeys: () => ["articles", "sections"] }) },
  { pattern: "/popular", policy: policy(60, 60, 60, 3600, { ttlMs: 60_000, baseKeys: () => ["popular", "sections"] }) },
  // Feeds and sitemaps (src/delivery/discovery-routes.ts). /feeds/:format is under /api/v1; the other
  // paths are top-level (the root router runs this middleware per route, with the full path).
  { pattern: "/feeds/:format", policy: policy(60, 300, 60, DAY, { baseKeys: feedKeys }) },
  { pattern: "/rss.xml", policy: policy(60, 300, 60, DAY, { baseKeys: feedKeys }) },
  { pattern: "/atom.xml", policy: policy(60, 300, 60, DAY, { baseKeys: feedKeys }) },
  { pattern: "/feed.json", policy: policy(60, 300, 60, DAY, { baseKeys: feedKeys }) },
  { pattern: "/sitemap.xml", policy: policy(300, 3600, 300, DAY, { baseKeys: () => ["articles", "sections"] }) },
  { pattern: "/sitemaps/:file", policy: policy(300, 3600, 300, DAY, { baseKeys: () => ["articles", "sections"] }) },
  // The 48-hour window moves without events: kept in process a minute at most.
  { pattern: "/sitemap-news.xml", policy: policy(60, 300, 60, DAY, { ttlMs: 60_000, baseKeys: () => ["articles", "sections"] }) },
  { pattern: "/robots.txt", policy: policy(3600, 86400, 3600, DAY, { baseKeys: () => ["robots"] }) },
];

export function cacheControlOf(p: CachePolicy): string {
  return `public, max-age=${p.maxAge}, s-maxage=${p.sMaxAge}, stale-while-revalidate=${p.staleWhileRevalidate}, stale-if-error=${p.staleIfError}`;
}

const compiled = POLICIES.map(({ pattern, policy }) => {
  const names: string[] = [];
  const source = pattern.replace(/:([a-z]+)/g, (_m, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { pattern, regex: new RegExp(`^${source}/?$`), names, policy, cacheControl: cacheControlOf(policy) };
});

function match(path: string) {
  for (const c of compiled) {
    const m = c.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => {
      params[n] = safeDecode(m[i + 1]);
    });
    return { ...c, params };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Declares the surrogate keys of the response a public route is about to
 * send (article:42, section:7…). Only responses whose route declared its keys
 * are kept in process: without them no event could remove the entry.
 */
export function surrogateKeys(res: Response, keys: Iterable<string>): void {
  const list: string[] = (res.locals.surrogateKeys ??= []);
  for (const k of keys) list.push(k);
}

interface Entry {
  body: Buffer;
  etag: string;
  keys: string[];
  /**
   * Every header of the stored response but the per-request ones, as
   * writeHead takes them (name, value, name, value...) with Content-Length
   * last: what fastPath sends, before X-Request-Id and the CORS origin.
   */
  full: string[];
}

/**
 * Answers a cache miss of one route (by its POLICIES pattern) in fastPath,
 * without the middleware chain: the exact body with its ETag and surrogate
 * keys, and how many SQL statements it took; undefined to let the chain answer.
 */
export type MissLoader = (params: Record<string, string>, res: Response) =>
  Promise<{ body: string; etag: string; keys: string[]; statements: number } | undefined>;

export interface ResponseCacheOptions {
  maxBytes: number;
  /**
   * The public CORS rule, for hits answered before the middleware chain
   * (fastPath): the Access-Control-Allow-Origin to send for a request's
   * Origin, or undefined for none. Absent: "*".
   */
  allowOrigin?: (origin: string | undefined) => string | undefined;
  /** Whether the allowed origin depends on the request's Origin (a list of origins): adds Vary: Origin. */
  varyOrigin?: boolean;
  /** The request id to send (X-Request-Id) for a hit answered by fastPath. */
  requestId?: (req: Request) => string;
  /**
   * Called after fastPath answered: a cache hit, or a miss its loader answered
   * (the access log, request metrics), with the route's template under the
   * prefix (`/api/v1/articles/:slug`: bounded, never the raw path) and
   * performance.now() when fastPath started on it.
   */
  onFastAnswer?: (req: Request, statusCode: number, requestId: string, cacheHit: boolean, route: string, startedAt: number) => void;
}

/** Running totals since the cache was created (read by the metrics at scrape time). */
export interface ResponseCacheStats {
  /** Answers from a stored entry (200 or 304), in fastPath or the middleware. */
  hits: number;
  /** Cacheable requests answered without an entry (a loader's or the handler's answer). */
  misses: number;
  /** Entries dropped for space (not by invalidation or expiry). */
  evictions: number;
}

export interface ResponseCache {
  /** The Express middleware for the public router. */
  middleware: RequestHandler;
  /**
   * The first middleware of the whole app: answers GET/HEAD cache hits (200,
   * 304) under `prefix` before helmet, logging, CORS and routing run, with the
   * headers those set when the entry was stored, replayed; anything else
   * goes on down the chain.
   */
  fastPath(prefix: string, loaders?: Record<string, MissLoader>): RequestHandler;
  /** Drops every entry carrying one of `keys` (events do this on every instance). */
  invalidate(keys: Iterable<string>): number;
  /** Stops listening to events. */
  close(): void;
  readonly size: number;
  readonly bytes: number;
  readonly stats: Readonly<ResponseCacheStats>;
}

/** Per-entry bookkeeping on top of the body: key index, headers, the map itself. */
const ENTRY_OVERHEAD = 512;

// Headers that differ per request: set anew for each hit, never stored in `full`.
const PER_REQUEST = new Set(["x-request-id", "server-timing", "date", "connection", "keep-alive",
  "access-control-allow-origin"]);
const ZERO_STATEMENTS = 'db;desc="0 statements"';

export function createResponseCache(events: EventBus, opts: ResponseCacheOptions): ResponseCache {
  // Plain increments on the hot path; the metrics read them when scraped.
  const stats: ResponseCacheStats = { hits: 0, misses: 0, evictions: 0 };
  // Surrogate key -> cache keys of the entries carrying it.
  const byKey = new Map<string, Set<string>>();
  const unindex = (cacheKey: string, entry: Entry) => {
    for (const k of entry.keys) {
      const set = byKey.get(k);
      if (!set) continue;
      set.delete(cacheKey);
      if (!set.size) byKey.delete(k);
    }
  };
  const lru = new LRUCache<string, Entry>({
    maxSize: opts.maxBytes,
    sizeCalculation: (e) => e.body.length + ENTRY_OVERHEAD + e.keys.join(" ").length + e.full.reduce((n, h) => n + h.length, 0),
    // An entry larger than the whole cache is simply not stored.
    maxEntrySize: opts.maxBytes,
    dispose: (entry, cacheKey, reason) => {
      if (reason === "evict") stats.evictions += 1;
      unindex(cacheKey, entry);
    },
  });
  // Bumped by every invalidation. A miss remembers it when it starts reading;
  // if an event arrived meanwhile its result may predate that event and is
  // sent but not stored (the next request reads again).
  let generation = 0;

  function invalidate(keys: Iterable<string>): number {
    generation += 1;
    let dropped = 0;
    for (const k of keys) {
      const set = byKey.get(k);
      if (!set) continue;
      for (const cacheKey of [...set]) if (lru.delete(cacheKey)) dropped += 1;
    }
    return dropped;
  }

  const unsubscribe = events.subscribe((batch) => {
    invalidate(batch.flatMap((e) => e.keys));
  });

  function cacheKeyOf(req: Request, path: string, search: string, varyAccept: boolean | undefined): string {
    let key = path;
    if (search) {
      const q = new URLSearchParams(search);
      q.sort();
      key += `?${q.toString()}`;
    }
    // The print page negotiates HTML or plain text: one entry per outcome.
    if (varyAccept) key = `${req.accepts(["text/html", "text/plain"]) || "text/html"} ${key}`;
    return key;
  }

  function setCachingHeaders(res: Response, etag: string, cacheControl: string, keys: string[], varyAccept?: boolean) {
    res.setHeader("ETag", etag);
    res.setHeader("Cache-Control", cacheControl);
    if (keys.length) {
      res.setHeader("Surrogate-Key", keys.join(" "));
      res.setHeader("Cache-Tag", keys.join(","));
    }
    // Appended: CORS with a list of origins has already set Vary: Origin.
    if (varyAccept) res.vary("Accept");
  }

  const middleware: RequestHandler = (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const url = req.url;
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? "" : url.slice(q + 1);
    const route = match(path);
    if (!route) return next();
    const cacheKey = cacheKeyOf(req, path, search, route.policy.varyAccept);

    const hit = lru.get(cacheKey);
    if (hit) {
      stats.hits += 1;
      res.locals.cacheHit = true;
      // No route runs for a hit: the request metrics' label (src/observability/http.ts).
      res.locals.routeTemplate = req.baseUrl + route.pattern;
      // The stored response's headers (what the handler set: Content-Type, Last-Modified, the print page's CSP).
      for (let i = 0; i < hit.full.length; i += 2) res.setHeader(hit.full[i], hit.full[i + 1]);
      setCachingHeaders(res, hit.etag, route.cacheControl, hit.keys, route.policy.varyAccept);
      if (notModified(req, hit.etag, res.getHeader("last-modified"))) {
        res.removeHeader("Content-Type");
        res.statusCode = 304;
        res.end();
        return;
      }
      res.statusCode = 200;
      res.setHeader("Content-Length", hit.body.length);
      if (req.method === "HEAD") res.end();
      else res.end(hit.body);
      return;
    }

    stats.misses += 1;
    const startedAt = generation;
    const send = res.send;
    res.send = function (this: Response, body?: unknown) {
      res.send = send;
      if (res.statusCode === 410 && res.locals.tombstone === true) {
        // A withdrawn article's tombstone (src/delivery/tombstones.ts) is public: shared caches keep it
        // under its surrogate keys (a reinstatement purges them); this cache does not (one statement).
        const keys: string[] = res.locals.surrogateKeys ?? [];
        res.setHeader("Cache-Control", route.cacheControl);
        if (keys.length) {
          res.setHeader("Surrogate-Key", keys.join(" "));
          res.setHeader("Cache-Tag", keys.join(","));
        }
        return send.call(this, body);
      }
      if (res.statusCode !== 200) {
        // Errors (and anything unusual) are not kept by anyone.
        res.setHeader("Cache-Control", "no-store");
        return send.call(this, body);
      }
      const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.isBuffer(body) ? body : undefined;
      if (!bytes) return send.call(this, body);
      // A route that sends stored bytes knows their ETag already (src/delivery/rendered.ts).
      const etag: string = res.locals.etag ?? strongEtag(bytes);
      const declared: string[] | undefined = res.locals.surrogateKeys;
      const base = route.policy.baseKeys ? route.policy.baseKeys(route.params, new URLSearchParams(search)) : [];
      const keys = declared ? [...new Set([...base, ...declared])] : base;
      setCachingHeaders(res, etag, route.cacheControl, keys, route.policy.varyAccept);
      if (declared) {
        const full: string[] = [];
        for (const [name, value] of Object.entries(res.getHeaders())) {
          if (value === undefined || name === "content-length" || PER_REQUEST.has(name)) continue;
          for (const v of Array.isArray(value) ? value : [value]) full.push(name, String(v));
        }
        store(cacheKey, { body: bytes, etag, keys, full }, route.policy, startedAt);
        // Loaders answer query-less requests only: their headers come from one too.
        if (!search) learnTemplate(route.pattern, full);
      }
      if (notModified(req, etag, res.getHeader("last-modified"))) {
        res.removeHeader("Content-Type");
        res.status(304);
        res.end();
        return res;
      }
      return send.call(this, bytes);
    };
    next();
  };

  const allowOrigin = opts.allowOrigin ?? (() => "*");
  const requestId = opts.requestId ?? (() => crypto.randomUUID());
  /** Stores a finished 200 under its surrogate keys (unless an event arrived since `startedAt`). */
  function store(cacheKey: string, entry: Entry, policy: CachePolicy, startedAt: number): void {
    if (generation !== startedAt) return;
    lru.set(cacheKey, entry, policy.ttlMs ? { ttl: policy.ttlMs } : undefined);
    if (lru.peek(cacheKey)) for (const k of entry.keys) {
      let set = byKey.get(k);
      if (!set) byKey.set(k, (set = new Set()));
      set.add(cacheKey);
    }
  }

  /**
   * Per route pattern, the headers its stored responses share (helmet's,
   * CORS's, Content-Type, Cache-Control): what a loader's answer is sent with.
   * Learnt from the first response stored through the middleware chain.
   */
  const templates = new Map<string, string[]>();
  const PER_ENTRY = new Set(["etag", "cache-control", "surrogate-key", "cache-tag", "last-modified"]);
  function learnTemplate(pattern: string, full: string[]): void {
    if (templates.has(pattern)) return;
    const t: string[] = [];
    for (let i = 0; i < full.length; i += 2) if (!PER_ENTRY.has(full[i])) t.push(full[i], full[i + 1]);
    templates.set(pattern, t);
  }

  function fastPath(prefix: string, loaders: Record<string, MissLoader> = {}): RequestHandler {
    // The routes' labels for onFastAnswer, made once.
    const labels = new Map(compiled.map((c) => [c.pattern, prefix + c.pattern]));
    return (req, res, next) => {
      const method = req.method;
      const url = req.url;
      if ((method !== "GET" && method !== "HEAD") || !url.startsWith(prefix)) return next();
      const q = url.indexOf("?");
      const path = q < 0 ? url.slice(prefix.length) : url.slice(prefix.length, q);
      const search = q < 0 ? "" : url.slice(q + 1);
      const route = match(path);
      if (!route) return next();
      const t0 = performance.now();
      const cacheKey = cacheKeyOf(req, path, search, route.policy.varyAccept);
      // Only a request spelled exactly as its cache key (query sorted, plain
      // encoding) is answered here; any other spelling goes through input
      // checks and routing first, and meets the same entry further down.
      if (cacheKey !== (route.policy.varyAccept ? cacheKey.slice(0, cacheKey.indexOf(" ") + 1) : "") + url.slice(prefix.length)) return next();
      const hit = lru.get(cacheKey);
      if (hit) {
        stats.hits += 1;
        return answer(req, res, hit, ZERO_STATEMENTS, true, labels.get(route.pattern)!, t0);
      }
      const loader = loaders[route.pattern];
      const template = templates.get(route.pattern);
      // A loader answers from the path alone: a request with a query (?format=ninjs, src/wire) may
      // ask for another representation, so it goes down the chain (and is stored under its own key).
      if (!loader || !template || route.policy.varyAccept || search) return next();
      // A miss the route's loader can answer without the middleware chain;
      // when it cannot (no such row, nothing stored yet, an error) the chain
      // answers, with what the loader read left in res.locals.
      const startedAt = generation;
      // The chain's request metrics count from here when the loader hands over (src/observability/http.ts).
      res.locals.requestStartedAt = t0;
      loader(route.params, res).then((found) => {
        if (!found) return next();
        const base = route.policy.baseKeys ? route.policy.baseKeys(route.params, new URLSearchParams(search)) : [];
        const keys = [...new Set([...base, ...found.keys])];
        const body = Buffer.from(found.body);
        const full = [...template, "etag", found.etag, "cache-control", route.cacheControl];
        if (keys.length) full.push("surrogate-key", keys.join(" "), "cache-tag", keys.join(","));
        const entry: Entry = { body, etag: found.etag, keys, full };
        store(cacheKey, entry, route.policy, startedAt);
        stats.misses += 1;
        answer(req, res, entry, `db;desc="${found.statements} statements"`, false, labels.get(route.pattern)!, t0);
      }, () => next());
    };
  }

  function answer(req: Request, res: Response, entry: Entry, serverTiming: string, hit: boolean, label: string, startedAt: number): void {
    const id = requestId(req);
    const headers = [...entry.full, "X-Request-Id", id, "Server-Timing", serverTiming];
    const origin = allowOrigin(req.headers.origin);
    if (origin !== undefined) headers.push("Access-Control-Allow-Origin", origin);
    let status = 200;
    const lm = entry.full.indexOf("last-modified");
    if (notModified(req, entry.etag, lm >= 0 ? entry.full[lm + 1] : undefined)) {
      status = 304;
      const i = headers.indexOf("content-type");
      if (i >= 0) headers.splice(i, 2);
      res.writeHead(304, headers);
      res.end();
    } else {
      headers.push("Content-Length", String(entry.body.length));
      res.writeHead(200, headers);
      if (req.method === "HEAD") res.end();
      else res.end(entry.body);
    }
    opts.onFastAnswer?.(req, status, id, hit, label, startedAt);
  }

  return {
    middleware,
    fastPath,
    invalidate,
    close: () => {
      unsubscribe();
    },
    get size() {
      return lru.size;
    },
    get bytes() {
      return lru.calculatedSize;
    },
    stats,
  };
}

/**
 * If-None-Match against a strong ETag (weak comparison, as RFC 9110 §13.1.2
 * says); without one, If-Modified-Since against the response's Last-Modified
 * when it has one (feeds and sitemaps: §13.1.3).
 */
function notModified(req: Request, etag: string, lastModified?: unknown): boolean {
  const header = req.headers["if-none-match"];
  if (!header) {
    const since = req.headers["if-modified-since"];
    if (!since || typeof lastModified !== "string") return false;
    const s = Date.parse(since);
    const m = Date.parse(lastModified);
    return Number.isFinite(s) && Number.isFinite(m) && m <= s;
  }
  if (header.trim() === "*") return true;
  for (const part of header.split(",")) {
    const tag = part.trim().replace(/^W\//, "");
    if (tag === etag) return true;
  }
  return false;
}

/**
 * Editor-API writes: once the handler has committed and is about to answer
 * 2xx/3xx, read the events it appended and dispatch them on this instance
 * (the cache drops what they invalidate) BEFORE the response leaves. So a
 * client that reads right after its write returned never gets the old
 * representation from this instance; other instances learn of the events by
 * NOTIFY (or the fallback poll) a moment later.
 */
export function pollAfterWrite(events: EventBus, onError: (err: unknown) => void): RequestHandler {
  return beforeWriteAnswer(() => events.poll().catch(onError));
}

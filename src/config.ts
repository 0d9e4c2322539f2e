// Configuration is read from the environment once, at start, and validated
// here. A bad value stops the process with a message naming the variable.
// Every key is mirrored, with its default, in .env.example.
import net from "node:net";
import { z } from "zod";
import { LANGUAGE_TAG } from "./i18n/languages.ts";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const list = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));

const bytes = z
  .string()
  .regex(/^\d+(b|kb|mb)?$/i, "a size such as 1mb, 512kb or 1048576")
  .transform((v) => {
    const m = /^(\d+)(b|kb|mb)?$/i.exec(v)!;
    const n = Number(m[1]);
    const unit = (m[2] ?? "b").toLowerCase();
    return unit === "mb" ? n * 1024 * 1024 : unit === "kb" ? n * 1024 : n;
  });

const PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * Express "trust proxy" in the forms it reads from a string. Checked here
 * because Express takes a typo such as "1O.0.0.0/8" or a bare number meant
 * as a hop count for an address and then silently trusts nobody (or throws
 * at start with a stack trace).
 */
function isTrustProxy(v: string): boolean {
  if (/^(true|false|\d+)$/.test(v)) return true;
  return v.split(",").every((entry) => {
    const e = entry.trim();
    if (PROXY_RANGES.has(e)) return true;
    const [addr, mask, ...rest] = e.split("/");
    const family = net.isIP(addr);
    if (!family || rest.length) return false;
    if (mask === undefined) return true;
    if (/^\d+$/.test(mask)) return Number(mask) <= (family === 4 ? 32 : 128);
    return family === 4 && net.isIPv4(mask);
  });
}

export const configSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    DATA_DIR: z.string().min(1).default("./data"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
      // Checked here so a typo is reported by name, not as a stack trace from the driver.
      .refine((v) => URL.canParse(v), "is not a valid URL (percent-encode special characters in the user name or password)")
      .optional()
      .or(z.literal("").transform(() => undefined)),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(15000),
    DATABASE_IDLE_TX_TIMEOUT_MS: z.coerce.number().int().min(0).default(30000),
    // Read replicas (README "Read replicas"): hot standbys of DATABASE_URL's database that serve the
    // public reads; how often one taken out after a failure is tried again.
    DATABASE_REPLICA_URLS: list
      .default([])
      .refine((urls) => urls.every((u) => /^postgres(ql)?:\/\//.test(u) && URL.canParse(u)), "must be a comma-separated list of postgresql:// URLs"),
    DATABASE_REPLICA_PROBE_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    READINESS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(2000),
    JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    JWT_ISSUER: z.string().default("dateline"),
    JWT_AUDIENCE: z.string().default("dateline-admin"),
    JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(900),
    ADMIN_EMAIL: z.string().email().optional(),
    ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
    ADMIN_NAME: z.string().min(1).default("Administrator"),
    // Unset: true, except with NODE_ENV=production (see loadConfig).
    SEED_DEMO: bool.optional(),
    BODY_LIMIT: bytes.default(1024 * 1024),
    // Article body HTML: sanitizing costs size times nesting depth, so both are bounded.
    BODY_HTML_MAX_CHARS: z.coerce.number().int().min(1000).default(200_000),
    BODY_HTML_MAX_DEPTH: z.coerce.number().int().min(1).default(100),
    BODY_HTML_MAX_ELEMENTS: z.coerce.number().int().min(1).default(20_000),
    BODY_SANITIZE_TIMEOUT_MS: z.coerce.number().int().min(50).default(2000),
    BODY_SANITIZE_THREADS: z.coerce.number().int().min(1).max(16).default(1),
    CORS_PUBLIC_ORIGINS: list.default(["*"]),
    CORS_ADMIN_ORIGINS: list.default([]),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    TRUST_PROXY: z
      .string()
      .default("loopback")
      .refine(
        isTrustProxy,
        "must be true, false, a hop count, or a comma-separated list of loopback, linklocal, uniquelocal, addresses and subnets (10.0.0.0/8)",
      )
      .transform((v) => (v === "true" ? true : v === "false" ? false : /^\d+$/.test(v) ? Number(v) : v)),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10000),
    // How long a client may take to send its request headers, and its whole
    // request; Node's own defaults (60 s, 300 s) let slow clients hold
    // connections for minutes. The request limit leaves room for a 10 MB image
    // upload over a slow uplink.
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    REFRESH_TTL_SECONDS: z.coerce.number().int().min(300).default(30 * 86400),
    PREVIEW_TTL_SECONDS: z.coerce.number().int().min(60).default(86400),
    SCHEDULER_ENABLED: bool.default(true),
    SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(50).max(5000).default(1000),
    TRASH_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    ARCHIVED_PUBLIC: bool.default(false),
    LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(20),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL: z.coerce.number().int().min(1).default(100),
    REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    // Reader features.
    PUBLIC_SITE_URL: z.url().default("http://localhost:3000").transform((v) => v.replace(/\/+$/, "")),
    PERMALINK_PATTERN: z
      .string()
      .regex(/^\/.*\{slug\}/, "must start with / and contain {slug}")
      .default("/{section}/{yyyy}/{mm}/{dd}/{slug}"),
    PUBLIC_API_URL: z.url().optional().transform((v) => v?.replace(/\/+$/, "")),
    SITE_TIMEZONE: z
      .string()
      .default("UTC")
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, "must be an IANA time zone such as Asia/Shanghai"),
    // Discovery (issue 9): the site's language (BCP 47), and the publisher named in
    // JSON-LD, feeds and the Google News sitemap.
    SITE_LANGUAGE: z.string().regex(LANGUAGE_TAG, "must be a BCP 47 language tag such as en, zh-Hans or pt-BR").default("en"),
    PUBLICATION_NAME: z.string().min(1).default("Dateline"),
    PUBLISHER_LOGO_URL: z.url().optional(),
    // Feeds and sitemaps (issue 9): the public path of a section page on the site; URLs per article
    // sitemap page (at most 50,000, the protocol's limit); robots.txt's Disallow paths and extra lines.
    SECTION_PATH_PATTERN: z.string().regex(/^\/.*\{section\}/, "must start with / and contain {section}").default("/{section}"),
    SITEMAP_PAGE_SIZE: z.coerce.number().int().min(1).max(50_000).default(50_000),
    ROBOTS_DISALLOW: list.default(["/api/v1/admin/", "/api/v1/preview/"]),
    ROBOTS_TXT_EXTRA: z.string().default("").transform((v) => v.replace(/\\n/g, "\n")),
    MEDIA_MAX_BYTES: bytes.default(10 * 1024 * 1024),
    // Decoding costs memory and time by pixels, not bytes: a 70-byte PNG can claim 10^10.
    MEDIA_MAX_PIXELS: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(50_000_000),
    MEDIA_BASE_URL: z.string().default("").transform((v) => v.replace(/\/+$/, "")),
    // Where uploads are stored (src/media; README "Media storage"): local disk (DATA_DIR/media) or an
    // S3-compatible bucket that several instances share.
    MEDIA_STORAGE: z.enum(["local", "s3"]).default("local"),
    S3_BUCKET: z.string().min(3).max(63).optional(),
    S3_REGION: z.string().min(1).default("us-east-1"),
    S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
    // Unset: true when S3_ENDPOINT is set (MinIO and most self-hosted stores), else false (AWS's virtual hosts).
    S3_FORCE_PATH_STYLE: bool.optional(),
    // Unset (both): the AWS SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance or task role).
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    // An empty value counts as unset, so "/" stands for "no prefix" (objects at the bucket's root).
    S3_PREFIX: z
      .string()
      .regex(/^(\/|([A-Za-z0-9._-]+\/)+)$/, "must be / (none) or path segments ending in /, such as media/")
      .default("media/")
      .transform((v) => (v === "/" ? "" : v)),
    S3_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
    S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
    COMMENTS_AUTO_APPROVE: bool.default(false),
    COMMENT_RATE_MAX: z.coerce.number().int().min(1).default(5),
    COMMENT_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    COMMENT_MAX_LINKS: z.coerce.number().int().min(0).default(2),
    // Change events: notifications (LISTEN/NOTIFY) deliver them at once; this
    // is the fallback poll for a missed notification.
    EVENTS_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
    // Change events older than this are pruned, except any a durable consumer has not processed yet.
    EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    // The read model's periodic refresh (automatic recommendations): every this many ms (0: off), this many documents.
    READ_MODEL_REFRESH_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    READ_MODEL_REFRESH_BATCH: z.coerce.number().int().min(1).max(5000).default(200),
    // At start-up on PostgreSQL, this many published articles without a read-model row or more are built
    // (and their JSON rendered) by a child process, so the server does not keep the heap that grows to.
    READ_MODEL_CHILD_MIN_ROWS: z.coerce.number().int().min(1).default(2000),
    // The in-process cache of public responses (src/delivery/response-cache.ts), in bytes.
    DELIVERY_CACHE_MAX_BYTES: bytes.default(16 * 1024 * 1024),
    // Share of in-process cache hits (200/304 answered without the database) that get an access-log
    // line: writing the line costs about a third of a hit's throughput. Everything else is always logged.
    ACCESS_LOG_CACHE_HIT_SAMPLE: z.coerce.number().min(0).max(1).default(1),
    // GET /metrics (Prometheus; src/observability, README "Metrics"): never public. A bearer token, and/or a port
    // of its own (then not served on PORT at all) on METRICS_HOST (default: HOST). Neither set: not served (404).
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_HOST: z.string().min(1).optional(),
    // Webhooks (src/distribution/webhooks; README "Webhooks"): the consumer that turns change events into
    // deliveries and the dispatcher that sends them run on every instance when enabled.
    WEBHOOKS_ENABLED: bool.default(true),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(10),
    // After this many deliveries in a row end failed or dead, the endpoint is disabled (with the reason recorded).
    WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
    // Host names or IP literals (as written in the endpoint URL) exempt from the private-address guard.
    WEBHOOK_ALLOWED_HOSTS: list.default([]),
    // How often the dispatcher looks for due deliveries (new events wake it at once).
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    VIEW_FLUSH_INTERVAL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
    VIEW_DEDUP_SECONDS: z.coerce.number().int().min(0).default(1800),
    VIEW_RATE_MAX_PER_MINUTE: z.coerce.number().int().min(1).default(120),
    VIEW_MAX_PER_ADDRESS_PER_ARTICLE: z.coerce.number().int().min(1).default(10),
    // Shared state across instances (src/shared-state; README "Running several instances"): the view beacon's
    // de-duplication and limits. Unset: kept in each process, as one instance needs.
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .refine((v) => URL.canParse(v), "is not a valid URL (percent-encode special characters in the password)")
      .optional(),
    // Prepended to every Redis key, so several sites or environments can share one Redis.
    REDIS_KEY_PREFIX: z.string().max(100).default("dateline:"),
    // A Redis command slower than this is answered from the instance's own state instead (ms).
    REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(250),
    // CDN purge (src/distribution/purge): the change events' surrogate keys sent to a purger.
    // log (default) is a dry run: it logs the keys it would purge; none turns the consumer off.
    PURGE_PROVIDER: z.enum(["none", "log", "fastly", "cloudflare", "varnish", "http"]).default("log"),
    // Mark objects stale instead of removing them (Fastly, Varnish xkey.softpurge, passed on by http; Cloudflare cannot).
    PURGE_SOFT: bool.default(true),
    PURGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    PURGE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
    // Backoff between attempts: doubles from the first delay up to the cap, with jitter; Retry-After wins when longer.
    PURGE_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2_000),
    PURGE_RETRY_MAX_MS: z.coerce.number().int().min(1).default(600_000),
    FASTLY_API_TOKEN: z.string().min(1).optional(),
    FASTLY_SERVICE_ID: z.string().min(1).optional(),
    FASTLY_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.fastly.com").transform((v) => v.replace(/\/+$/, "")),
    CLOUDFLARE_API_TOKEN: z.string().min(1).optional(),
    CLOUDFLARE_ZONE_ID: z.string().min(1).optional(),
    CLOUDFLARE_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.cloudflare.com/client/v4").transform((v) => v.replace(/\/+$/, "")),
    VARNISH_PURGE_URLS: list
      .default([])
      .refine((urls) => urls.every((u) => /^https?:\/\//.test(u) && URL.canParse(u)), "must be a comma-separated list of http(s):// URLs"),
    VARNISH_PURGE_TOKEN: z.string().min(1).optional(),
    PURGE_HTTP_URL: z.url({ protocol: /^https?$/ }).optional(),
    PURGE_HTTP_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    // What each purge provider needs, named by variable.
    const needs: Record<string, (keyof typeof c)[]> = {
      fastly: ["FASTLY_API_TOKEN", "FASTLY_SERVICE_ID"],
      cloudflare: ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ZONE_ID"],
      http: ["PURGE_HTTP_URL"],
    };
    for (const k of needs[c.PURGE_PROVIDER] ?? []) {
      if (!c[k]) ctx.addIssue({ code: "custom", path: [k], message: `is required when PURGE_PROVIDER=${c.PURGE_PROVIDER}` });
    }
    if (c.PURGE_PROVIDER === "varnish" && !c.VARNISH_PURGE_URLS.length) {
      ctx.addIssue({ code: "custom", path: ["VARNISH_PURGE_URLS"], message: "is required when PURGE_PROVIDER=varnish" });
    }
    if (c.PURGE_RETRY_BASE_MS > c.PURGE_RETRY_MAX_MS) {
      ctx.addIssue({ code: "custom", path: ["PURGE_RETRY_BASE_MS"], message: "must not exceed PURGE_RETRY_MAX_MS" });
    }
    if (c.METRICS_PORT !== undefined && c.METRICS_PORT !== 0 && c.METRICS_PORT === c.PORT) {
      ctx.addIssue({ code: "custom", path: ["METRICS_PORT"], message: "must differ from PORT (unset it to serve /metrics on PORT with METRICS_TOKEN)" });
    }
    if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: "custom", path: ["HTTP_HEADERS_TIMEOUT_MS"], message: "must not exceed HTTP_REQUEST_TIMEOUT_MS" });
    }
    if (c.MEDIA_STORAGE === "s3" && !c.S3_BUCKET) {
      ctx.addIssue({ code: "custom", path: ["S3_BUCKET"], message: "is required when MEDIA_STORAGE=s3" });
    }
    if (Boolean(c.S3_ACCESS_KEY_ID) !== Boolean(c.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: "custom",
        path: [c.S3_ACCESS_KEY_ID ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID"],
        message: "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together",
      });
    }
    if (c.DATABASE_REPLICA_URLS.length && !c.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["DATABASE_REPLICA_URLS"], message: "needs DATABASE_URL (the embedded database has no replicas)" });
    }
    if (c.NODE_ENV === "production" && !c.JWT_SECRET) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "is required when NODE_ENV=production" });
    }
    if (Boolean(c.ADMIN_EMAIL) !== Boolean(c.ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: "custom",
        path: [c.ADMIN_EMAIL ? "ADMIN_PASSWORD" : "ADMIN_EMAIL"],
        message: "ADMIN_EMAIL and ADMIN_PASSWORD must be set together",
      });
    }
  });

export type Config = Omit<z.infer<typeof configSchema>, "SEED_DEMO"> & { SEED_DEMO: boolean };

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings (e.g. `FOO=` in a .env file) count as unset.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in configSchema.shape && v !== ""),
  );
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(config)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  // A production database never gets the demo newsroom (known editor names,
  // invented stories) unless asked for by name.
  return { ...parsed.data, SEED_DEMO: parsed.data.SEED_DEMO ?? parsed.data.NODE_ENV !== "production" };
}

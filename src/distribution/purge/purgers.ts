// CDN purgers: send one batch of surrogate keys to one provider. Each knows
// its provider's limit of keys per request; the queue (./service.ts) splits
// keys into batches of at most that many and retries what fails.
//
//   fastly      POST {FASTLY_API_URL}/service/{id}/purge, Surrogate-Key: "k1 k2",
//               Fastly-Key, Fastly-Soft-Purge: 1 when soft (256 keys a request)
//   cloudflare  POST {CLOUDFLARE_API_URL}/zones/{zone}/purge_cache {"tags": [...]},
//               Bearer token (30 tags a request; no soft purge)
//   varnish     PURGE to every VARNISH_PURGE_URLS host with xkey-purge: "k1 k2"
//               (xkey-softpurge when soft), for vmod-xkey (see README "Purging")
//   http        POST PURGE_HTTP_URL {"keys": [...], "soft": bool}, Bearer PURGE_HTTP_TOKEN
//
// Purging is idempotent: a batch sent twice (a crash between sending and
// recording it) costs one more cache miss per object, never stale content.
import type { Config } from "../../config.ts";

export type Provider = "none" | "log" | "fastly" | "cloudflare" | "varnish" | "http";

/** The outcome of one attempt. */
export type SendResult =
  | { ok: true; status?: number }
  | { ok: false; retry: boolean; status?: number; error: string; retryAfterMs?: number };

export interface Purger {
  readonly provider: Provider;
  /** Most keys one request may carry. */
  readonly maxKeys: number;
  /** Whether the provider can mark objects stale instead of removing them. */
  readonly supportsSoft: boolean;
  send(keys: string[], soft: boolean): Promise<SendResult>;
}

export type Fetch = typeof fetch;

export interface PurgerOptions {
  fetch?: Fetch;
  /** For Retry-After given as an HTTP date. */
  now?: () => number;
}

export const LIMITS = { fastly: 256, cloudflare: 30, varnish: 256, http: 256 } as const;

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Timeouts, connection errors, 408, 429 and 5xx are worth retrying; other answers are not. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

async function attempt(
  doFetch: Fetch, url: string, init: RequestInit, timeoutMs: number, now: () => number,
  /** A 2xx whose body says it failed (Cloudflare's `"success": false`): the error, else undefined. */
  failedBody?: (text: string) => string | undefined,
): Promise<SendResult> {
  let res: Response;
  try {
    res = await doFetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, retry: true, error: `${new URL(url).host}: ${why}` };
  }
  // Read a little of the body for the error message (never logged with credentials: none are in it).
  const text = (await res.text().catch(() => "")).slice(0, 300);
  if (res.status >= 200 && res.status < 300) {
    const why = failedBody?.(text);
    if (why) return { ok: false, retry: false, status: res.status, error: `${new URL(url).host} answered ${res.status} but: ${why}` };
    return { ok: true, status: res.status };
  }
  return {
    ok: false,
    retry: retryable(res.status),
    status: res.status,
    error: `${new URL(url).host} answered ${res.status}${text ? `: ${text}` : ""}`,
    retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), now()),
  };
}

/** Cloudflare's API answers {"success": false, "errors": [...]} when it did not purge. */
function cloudflareFailure(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { success?: boolean; errors?: { message?: string }[] };
    if (body.success !== false) return undefined;
    return body.errors?.map((e) => e.message).filter(Boolean).join("; ") || "success: false";
  } catch {
    return undefined;
  }
}

/** The worse of several hosts' results (Varnish): any failure fails the batch; retry if any may succeed later. */
function worst(results: SendResult[]): SendResult {
  const failed = results.filter((r): r is Extract<SendResult, { ok: false }> => !r.ok);
  if (!failed.length) return results[0] ?? { ok: true };
  const retry = failed.some((r) => r.retry);
  const retryAfterMs = Math.max(0, ...failed.map((r) => r.retryAfterMs ?? 0)) || undefined;
  return { ok: false, retry, status: failed[0].status, error: failed.map((r) => r.error).join("; "), retryAfterMs };
}

export function createPurger(config: Config, opts: PurgerOptions = {}): Purger | undefined {
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const timeout = config.PURGE_TIMEOUT_MS;
  switch (config.PURGE_PROVIDER) {
    case "none":
    case "log":
      return undefined;
    case "fastly": {
      const url = `${config.FASTLY_API_URL}/service/${encodeURIComponent(config.FASTLY_SERVICE_ID!)}/purge`;
      return {
        provider: "fastly", maxKeys: LIMITS.fastly, supportsSoft: true,
        send: (keys, soft) =>
          attempt(doFetch, url, {
            method: "POST",
            headers: {
              "Fastly-Key": config.FASTLY_API_TOKEN!,
              "Surrogate-Key": keys.join(" "),
              Accept: "application/json",
              ...(soft ? { "Fastly-Soft-Purge": "1" } : {}),
            },
          }, timeout, now),
      };
    }
    case "cloudflare": {
      const url = `${config.CLOUDFLARE_API_URL}/zones/${encodeURIComponent(config.CLOUDFLARE_ZONE_ID!)}/purge_cache`;
      return {
        provider: "cloudflare", maxKeys: LIMITS.cloudflare, supportsSoft: false,
        send: (keys) =>
          attempt(doFetch, url, {
            method: "POST",
            headers: { Authorization: `Bearer ${config.CLOUDFLARE_API_TOKEN!}`, "Content-Type": "application/json" },
            body: JSON.stringify({ tags: keys }),
          }, timeout, now, cloudflareFailure),
      };
    }
    case "varnish": {
      const hosts = config.VARNISH_PURGE_URLS;
      return {
        provider: "varnish", maxKeys: LIMITS.varnish, supportsSoft: true,
        send: async (keys, soft) =>
          worst(await Promise.all(hosts.map((host) =>
            attempt(doFetch, host, {
              method: "PURGE",
              headers: {
                [soft ? "xkey-softpurge" : "xkey-purge"]: keys.join(" "),
                ...(config.VARNISH_PURGE_TOKEN ? { "X-Purge-Token": config.VARNISH_PURGE_TOKEN } : {}),
              },
            }, timeout, now)))),
      };
    }
    case "http":
      return {
        provider: "http", maxKeys: LIMITS.http, supportsSoft: true,
        send: (keys, soft) =>
          attempt(doFetch, config.PURGE_HTTP_URL!, {
            method: "POST",
            headers: {
              "Content-Type": "application/json",
              ...(config.PURGE_HTTP_TOKEN ? { Authorization: `Bearer ${config.PURGE_HTTP_TOKEN}` } : {}),
            },
            body: JSON.stringify({ keys, soft }),
          }, timeout, now),
      };
  }
}

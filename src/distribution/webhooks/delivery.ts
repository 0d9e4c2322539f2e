// Sending webhook deliveries: the signed request, the guarded HTTP sender,
// and the dispatcher that claims due deliveries, sends them and records what
// happened (with backoff, Retry-After, 410 and repeated-failure disabling).
//
// Exactly once per attempt across instances: a claim is ONE statement that
// locks due rows (FOR UPDATE SKIP LOCKED), counts the attempt and moves
// "nextAttemptAt" past the send's longest duration (a lease), so no other
// instance finds them due. The outcome is written only if the row still has
// that attempt number. An instance that dies mid-send leaves the lease to
// expire and the delivery is sent again with the same Dateline-Event-Id (and
// a higher Dateline-Delivery-Attempt): at least once, de-duplicable.
import { rerunning, sum } from "../../events/rerunning.ts";
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { Logger } from "pino";
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { BlockedTargetError, vetTarget, type AddressCheck } from "./ssrf.ts";

// ---- signing ----

export const SIGNATURE_VERSION = "v1";

/** Hex HMAC-SHA256 of `${timestamp}.${body}` with the secret (its UTF-8 bytes) as key. */
export function sign(secret: string, timestamp: number, body: string): string {
  return crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export interface SecretsOf {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/** `v1=<current>` and, while a rotation's overlap lasts, `,v1=<previous>`. */
export function signatureHeader(e: SecretsOf, timestamp: number, body: string, now: Date): string {
  const sigs = [`${SIGNATURE_VERSION}=${sign(e.secret, timestamp, body)}`];
  if (e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt > now) {
    sigs.push(`${SIGNATURE_VERSION}=${sign(e.previousSecret, timestamp, body)}`);
  }
  return sigs.join(",");
}

// ---- sending ----

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface SendResult {
  /** The response status; absent when no response came (timeout, connection error, refused target). */
  status?: number;
  retryAfter?: string;
  /** Why there was no usable response (never contains the URL's query or any secret). */
  error?: string;
  /** The target was refused by the private-address guard: not retried. */
  blocked?: boolean;
  durationMs: number;
}

export type Sender = (req: SendRequest) => Promise<SendResult>;

/** Response bytes read at most (then the connection is dropped); the body itself is not kept. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs with the address guard: resolves and vets the host, then connects to
 * the vetted address only (pinned lookup), never follows a redirect, reads at
 * most MAX_RESPONSE_BYTES and gives up after timeoutMs in all.
 */
export function httpSender(check: AddressCheck): Sender {
  return async (req) => {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    const url = new URL(req.url);
    let target: { address: string; family: number };
    let dnsTimer: NodeJS.Timeout | undefined;
    try {
      // The resolver counts against the same timeout as the request.
      target = await Promise.race([
        vetTarget(url, check),
        new Promise<never>((_, reject) => {
          dnsTimer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: `timeout after ${req.timeoutMs} ms` })), req.timeoutMs);
        }),
      ]);
    } catch (err) {
      if (err instanceof BlockedTargetError) return { blocked: true, error: err.message, durationMs: took() };
      return { error: `DNS: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, durationMs: took() };
    } finally {
      clearTimeout(dnsTimer);
    }
    const remaining = Math.max(1, req.timeoutMs - took());
    const lookup: LookupFunction = (_host, options, cb) => {
      if (options.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
      else cb(null, target.address, target.family);
    };
    const mod = url.protocol === "https:" ? https : http;
    return new Promise<SendResult>((resolve) => {
      let done = false;
      const finish = (r: Omit<SendResult, "durationMs">) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, durationMs: took() });
      };
      const request = mod.request(url, {
        method: "POST",
        agent: false,
        lookup,
        headers: {
          ...req.headers,
          "Content-Type": "application/json",
          "Content-Length": String(Buffer.byteLength(req.body)),
          "User-Agent": "Dateline-Webhooks/1",
        },
      });
      const timer = setTimeout(() => {
        finish({ error: `timeout after ${req.timeoutMs} ms` });
        request.destroy();
      }, remaining);
      request.on("error", (err: NodeJS.ErrnoException) => finish({ error: `connection: ${err.code ?? err.message}` }));
      request.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const retryAfter = typeof res.headers["retry-after"] === "string" ? res.headers["retry-after"] : undefined;
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read >= MAX_RESPONSE_BYTES) {
            finish({ status, retryAfter });
            res.destroy();
          }
        });
        res.on("end", () => finish({ status, retryAfter }));
        res.on("error", () => finish({ status, retryAfter }));
        res.on("close", () => finish({ status, retryAfter }));
      });
      request.end(req.body);
    });
  };
}

// ---- retry policy ----

const MINUTE = 60_000;
export const MAX_DELAY_MS = 24 * 60 * MINUTE;

/** Backoff before attempt n+1 after n failed: 1 min × 3^(n-1), ±20 % jitter, at most 24 h. */
export function backoffMs(failedAttempts: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, MINUTE * 3 ** Math.max(0, failedAttempts - 1));
  return Math.min(MAX_DELAY_MS, Math.round(base * (0.8 + 0.4 * random())));
}

/** Retry-After as seconds or an HTTP date, in ms from now (clamped to 1 s .. 24 h), if it parses. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    ms = t - now.getTime();
  }
  return Math.min(MAX_DELAY_MS, Math.max(1000, ms));
}

const retryable = (r: SendResult) =>
  !r.blocked && (r.status === undefined || r.status === 408 || r.status === 429 || r.status >= 500);

// ---- the dispatcher ----

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface DispatcherOptions {
  sender: Sender;
  timeoutMs: number;
  maxAttempts: number;
  disableAfterFailures: number;
  pollIntervalMs: number;
  clock?: Clock;
  random?: () => number;
  /** Deliveries claimed per statement (default 20). */
  batch?: number;
  /** Finished deliveries older than this are deleted (default DELIVERY_RETENTION_DAYS). */
  retentionDays?: number;
}

/** How long succeeded, failed and dead deliveries stay in the log. */
export const DELIVERY_RETENTION_DAYS = 30;
const PRUNE_EVERY_MS = 3600_000;
const PRUNE_BATCH = 1000;

export interface Dispatcher {
  /** Sends everything due now (claim after claim); resolves with how many attempts were made. */
  runOnce(): Promise<number>;
  /** Polls every pollIntervalMs and on wake(). */
  start(): void;
  /** Look now (new deliveries were queued). */
  wake(): void;
  /** Deletes finished deliveries past the retention (bounded batches); resolves with how many. */
  prune(): Promise<number>;
  stop(): Promise<void>;
}

interface Claimed {
  id: number;
  endpointId: number;
  eventId: string;
  type: string;
  payload: unknown;
  attempts: number;
  attemptsBase: number;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export function createDispatcher(prisma: PrismaClient, logger: Logger, opts: DispatcherOptions): Dispatcher {
  const clock = opts.clock ?? systemClock;
  const batch = opts.batch ?? 20;
  const log = logger.child({ component: "webhooks" });
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let prunedAt = 0;

  async function prune(): Promise<number> {
    const cutoff = new Date(clock.now().getTime() - (opts.retentionDays ?? DELIVERY_RETENTION_DAYS) * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await prisma.$executeRaw`
        DELETE FROM "WebhookDelivery" WHERE id IN (
          SELECT id FROM "WebhookDelivery" WHERE status <> 'pending' AND "createdAt" < ${cutoff}
           ORDER BY "createdAt", id LIMIT ${PRUNE_BATCH})`;
      total += n;
      if (n < PRUNE_BATCH || stopped) return total;
    }
  }

  async function claim(): Promise<Claimed[]> {
    const now = clock.now();
    const lease = new Date(now.getTime() + opts.timeoutMs + 60_000);
    return prisma.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT d.id FROM "WebhookDelivery" d JOIN "WebhookEndpoint" e ON e.id = d."endpointId"
         WHERE d.status = 'pending' AND d."nextAttemptAt" <= ${now} AND e.active
         ORDER BY d."nextAttemptAt", d.id
         LIMIT ${batch}
           FOR UPDATE OF d SKIP LOCKED)
      UPDATE "WebhookDelivery" d
         SET attempts = d.attempts + 1, "nextAttemptAt" = ${lease}
        FROM due, "WebhookEndpoint" e
       WHERE d.id = due.id AND e.id = d."endpointId"
      RETURNING d.id, d."endpointId", d."eventId", d.type, d.payload, d.attempts, d."attemptsBase",
                e.url, e.secret, e."previousSecret", e."previousSecretExpiresAt"`;
  }

  async function send(d: Claimed): Promise<void> {
    const now = clock.now();
    const timestamp = Math.floor(now.getTime() / 1000);
    const body = JSON.stringify(d.payload);
    const result = await opts.sender({
      url: d.url,
      body,
      timeoutMs: opts.timeoutMs,
      headers: {
        "Dateline-Event-Id": d.eventId,
        "Dateline-Event-Type": d.type,
        "Dateline-Timestamp": String(timestamp),
        "Dateline-Signature": signatureHeader(d, timestamp, body, now),
        "Dateline-Delivery-Attempt": String(d.attempts),
      },
    }).catch((err: Error): SendResult => ({ error: `send: ${err.message}`, durationMs: 0 }));
    await record(d, result);
  }

  async function record(d: Claimed, r: SendResult): Promise<void> {
    const now = clock.now();
    const ok = r.status !== undefined && r.status >= 200 && r.status < 300;
    const gone = r.status === 410;
    const error = ok ? null
      : r.error ?? (r.status! >= 300 && r.status! < 400 ? `HTTP ${r.status} (redirects are not followed)` : `HTTP ${r.status}`);
    let status: "succeeded" | "pending" | "failed" | "dead";
    let next: Date | null = null;
    if (ok) status = "succeeded";
    else if (gone) status = "failed";
    else if (retryable(r)) {
      if (d.attempts - d.attemptsBase >= opts.maxAttempts) status = "dead";
      else {
        status = "pending";
        const wait = retryAfterMs(r.retryAfter, now) ?? backoffMs(d.attempts - d.attemptsBase, opts.random);
        next = new Date(now.getTime() + wait);
      }
    } else status = "failed";

    await prisma.$transaction(async (tx) => {
      const updated = await tx.$executeRaw`
        UPDATE "WebhookDelivery"
           SET status = ${status}, "nextAttemptAt" = ${next}, "lastStatusCode" = ${r.status ?? null},
               "lastError" = ${error}, "durationMs" = ${r.durationMs},
               "deliveredAt" = ${ok ? now : null}
         WHERE id = ${d.id} AND attempts = ${d.attempts}`;
      // A newer attempt (after this one's lease ran out) owns the row now.
      if (!updated) return;
      if (ok) {
        await tx.$executeRaw`UPDATE "WebhookEndpoint" SET "consecutiveFailures" = 0 WHERE id = ${d.endpointId} AND "consecutiveFailures" <> 0`;
      } else if (gone) {
        await disable(tx, d.endpointId, now, "The receiver answered 410 Gone.");
      } else if (status === "failed" || status === "dead") {
        const [row] = await tx.$queryRaw<{ n: number }[]>`
          UPDATE "WebhookEndpoint" SET "consecutiveFailures" = "consecutiveFailures" + 1
           WHERE id = ${d.endpointId} RETURNING "consecutiveFailures" AS n`;
        if (row && row.n >= opts.disableAfterFailures) {
          await disable(tx, d.endpointId, now, `${row.n} deliveries in a row failed; the last: ${error}.`);
        }
      }
    });
    const level = ok ? "debug" : "warn";
    log[level]({ endpointId: d.endpointId, deliveryId: d.id, eventId: d.eventId, attempt: d.attempts, status: r.status, outcome: status, error: error ?? undefined, durationMs: r.durationMs }, "webhook attempt");
  }

  async function disable(tx: Prisma.TransactionClient, id: number, now: Date, reason: string) {
    await tx.$executeRaw`
      UPDATE "WebhookEndpoint" SET active = false, "disabledReason" = ${reason}, "disabledAt" = ${now}, "updatedAt" = ${now}
       WHERE id = ${id} AND active`;
    log.warn({ endpointId: id, reason }, "webhook endpoint disabled");
  }

  /** One claim, sent per endpoint in claim order (event order), endpoints side by side. */
  async function step(): Promise<number> {
    const claimed = await claim();
    const byEndpoint = new Map<number, Claimed[]>();
    for (const d of claimed) byEndpoint.set(d.endpointId, [...(byEndpoint.get(d.endpointId) ?? []), d]);
    await Promise.all([...byEndpoint.values()].map(async (list) => {
      for (const d of list) await send(d);
    }));
    return claimed.length;
  }

  // One run at a time; a wake-up meanwhile runs once more after it.
  const runOnce = rerunning(async () => {
    let total = 0;
    for (;;) {
      const n = await step();
      total += n;
      if (n < batch) return total;
    }
  }, { combine: sum });

  const tick = () => {
    timer = undefined;
    if (stopped) return;
    if (clock.now().getTime() - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = clock.now().getTime();
      void prune().catch((err) => log.error({ err }, "pruning webhook deliveries failed"));
    }
    runOnce()
      .catch((err) => log.error({ err }, "webhook dispatcher failed; retrying"))
      .finally(() => {
        if (!stopped && !timer) {
          timer = setTimeout(tick, opts.pollIntervalMs);
          timer.unref();
        }
      });
  };

  return {
    runOnce,
    prune,
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    wake() {
      if (stopped) return;
      void runOnce().catch((err) => log.error({ err }, "webhook dispatcher failed"));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await runOnce.running?.catch(() => {});
    },
  };
}

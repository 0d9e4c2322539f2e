// The Redis connection behind shared state (REDIS_URL), with ioredis: it
// reconnects by itself with backoff, has a per-command timeout, runs Lua
// scripts by SHA with a fallback to sending them (defineCommand), and ships
// its own types.
//
// Redis is an accelerator here, never a dependency of a request: commands
// fail at once while it is disconnected (no offline queue, no retries per
// request) and after REDIS_COMMAND_TIMEOUT_MS when it hangs, and the callers
// fall back to this process's own state (see README "Running several
// instances"). Start-up does not wait for it either.
import os from "node:os";
import { Redis } from "ioredis";
import type { Logger } from "pino";

export interface RedisHealth {
  /** REDIS_URL is set on this instance. */
  configured: boolean;
  /** Connected and ready now (every client of this process, when there are several). */
  connected: boolean;
  /** When the current connection became ready (null while disconnected). */
  connectedSince: Date | null;
  /** The last connection or command error, if any, and when. */
  lastError: string | null;
  lastErrorAt: Date | null;
  /** Failed commands (each answered from this process's own state instead) since start. */
  failedCommands: number;
}

export interface RedisOptions {
  url: string;
  /** Prepended to every key, so several sites (or test runs) can share one Redis. */
  keyPrefix: string;
  commandTimeoutMs: number;
  logger: Logger;
}

export interface SharedRedis {
  client: Redis;
  health(): RedisHealth;
  /** Records a failed command (the caller fell back); logged at most once a minute. */
  failed(err: unknown): void;
  close(): Promise<void>;
}

// Reconnect backoff: doubling from 100 ms to 5 s, for as long as the process runs.
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
const LOG_EVERY_MS = 60_000;

/** How this process's connections are named in Redis (CLIENT LIST), so an operator can tell them apart. */
export const connectionName = () => `dateline:${os.hostname().replace(/[^\w.-]/g, "_")}:${process.pid}`;

// Every open client of this process, for redisHealth().
const open = new Set<SharedRedis>();

/** Redis as this process sees it, for health and metrics: `configured: false` without REDIS_URL. */
export function redisHealth(): RedisHealth {
  const all = [...open].map((r) => r.health());
  if (!all.length) return { configured: false, connected: false, connectedSince: null, lastError: null, lastErrorAt: null, failedCommands: 0 };
  const last = all.filter((h) => h.lastErrorAt).sort((a, b) => b.lastErrorAt!.getTime() - a.lastErrorAt!.getTime())[0];
  return {
    configured: true,
    connected: all.every((h) => h.connected),
    connectedSince: all.every((h) => h.connectedSince) ? new Date(Math.max(...all.map((h) => h.connectedSince!.getTime()))) : null,
    lastError: last?.lastError ?? null,
    lastErrorAt: last?.lastErrorAt ?? null,
    failedCommands: all.reduce((n, h) => n + h.failedCommands, 0),
  };
}

/** A URL as it may be logged: the password masked. */
export function printableRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "****";
  return u.toString();
}

export function connectRedis(opts: RedisOptions): SharedRedis {
  const { logger } = opts;
  const where = printableRedisUrl(opts.url);
  let connected = false;
  let connectedSince: Date | null = null;
  let lastError: string | null = null;
  let lastErrorAt: Date | null = null;
  let failedCommands = 0;
  let lastLogged = 0;
  let closing = false;

  const client = new Redis(opts.url, {
    keyPrefix: opts.keyPrefix,
    connectionName: connectionName(),
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: Math.max(1000, opts.commandTimeoutMs * 4),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(RETRY_MIN_MS * 2 ** Math.min(times, 16), RETRY_MAX_MS),
  });

  const note = (err: unknown) => {
    lastError = err instanceof Error ? err.message : String(err);
    lastErrorAt = new Date();
  };
  // A Redis that stays down must not write a line per reconnect attempt or per beacon.
  const logThrottled = (msg: string) => {
    const now = Date.now();
    if (now - lastLogged < LOG_EVERY_MS) return;
    lastLogged = now;
    logger.warn({ redis: where, error: lastError, failedCommands }, msg);
  };

  client.on("ready", () => {
    const was = lastError;
    connected = true;
    connectedSince = new Date();
    if (was) logger.info({ redis: where }, "Redis is reachable again: views are de-duplicated and limited across instances");
    else logger.info({ redis: where }, "connected to Redis: views are de-duplicated and limited across instances");
  });
  client.on("error", (err) => {
    note(err);
    logThrottled("Redis unreachable: each instance de-duplicates and limits views on its own until it is back; retrying");
  });
  client.on("close", () => {
    if (connected && !closing) logger.warn({ redis: where }, "lost the Redis connection; reconnecting");
    connected = false;
    connectedSince = null;
  });

  const shared: SharedRedis = {
    client,
    health: () => ({ configured: true, connected, connectedSince, lastError, lastErrorAt, failedCommands }),
    failed(err) {
      failedCommands += 1;
      note(err);
      logThrottled("Redis command failed: answered from this instance's own state");
    },
    async close() {
      closing = true;
      open.delete(shared);
      // QUIT waits for replies in flight; a client that is not connected has nothing to wait for.
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
      connected = false;
      connectedSince = null;
    },
  };
  open.add(shared);
  return shared;
}

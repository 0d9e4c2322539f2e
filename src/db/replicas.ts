// Public reads on PostgreSQL read replicas (DATABASE_REPLICA_URLS; README
// "Read replicas"). Writes, the editor API, authenticated requests and every
// background worker (renderer, event consumers, scheduler, LISTEN) use the
// primary (AppContext.db); only the public routes that call
// `publicReads(ctx).run(req, ...)` may be sent to a replica.
//
// Nobody is sent to a replica older than what they must see, measured in
// WAL positions (LSNs) rather than time, so a replica that is current serves
// everyone and one that lags serves no one who would notice:
// - read-your-writes: a write's response (editor API, a reader's comment)
//   carries a signed cookie with the primary's WAL position after the write;
//   a read carrying it goes to a replica only once that replica has replayed
//   up to it (pg_last_wal_replay_lsn(), cached per replica for LSN_CACHE_MS),
//   else to the primary. Any instance honours it.
// - change events: when this instance receives change events (from any
//   instance), it takes the primary's WAL position as a fence for every public
//   read after them. The in-process response cache drops its entries on the
//   same events; without the fence the next miss could read the old row from
//   a lagging replica and store it until the next event.
// A replica whose read fails where the primary's succeeds (connection lost,
// timeout, shut down) is taken out, its reads rerun on the primary, and it
// is probed every probeIntervalMs until it answers as a standby again.
import { beforeWriteAnswer } from "../http/before-write-answer.ts";
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { openDatabase, type Database, type OpenOptions } from "./client.ts";
import { withStatementScope } from "./statements.ts";
import type { EventBus } from "../events/bus.ts";

/** Where a public read runs: a replica or the primary. Read-only use. */
export type ReadTarget = Pick<Database, "prisma" | "read">;

export interface ReplicaStatus {
  /** host:port/database, no credentials. */
  name: string;
  up: boolean;
  /** Last replay position seen (pg_last_wal_replay_lsn), e.g. "0/3000148". */
  replayLsn: string | null;
  /** Public reads sent to it (including ones rerun on the primary after it failed). */
  reads: number;
  /** Times it was taken out. */
  failures: number;
}

export interface ReadsStatus {
  /** Public reads run on the primary while replicas are configured. */
  primaryReads: number;
  replicas: ReplicaStatus[];
}

export interface PublicReads {
  /**
   * Runs `fn` (read-only statements) on a replica fit for this request, else
   * on the primary; a replica that fails meanwhile is taken out and `fn`
   * runs again on the primary. `fn` may run twice: no side effects.
   */
  run<T>(req: IncomingMessage, fn: (db: ReadTarget) => Promise<T>): Promise<T>;
  /** Middleware for routers with writes: a successful write's response carries the read-your-writes cookie. */
  afterWrite: RequestHandler;
  status(): ReadsStatus;
  close(): Promise<void>;
}

/** How long a replica's replay position is trusted before it is read again. */
const LSN_CACHE_MS = 100;
/** How long a writer's reads wait for replicas to reach their write (the cookie's lifetime). */
const READ_AFTER_SECONDS = 300;
export const READ_AFTER_COOKIE = "dateline_read_after";
const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;
const COOKIE_VALUE = new RegExp(`(?:^|;\\s*)${READ_AFTER_COOKIE}=([^;]*)`);

export function parseLsn(text: string): bigint {
  const [hi, lo] = text.split("/");
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Statements sent for the router itself (fences, replay positions) count against no request. */
function unscoped<T>(fn: () => Promise<T>): Promise<T> {
  return withStatementScope({ statements: 0 }, fn);
}

/** Rejects when `p` has not settled after `ms`; `p` itself is left to finish. */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {});
  return Promise.race([p, new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  })]).finally(() => clearTimeout(timer));
}

const primaryOnlyCache = new WeakMap<Database, PublicReads>();

/** Every public read on the primary: no replicas configured (PGlite, or DATABASE_REPLICA_URLS unset). */
export function primaryOnly(db: Database): PublicReads {
  let reads = primaryOnlyCache.get(db);
  if (!reads) {
    reads = {
      run: (_req, fn) => fn(db),
      afterWrite: (_req, _res, next) => next(),
      status: () => ({ primaryReads: 0, replicas: [] }),
      close: async () => {},
    };
    primaryOnlyCache.set(db, reads);
  }
  return reads;
}

/** The context's public reads: its replicas when it has any, else the primary. */
export function publicReads(ctx: { db: Database; reads?: PublicReads }): PublicReads {
  return ctx.reads ?? primaryOnly(ctx.db);
}

export interface ReplicaOptions {
  primary: Database;
  /** postgresql:// URLs of hot standbys of the primary (same database). */
  urls: string[];
  /** Signs the read-your-writes cookie; the same on every instance (JWT secret). */
  secret: string;
  logger: Logger;
  /** Change events as this instance receives them: each batch sets a fence (see above). */
  events?: EventBus;
  /** Options of the replicas' pools (timeouts, pool size, schema), as for the primary. */
  open?: Omit<OpenOptions, "url" | "dataDir" | "replica">;
  /** How often a replica that was taken out is tried again. */
  probeIntervalMs?: number;
}

interface Replica {
  name: string;
  db: Database;
  up: boolean;
  replay: bigint;
  replayAt: number;
  refreshing?: Promise<void>;
  probe?: NodeJS.Timeout;
  reads: number;
  failures: number;
}

class NotStandbyError extends Error {}

function printable(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}${u.pathname}`;
}

/**
 * Opens the replicas (their pools connect on first use) and reads each one's
 * state once; a replica that does not answer starts out taken out, and
 * is probed until it does. Never fails because of a replica.
 */
export async function createReplicaReads(opts: ReplicaOptions): Promise<PublicReads> {
  const { primary, logger } = opts;
  const probeIntervalMs = opts.probeIntervalMs ?? 1000;
  const key = crypto.createHash("sha256").update(`read-after:${opts.secret}`).digest();
  const mac = (lsn: string) => crypto.createHmac("sha256", key).update(lsn).digest("base64url").slice(0, 22);

  const replicas: Replica[] = [];
  for (const url of opts.urls) {
    replicas.push({
      name: printable(url),
      db: await openDatabase({ ...opts.open, url, replica: true }),
      up: false, replay: 0n, replayAt: 0, reads: 0, failures: 0,
    });
  }
  let primaryReads = 0;
  let next = 0;
  let closed = false;

  // --- change-event fence ---
  let fenceLsn = 0n;
  let fencesPending = 0;
  let fenceFailedUntil = 0;
  const fence = () => {
    fencesPending += 1;
    unscoped(() => primary.read<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn"))
      .then(([row]) => {
        const lsn = parseLsn(row.lsn);
        if (lsn > fenceLsn) fenceLsn = lsn;
      })
      .catch((err) => {
        // Unknown position: the primary answers public reads for a while.
        fenceFailedUntil = Date.now() + probeIntervalMs;
        if (!closed) logger.warn({ err }, "read replicas: reading the primary's WAL position failed");
      })
      .finally(() => {
        fencesPending -= 1;
      });
  };
  // Synchronous: a read that starts after the batch is handed out sees the fence pending.
  const unsubscribe = opts.events?.subscribe(() => {
    fence();
  });

  // --- replica state ---
  // A replica that hangs must not hold requests (or the start) waiting for its position.
  const refreshTimeoutMs = opts.open?.connectTimeoutMs ?? 2000;
  function refresh(r: Replica): Promise<void> {
    r.refreshing ??= withTimeout(unscoped(() => r.db.read<{ recovery: boolean; lsn: string | null }>(
      "SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS lsn",
    )), refreshTimeoutMs, `${r.name}: no answer within ${refreshTimeoutMs} ms`)
      .then(([row]) => {
        // A promoted (or misconfigured) server no longer follows the primary: never read from it.
        if (!row.recovery) throw new NotStandbyError(`${r.name} is not a standby (pg_is_in_recovery() is false)`);
        const lsn = row.lsn ? parseLsn(row.lsn) : 0n;
        if (lsn > r.replay) r.replay = lsn;
        r.replayAt = Date.now();
      })
      .finally(() => {
        r.refreshing = undefined;
      });
    return r.refreshing;
  }

  function takeOut(r: Replica, err: unknown): void {
    if (r.up) {
      r.up = false;
      r.failures += 1;
      logger.warn({ replica: r.name, err }, "read replica taken out: its public reads go to the primary until it answers again");
    }
    if (r.probe || closed) return;
    r.probe = setInterval(() => {
      refresh(r).then(() => {
        if (closed || r.up) return;
        clearInterval(r.probe);
        r.probe = undefined;
        r.up = true;
        logger.info({ replica: r.name, replayLsn: formatLsn(r.replay) }, "read replica back in use");
      }, () => {});
    }, probeIntervalMs);
    r.probe.unref();
  }

  await Promise.all(replicas.map((r) => refresh(r).then(() => {
    r.up = true;
  }, (err) => {
    logger.warn({ replica: r.name, err }, "read replica not usable at start: probing it until it answers");
    takeOut(r, err);
  })));

  /** Round robin over the replicas that are up and have replayed `required`. */
  async function pick(required: bigint): Promise<Replica | undefined> {
    const n = replicas.length;
    for (let i = 0; i < n; i++) {
      const r = replicas[(next + i) % n];
      if (!r.up) continue;
      if (r.replay < required) {
        if (Date.now() - r.replayAt < LSN_CACHE_MS) continue;
        try {
          await refresh(r);
        } catch (err) {
          takeOut(r, err);
          continue;
        }
        if (!r.up || r.replay < required) continue;
      }
      next = (next + i + 1) % n;
      return r;
    }
    return undefined;
  }

  function readAfter(req: IncomingMessage): bigint {
    const cookie = req.headers.cookie;
    if (!cookie || !cookie.includes(READ_AFTER_COOKIE)) return 0n;
    const m = COOKIE_VALUE.exec(cookie);
    if (!m) return 0n;
    const [lsn, sig] = m[1].trim().split(".");
    // Unsigned or forged: ignored (a client must not be able to push its reads, or anyone's, onto the primary).
    if (!lsn || !sig || !LSN.test(lsn) || sig.length !== 22 || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(mac(lsn)))) return 0n;
    return parseLsn(lsn);
  }

  async function onPrimary<T>(fn: (db: ReadTarget) => Promise<T>): Promise<T> {
    primaryReads += 1;
    return fn(primary);
  }

  const afterWrite: RequestHandler = beforeWriteAnswer((req, res) =>
    unscoped(() => primary.read<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn"))
      .then(([row]) => {
        if (res.headersSent) return;
        const value = `${row.lsn}.${mac(row.lsn)}`;
        const cookie = `${READ_AFTER_COOKIE}=${value}; Max-Age=${READ_AFTER_SECONDS}; Path=/; HttpOnly; SameSite=Lax${req.secure ? "; Secure" : ""}`;
        const prev = res.getHeader("Set-Cookie");
        res.setHeader("Set-Cookie", prev === undefined ? cookie : [...(Array.isArray(prev) ? prev : [String(prev)]), cookie]);
      })
      .catch((err) => logger.warn({ err }, "read replicas: reading the primary's WAL position after a write failed")));

  return {
    async run(req, fn) {
      // The editor API never comes here; an authenticated public request (a preview, an editor) reads the primary too.
      if (req.headers.authorization || fencesPending > 0 || Date.now() < fenceFailedUntil) return onPrimary(fn);
      const after = readAfter(req);
      const r = await pick(after > fenceLsn ? after : fenceLsn);
      if (!r) return onPrimary(fn);
      r.reads += 1;
      try {
        return await fn(r.db);
      } catch (err) {
        // The same read on the primary: its own failure is the request's (as without replicas);
        // a read that fails only on the replica takes the replica out.
        const result = await onPrimary(fn);
        takeOut(r, err);
        return result;
      }
    },
    afterWrite,
    status: () => ({
      primaryReads,
      replicas: replicas.map((r) => ({
        name: r.name, up: r.up, replayLsn: r.replayAt ? formatLsn(r.replay) : null, reads: r.reads, failures: r.failures,
      })),
    }),
    async close() {
      closed = true;
      unsubscribe?.();
      for (const r of replicas) clearInterval(r.probe);
      await Promise.all(replicas.map((r) => r.refreshing?.catch(() => {})));
      await Promise.all(replicas.map((r) => r.db.close().catch(() => {})));
    },
  };
}

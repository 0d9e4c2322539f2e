// Opens the database: embedded PGlite (a real PostgreSQL compiled to Wasm,
// in-process) when DATABASE_URL is unset, a PostgreSQL server through the pg
// driver adapter when it is set. Both run the same schema and migrations.
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { countingAdapterFactory, countStatements } from "./statements.ts";
import { registerPool } from "../observability/metrics.ts";

/** Runs SQL on one connection, outside Prisma (migrations, locks). */
export interface RawConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters. */
  exec(sql: string): Promise<void>;
}

export interface Database {
  kind: "pglite" | "postgresql";
  prisma: PrismaClient;
  /**
   * One read-only statement for the delivery side's hot path, outside Prisma:
   * Prisma's per-query compile-and-map cost was most of a cache-missing
   * article read. PostgreSQL: straight to the pool; PGlite: straight to its
   * one connection, queued behind any open transaction. Not for use inside a
   * transaction.
   */
  read<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Gives `fn` one dedicated connection for its whole run. */
  withConnection<T>(fn: (conn: RawConnection) => Promise<T>): Promise<T>;
  /**
   * LISTENs on `channel` and calls `onNotify` for each notification, and
   * also after a lost listening connection is back (notifications sent
   * meanwhile are lost: the caller re-reads what it may have missed).
   * Resolves to a function that stops listening; close() stops all.
   */
  listen(channel: string, onNotify: (payload?: string) => void, onError?: (err: Error) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** postgresql:// URL; PGlite when absent. */
  url?: string;
  /** PGlite data directory; in-memory when absent. */
  dataDir?: string;
  /** PostgreSQL schema to use instead of public (tests isolate by schema). */
  schema?: string;
  poolSize?: number;
  /** PostgreSQL only: ms to open a connection (default 5000). */
  connectTimeoutMs?: number;
  /** PostgreSQL only: server-side limit per statement, 0 for none (default 15000). */
  statementTimeoutMs?: number;
  /** PostgreSQL only: ends sessions left idle inside a transaction, 0 for never (default 30000). */
  idleInTransactionTimeoutMs?: number;
  /**
   * PostgreSQL only: a read replica (a hot standby): never creates `schema`
   * (the primary does; a standby refuses any DDL) and connects only when first used.
   */
  replica?: boolean;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (!opts.url) return openPGlite(opts.dataDir);
  // Accept Prisma's `?schema=name` convention in DATABASE_URL.
  const url = new URL(opts.url);
  const schema = opts.schema ?? (url.searchParams.get("schema") || undefined);
  url.searchParams.delete("schema");
  return openPostgres(url.toString(), { ...opts, schema });
}

// PostgreSQL's shared buffers live in PGlite's WebAssembly memory, which never
// shrinks: its default 128 MB fills as the site is read and stays in the
// process's RSS. 16 MB keeps an embedded instance small; the operating system's
// page cache still holds the data files.
const PGLITE_OPTIONS = { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] };

async function openPGlite(dataDir?: string): Promise<Database> {
  let pglite: PGlite;
  if (dataDir) {
    // PGlite creates its own directory but not the parent.
    fs.mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true });
    pglite = new PGlite(dataDir, PGLITE_OPTIONS);
  } else {
    pglite = new PGlite(PGLITE_OPTIONS);
  }
  await pglite.waitReady;
  // pglite-prisma-adapter 0.6 is typed against an older driver-adapter-utils
  // than Prisma 6.19's; the runtime contract is the same (tested both ways).
  const adapter = new PrismaPGlite(pglite) as unknown as PrismaPg;
  // One connection: transactions queue behind each other, so a write burst
  // waits its turn (as long as a PostgreSQL pool's default connect timeout)
  // rather than failing after Prisma's default 2 s.
  const prisma = new PrismaClient({ adapter: countingAdapterFactory(adapter), transactionOptions: { maxWait: 5000 } });
  const conn: RawConnection = {
    async query(sql, params) {
      countStatements();
      return (await pglite.query(sql, params)).rows as never;
    },
    async exec(sql) {
      // One round trip, however many statements the script holds.
      countStatements();
      await pglite.exec(sql);
    },
  };
  return {
    kind: "pglite",
    prisma,
    // Straight to PGlite: its query() waits while a transaction (Prisma's
    // interactive ones use PGlite's transaction()) holds the connection, so it
    // never runs inside another request's transaction. Never call it from
    // inside a transaction of one's own: it would wait for itself.
    async read(sql, params = []) {
      countStatements();
      return (await pglite.query(sql, params)).rows as never;
    },
    // A PGlite instance is a single connection already.
    withConnection: (fn) => fn(conn),
    // PGlite delivers a notification to its own listeners when the notifying transaction commits.
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, (payload) => onNotify(payload));
      return async () => {
        if (!pglite.closed) await unlisten();
      };
    },
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

// pg treats a query_timeout of 0 as "use the pool's"; the largest timer
// Node accepts (about 24 days) stands for none.
const NO_TIMEOUT_MS = 2 ** 31 - 1;

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const schema = opts.schema;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const statementTimeout = opts.statementTimeoutMs ?? 15000;
  const connectTimeout = opts.connectTimeoutMs ?? 5000;
  // Without these a hanging or overloaded server holds every request (and
  // /readyz) for as long as the kernel keeps the socket; with them requests
  // fail fast and answer 503 (see http/errors.ts).
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // Unqualified names (the migrations' and raw queries') resolve in the schema.
    options: schema ? `-c search_path=${schema}` : undefined,
    connectionTimeoutMillis: connectTimeout,
    statement_timeout: statementTimeout,
    // Client-side backstop for a server that never sees the statement (a
    // network partition): statement_timeout cannot fire there.
    query_timeout: statementTimeout ? statementTimeout + connectTimeout : undefined,
    idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 30000,
    // Notices a peer that vanished without closing the connection.
    keepAlive: true,
  });
  // An idle client that loses its server must not crash the process.
  pool.on("error", () => {});
  // Its usage, for /metrics (src/observability), until the database closes.
  const unregisterPool = registerPool(opts.replica ? `replica:${new URL(url).host}` : "primary", () => ({
    total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10,
  }));
  if (schema && !opts.replica) {
    const c = await pool.connect();
    try {
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).catch((err: { code?: string }) => {
        // Two processes starting at once both try; the loser gets a unique
        // violation on the catalog, and the schema exists either way.
        if (err.code !== "23505") throw err;
      });
    } finally {
      c.release();
    }
  }
  const prisma = new PrismaClient({
    adapter: countingAdapterFactory(new PrismaPg(pool, schema ? { schema } : undefined)),
    // An interactive transaction waits for a pooled connection as long as a
    // plain query does (the pool's connectionTimeoutMillis), not Prisma's
    // default 2 s: under a burst the shorter wait turned queued writes into
    // 503s while reads on the same pool still waited and succeeded.
    transactionOptions: { maxWait: connectTimeout },
  });
  const listeners = new Set<() => Promise<void>>();
  return {
    kind: "postgresql",
    prisma,
    async read(sql, params) {
      countStatements();
      return (await pool.query(sql, params as unknown[])).rows;
    },
    async listen(channel, onNotify, onError) {
      // Named, so an operator can tell it in pg_stat_activity from pooled connections.
      const name = `dateline-listener${schema ? `:${schema}` : ""}`;
      const stop = await listenPostgres(url, name, connectTimeout, channel, onNotify, onError);
      const once = async () => {
        listeners.delete(once);
        await stop();
      };
      listeners.add(once);
      return once;
    },
    async withConnection(fn) {
      const client = await pool.connect();
      // Migrations and advisory-lock waits may rightly take longer than any
      // request: no statement or query timeout on this connection while it is lent.
      // (pg reads query_timeout from the query config; @types/pg does not list it.)
      const untimed = (text: string, values?: unknown[]) => {
        countStatements();
        return client.query({ text, values, query_timeout: NO_TIMEOUT_MS } as pg.QueryConfig);
      };
      let broken: Error | undefined;
      try {
        if (statementTimeout) await untimed("SET statement_timeout = 0");
        return await fn({
          async query(sql, params) {
            return (await untimed(sql, params)).rows;
          },
          async exec(sql) {
            await untimed(sql);
          },
        });
      } finally {
        if (statementTimeout) {
          await untimed("RESET statement_timeout").catch((err: Error) => (broken = err));
        }
        // A connection that could not be reset is destroyed, not pooled.
        client.release(broken);
      }
    },
    async close() {
      await Promise.all([...listeners].map((stop) => stop()));
      unregisterPool();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * A LISTEN on a connection of its own: a pooled one would be handed to other
 * queries, and a session's LISTEN ends with its connection. When the
 * connection is lost it reconnects with backoff and LISTENs again, then calls
 * `onNotify` once so the caller reads whatever it missed meanwhile. The first
 * connection failing is not fatal either: it keeps trying in the background
 * (the caller's polling covers the gap).
 */
async function listenPostgres(
  url: string, applicationName: string, connectTimeoutMs: number, channel: string,
  onNotify: (payload?: string) => void, onError?: (err: Error) => void,
): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let delay = RECONNECT_MIN_MS;

  const connect = async (first: boolean): Promise<void> => {
    const c = new pg.Client({
      connectionString: url, application_name: applicationName, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true,
    });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (err) onError?.(err);
      c.removeAllListeners("notification");
      c.end().catch(() => {});
      if (client === c) client = undefined;
      if (!stopped) schedule();
    };
    c.on("error", onLost);
    c.on("end", () => onLost());
    c.on("notification", (n) => {
      if (n.channel === channel) onNotify(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (stopped) {
      c.removeAllListeners("end");
      await c.end().catch(() => {});
      return;
    }
    // Listening alone must not keep a process alive (one that failed to start
    // and never reached close(), a test that threw): whatever else it does does.
    (c as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    client = c;
    delay = RECONNECT_MIN_MS;
    if (!first) onNotify();
  };
  const schedule = () => {
    if (retry || stopped) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect(false);
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  await connect(true);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const c = client;
    client = undefined;
    if (c) {
      c.removeAllListeners("end");
      await c.end().catch(() => {});
    }
  };
}

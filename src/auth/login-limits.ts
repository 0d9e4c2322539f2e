// Failed-login limits. Three sliding-window counts of failed password checks
// (LOGIN_WINDOW_SECONDS), each answering 429 with Retry-After when reached:
//
//   per account from one client address   LOGIN_MAX_FAILURES_PER_ACCOUNT (5)
//   per client address, over all accounts LOGIN_MAX_FAILURES_PER_IP (20)
//   per account, over all addresses       LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL (100),
//     not applied to a known client: an address the account signed in from
//     within REFRESH_TTL_SECONDS
//
// So a guesser is slowed down per address, a botnet per account, and neither
// can lock the owner out of their usual address. A client address is req.ip,
// counted by its network (IPv6 by /64: see http/client-hash.ts).
//
// Counting and checking are one atomic step, across instances: a short
// transaction takes advisory locks on the account and the address (always in
// the same order, so two never deadlock), counts the window and, if allowed,
// inserts a row BEFORE the password is verified. The row is the failure
// record: a success deletes it, a failure keeps it, and a crash mid-check
// leaves it counted. The password is hashed outside any transaction.
import crypto from "node:crypto";
import type { Config } from "../config.ts";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import { clientNetwork } from "../http/client-hash.ts";
import { HttpError } from "../http/errors.ts";
import type { TokenService } from "./tokens.ts";

type Db = PrismaClient | Prisma.TransactionClient;

type LimitConfig = Pick<
  Config,
  | "LOGIN_WINDOW_SECONDS"
  | "LOGIN_MAX_FAILURES_PER_ACCOUNT"
  | "LOGIN_MAX_FAILURES_PER_IP"
  | "LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL"
  | "REFRESH_TTL_SECONDS"
>;

/** What the limits count by: a keyed hash of the normalized email, and the client's network. */
export interface LoginKeys {
  account: string;
  address: string;
}

/** A 64-bit advisory lock key for one limit key (collisions only serialize more). */
function lockKey(kind: string, key: string): bigint {
  return crypto.createHash("sha256").update(`dateline:login:${kind}:${key}`).digest().readBigInt64BE(0);
}

type Scope = "account-address" | "address" | "account";

const MESSAGES: Record<Scope, string> = {
  "account-address": "Too many failed logins for this account from your address",
  address: "Too many failed logins from this address",
  account: "Too many failed logins for this account",
};

/** A reserved attempt: resolve it with `succeeded` (in the transaction that signs in), or leave it as a failure. */
export interface Attempt {
  succeeded(tx: Db): Promise<void>;
}

export interface LoginLimiter {
  /** The limit keys of an email (as typed; normalized by the caller) and client address. */
  keys(email: string, ip: string | null): LoginKeys;
  /** Whether `editorId` signed in from this address within REFRESH_TTL_SECONDS. */
  isKnownClient(editorId: number | undefined, address: string): Promise<boolean>;
  /** Counts and reserves one attempt atomically; throws 429 when a limit is reached. */
  begin(keys: LoginKeys, knownClient: boolean): Promise<Attempt>;
}

// Expired rows are deleted by age, at most this often per process.
const CLEANUP_INTERVAL_MS = 60_000;

export function createLoginLimiter(prisma: PrismaClient, tokens: TokenService, config: LimitConfig): LoginLimiter {
  const window = config.LOGIN_WINDOW_SECONDS;
  let lastCleanup = 0;

  async function cleanup() {
    if (Date.now() - lastCleanup < CLEANUP_INTERVAL_MS) return;
    lastCleanup = Date.now();
    await prisma.$executeRaw`DELETE FROM "LoginAttempt" WHERE "createdAt" < clock_timestamp() - make_interval(secs => ${window})`;
  }

  /** Seconds until the count of `where` drops below `max` again. */
  async function retryAfter(tx: Db, where: Prisma.Sql, max: number): Promise<number> {
    const rows = await tx.$queryRaw<{ wait: number }[]>`
      SELECT ceil(extract(epoch FROM "createdAt" + make_interval(secs => ${window}) - clock_timestamp()))::int AS wait
        FROM "LoginAttempt"
       WHERE ${where} AND "createdAt" > clock_timestamp() - make_interval(secs => ${window})
       ORDER BY "createdAt" DESC OFFSET ${max - 1} LIMIT 1`;
    return Math.max(1, rows[0]?.wait ?? 1);
  }

  return {
    keys(email, ip) {
      return { account: tokens.keyedHash("login-account", email), address: clientNetwork(ip) };
    },

    async isKnownClient(editorId, address) {
      // Runs for unknown emails too (id 0 matches nothing), so its cost does
      // not tell which accounts exist.
      const rows = await prisma.session.findMany({
        where: {
          editorId: editorId ?? 0,
          ip: { not: null },
          createdAt: { gte: new Date(Date.now() - config.REFRESH_TTL_SECONDS * 1000) },
        },
        distinct: ["ip"],
        select: { ip: true },
        orderBy: { createdAt: "desc" },
        take: 100,
      });
      return rows.some((r) => clientNetwork(r.ip) === address);
    },

    async begin(keys, knownClient) {
      await cleanup();
      const outcome = await prisma.$transaction(async (tx) => {
        const locks = [lockKey("account", keys.account), lockKey("address", keys.address)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const k of locks) await tx.$executeRaw`SELECT 1 FROM pg_advisory_xact_lock(${k.toString()}::bigint)`;
        // A statement after the locks: it sees every reservation committed by
        // the previous holder (READ COMMITTED takes a snapshot per statement).
        const [counts] = await tx.$queryRaw<{ pair: number; address: number; account: number }[]>`
          SELECT count(*) FILTER (WHERE "accountKey" = ${keys.account} AND "addressKey" = ${keys.address})::int AS pair,
                 count(*) FILTER (WHERE "addressKey" = ${keys.address})::int AS address,
                 count(*) FILTER (WHERE "accountKey" = ${keys.account})::int AS account
            FROM "LoginAttempt"
           WHERE ("accountKey" = ${keys.account} OR "addressKey" = ${keys.address})
             AND "createdAt" > clock_timestamp() - make_interval(secs => ${window})`;
        const reached: [Scope, Prisma.Sql, number][] = [];
        if (counts.pair >= config.LOGIN_MAX_FAILURES_PER_ACCOUNT) {
          reached.push(["account-address", Prisma.sql`"accountKey" = ${keys.account} AND "addressKey" = ${keys.address}`, config.LOGIN_MAX_FAILURES_PER_ACCOUNT]);
        }
        if (counts.address >= config.LOGIN_MAX_FAILURES_PER_IP) {
          reached.push(["address", Prisma.sql`"addressKey" = ${keys.address}`, config.LOGIN_MAX_FAILURES_PER_IP]);
        }
        if (!knownClient && counts.account >= config.LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL) {
          reached.push(["account", Prisma.sql`"accountKey" = ${keys.account}`, config.LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL]);
        }
        if (reached.length) {
          // Allowed again once every reached limit has room: the longest wait.
          let wait = 0;
          let scope: Scope = reached[0][0];
          for (const [s, where, max] of reached) {
            const w = await retryAfter(tx, where, max);
            if (w > wait) [wait, scope] = [w, s];
          }
          return { ok: false as const, wait, scope };
        }
        const [row] = await tx.$queryRaw<{ id: number }[]>`
          INSERT INTO "LoginAttempt" ("accountKey", "addressKey", "createdAt")
          VALUES (${keys.account}, ${keys.address}, clock_timestamp()) RETURNING "id"`;
        return { ok: true as const, id: row.id };
      });
      if (!outcome.ok) {
        throw new HttpError(429, "too-many-login-attempts", `${MESSAGES[outcome.scope]}; try again in ${outcome.wait} seconds.`,
          undefined, { "Retry-After": String(outcome.wait) });
      }
      return {
        async succeeded(tx) {
          // The reservation and earlier failures of this account from this
          // address: the owner who mistyped and then got it right starts afresh.
          await tx.$executeRaw`
            DELETE FROM "LoginAttempt"
             WHERE "id" = ${outcome.id} OR ("accountKey" = ${keys.account} AND "addressKey" = ${keys.address})`;
        },
      };
    },
  };
}

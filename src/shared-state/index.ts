// State that must hold across instances (README "Running several
// instances"). With REDIS_URL it lives in Redis; without, in this process,
// exactly as a single instance always kept it.
//
// What is here is only what has no other shared home: the view beacon's
// de-duplication and limits. Everything else that must agree across
// instances already lives in the database (comment and login limits,
// sessions, scheduled publishing, the durable event consumers) or is a
// per-instance cache dropped by change events, which every instance reads
// from the database (response cache, section tree, the beacon's slug cache).
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import { localBeaconGate, type BeaconGate, type BeaconLimits } from "./beacon-gate.ts";
import { redisBeaconGate } from "./redis-beacon-gate.ts";
import { connectRedis, printableRedisUrl, type RedisHealth, type SharedRedis } from "./redis.ts";

export { redisHealth, type RedisHealth } from "./redis.ts";
export type { BeaconGate, BeaconLimits, ViewOutcome } from "./beacon-gate.ts";

export interface SharedState {
  /** "redis" when REDIS_URL is set (even while Redis is unreachable), else "process". */
  kind: "redis" | "process";
  /** The view beacon's gate: shared in Redis, or this process's own. */
  beaconGate(limits: BeaconLimits): BeaconGate;
  health(): RedisHealth;
  close(): Promise<void>;
}

/** What each instance keeps for itself without REDIS_URL: logged at start on PostgreSQL, and in the several-instances warning. */
export const PER_INSTANCE_WITHOUT_REDIS = [
  "view-beacon de-duplication (a reader may be counted once per instance)",
  "view-beacon rate limits and per-address caps (each instance grants the full budget)",
];

export function processSharedState(): SharedState {
  return {
    kind: "process",
    beaconGate: (limits) => localBeaconGate(limits),
    health: () => ({ configured: false, connected: false, connectedSince: null, lastError: null, lastErrorAt: null, failedCommands: 0 }),
    close: async () => {},
  };
}

export function redisSharedState(redis: SharedRedis): SharedState {
  return {
    kind: "redis",
    beaconGate: (limits) => redisBeaconGate(redis, limits),
    health: () => redis.health(),
    close: () => redis.close(),
  };
}

type SharedStateConfig = Pick<Config, "REDIS_URL" | "REDIS_KEY_PREFIX" | "REDIS_COMMAND_TIMEOUT_MS">;

/** Redis when REDIS_URL is set (connecting in the background: start-up does not wait), else this process. */
export function createSharedState(config: SharedStateConfig, logger: Logger): SharedState {
  if (!config.REDIS_URL) return processSharedState();
  logger.info({ redis: printableRedisUrl(config.REDIS_URL), keyPrefix: config.REDIS_KEY_PREFIX }, "shared state in Redis");
  return redisSharedState(connectRedis({
    url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, logger,
  }));
}

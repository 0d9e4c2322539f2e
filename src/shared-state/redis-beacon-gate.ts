// The beacon gate (beacon-gate.ts) in Redis: the same rule as in process,
// decided in one Lua script per beacon, so it is one round trip and atomic
// across instances (two instances cannot both count one reader).
//
// Keys (under REDIS_KEY_PREFIX), each expiring by itself:
//   views:rate:<network>             beacons this minute (fixed window from the first)
//   views:seen:<reader>:<article>    the reader counted; lives VIEW_DEDUP_SECONDS
//   views:cap:<network>:<article>    views counted from the network; lives one cap window
// The values are keyed hashes (http/client-hash.ts): no address is stored.
// Every instance must hash with the same key, i.e. run with the same JWT_SECRET.
//
// When a command fails (Redis down or slow), the beacon is decided by this
// instance's in-process gate instead: counting goes on, de-duplicated and
// limited per instance until Redis answers again.
import type { Redis } from "ioredis";
import { capWindowMs, localBeaconGate, RATE_WINDOW_MS, type BeaconGate, type BeaconLimits, type ViewOutcome } from "./beacon-gate.ts";
import type { SharedRedis } from "./redis.ts";

// KEYS: rate, seen, cap. ARGV: rate max, rate window ms, dedup ms (0: off), cap max, cap window ms.
// Counters past their limit still grow; the outcome is the same as in process.
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 'rate-limited' end
local dedup = tonumber(ARGV[3])
if dedup > 0 and redis.call('EXISTS', KEYS[2]) == 1 then return 'duplicate' end
local c = redis.call('INCR', KEYS[3])
if c == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[5]) end
if c > tonumber(ARGV[4]) then return 'capped' end
if dedup > 0 then redis.call('SET', KEYS[2], '1', 'PX', dedup) end
return 'counted'
`;

type WithBeacon = Redis & {
  datelineBeacon(rate: string, seen: string, cap: string, ...args: (string | number)[]): Promise<string>;
};

const OUTCOMES = new Set<ViewOutcome>(["counted", "duplicate", "capped", "rate-limited"]);

export function redisBeaconGate(redis: SharedRedis, limits: BeaconLimits): BeaconGate {
  const client = redis.client as WithBeacon;
  if (typeof client.datelineBeacon !== "function") {
    client.defineCommand("datelineBeacon", { numberOfKeys: 3, lua: SCRIPT });
  }
  const fallback = localBeaconGate(limits);
  const dedupMs = limits.dedupSeconds * 1000;
  const capMs = capWindowMs(limits);

  return {
    async admit(articleId, network, reader) {
      try {
        const outcome = await client.datelineBeacon(
          `views:rate:${network}`, `views:seen:${reader}:${articleId}`, `views:cap:${network}:${articleId}`,
          limits.rateMaxPerMinute, RATE_WINDOW_MS, dedupMs, limits.maxPerNetworkPerArticle, capMs,
        );
        if (OUTCOMES.has(outcome as ViewOutcome)) return outcome as ViewOutcome;
        throw new Error(`unexpected answer from the beacon script: ${String(outcome)}`);
      } catch (err) {
        redis.failed(err);
        return fallback.admit(articleId, network, reader);
      }
    },
  };
}

// Who may count a read: the view beacon's rate limit, per-reader
// de-duplication and per-network cap (src/views/counter.ts buffers what
// passes). Two implementations of one rule: in this process (below; one
// instance, or any instance while Redis is unreachable) and in Redis
// (redis-beacon-gate.ts; shared by every instance).

export type ViewOutcome = "counted" | "duplicate" | "capped" | "rate-limited";

export interface BeaconLimits {
  /** A reader counts once per article within this many seconds (0: no de-duplication). */
  dedupSeconds: number;
  /** Beacons accepted per network per minute. */
  rateMaxPerMinute: number;
  /**
   * Views one network may add to one article per de-duplication period (per
   * minute when de-duplication is off). Readers behind one address are told
   * apart by their User-Agent, which the client chooses: without this cap one
   * client rotating it could count without bound.
   */
  maxPerNetworkPerArticle: number;
  /**
   * In process only: most (reader, article) pairs, (network, article) pairs
   * and networks remembered, each; past it the oldest are forgotten first, so
   * a flood of distinct clients cannot exhaust memory (at worst it lets a
   * forgotten client count again). Default 200,000. Redis expires its keys.
   */
  maxTracked?: number;
  /** Milliseconds since the epoch; tests move time with it (in process only). */
  now?: () => number;
}

export const RATE_WINDOW_MS = 60_000;
const PRUNE_EVERY_MS = 10_000;

/**
 * Decides one beacon. `network` keys the limits (see http/client-hash.ts),
 * `reader` the de-duplication. Every beacon uses up the network's budget,
 * duplicates included; a capped reader is not remembered as seen (it was
 * never counted).
 */
export interface BeaconGate {
  admit(articleId: number, network: string, reader: string): ViewOutcome | Promise<ViewOutcome>;
}

/** The window (ms) of the per-network, per-article cap. */
export const capWindowMs = (limits: BeaconLimits) => (limits.dedupSeconds > 0 ? limits.dedupSeconds * 1000 : RATE_WINDOW_MS);

/** A gate that answers at once (in this process). */
export interface LocalBeaconGate extends BeaconGate {
  admit(articleId: number, network: string, reader: string): ViewOutcome;
}

/** The gate in this process's memory: exact for one instance, per instance for several. */
export function localBeaconGate(limits: BeaconLimits): LocalBeaconGate {
  const clock = limits.now ?? Date.now;
  const dedupMs = limits.dedupSeconds * 1000;
  const capMs = capWindowMs(limits);
  const maxTracked = limits.maxTracked ?? 200_000;

  // Every entry gets the same lifetime when it is (re)inserted, so Map
  // insertion order is expiry order: pruning stops at the first live entry and
  // evicting the first key evicts the oldest.
  const seen = new Map<string, number>(); // `${reader}:${articleId}` -> expires at
  const rate = new Map<string, { resetAt: number; n: number }>(); // network -> beacons this minute
  const perArticle = new Map<string, { resetAt: number; n: number }>(); // `${network}:${articleId}` -> views counted
  let lastPrune = clock();

  function prune(now: number) {
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    for (const [k, expires] of seen) {
      if (expires > now) break;
      seen.delete(k);
    }
    for (const windows of [rate, perArticle]) {
      for (const [k, r] of windows) {
        if (r.resetAt > now) break;
        windows.delete(k);
      }
    }
  }

  function evictOldest(map: Map<string, unknown>) {
    if (map.size <= maxTracked) return;
    // A tenth at a time, in one pass: evicting one key per insert restarts an
    // iterator that has to skip every slot deleted before, which turned a
    // 100k burst at the cap from ~0.1 s into seconds.
    let drop = map.size - Math.floor(maxTracked * 0.9);
    for (const k of map.keys()) {
      if (drop-- <= 0) break;
      map.delete(k);
    }
  }

  /** The fixed window of `key` (started by its first use), renewed once expired. */
  function windowOf(windows: Map<string, { resetAt: number; n: number }>, key: string, ms: number, now: number) {
    let w = windows.get(key);
    if (!w || w.resetAt <= now) {
      windows.delete(key);
      windows.set(key, (w = { resetAt: now + ms, n: 0 }));
      evictOldest(windows);
    }
    return w;
  }

  return {
    admit(articleId, network, reader) {
      const now = clock();
      prune(now);

      const r = windowOf(rate, network, RATE_WINDOW_MS, now);
      if (r.n >= limits.rateMaxPerMinute) return "rate-limited";
      r.n += 1;

      const key = `${reader}:${articleId}`;
      if (dedupMs > 0) {
        const expires = seen.get(key);
        if (expires !== undefined && expires > now) return "duplicate";
      }
      const cap = windowOf(perArticle, `${network}:${articleId}`, capMs, now);
      if (cap.n >= limits.maxPerNetworkPerArticle) return "capped";
      cap.n += 1;
      if (dedupMs > 0) {
        seen.delete(key);
        seen.set(key, now + dedupMs);
        evictOldest(seen);
      }
      return "counted";
    },
  };
}

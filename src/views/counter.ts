// Read counting for "Most Popular".
export interface ViewCounter {
  /** Counts a read unless it is a duplicate or over the client's rate; never waits on the database. */
  record(articleId: number, clientKey: string): "counted" | "duplicate" | "rate-limited";
  /** Writes buffered counts now. */
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and flushes what is buffered. */
  stop(): Promise<void>;
}

export interface ViewCounterOptions {
  flushIntervalMs: number;
  /** A client counts once per article within this many seconds. */
  dedupSeconds: number;
  /** Beacons accepted per client per minute. */
  rateMaxPerMinute: number;
}

// TODO(views): implementation.
export function createViewCounter(_prisma: unknown, _logger: unknown, _opts: ViewCounterOptions): ViewCounter {
  return { record: () => "counted", flush: async () => {}, start: () => {}, stop: async () => {} };
}

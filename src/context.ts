import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { MediaStorage } from "./media/storage.ts";
import type { ViewCounter } from "./views/counter.ts";
import type { EventBus } from "./events/bus.ts";
import type { BodySanitizer } from "./articles/sanitize-pool.ts";
import type { ClientHasher } from "./http/client-hash.ts";
import type { PublicReads } from "./db/replicas.ts";

/** What request handling needs; built once at start and passed down. */
export interface AppContext {
  config: Config;
  db: Database;
  prisma: PrismaClient;
  tokens: TokenService;
  logger: Logger;
  /** Where uploaded images are kept (local disk by default). */
  media: MediaStorage;
  /** Buffers read-beacon counts and flushes them in batches. */
  views: ViewCounter;
  /** Change events committed by any instance, as they arrive on this one. */
  events: EventBus;
  /** Sanitizes article bodies in worker threads, within size, structure and time limits. */
  sanitizer: BodySanitizer;
  /** Keyed hashes of a client's network (for limits) and of a reader (for de-duplication); raw values are never stored. */
  hashClient: ClientHasher;
  /**
   * Public reads on PostgreSQL read replicas (DATABASE_REPLICA_URLS); absent:
   * on the primary (`db`). Use through publicReads(ctx) (src/db/replicas.ts).
   */
  reads?: PublicReads;
}

import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import type { PrismaClient } from "./generated/prisma/client.ts";
import type { TokenService } from "./auth/tokens.ts";

/** What request handling needs; built once at start and passed down. */
export interface AppContext {
  config: Config;
  db: Database;
  prisma: PrismaClient;
  tokens: TokenService;
  logger: Logger;
}

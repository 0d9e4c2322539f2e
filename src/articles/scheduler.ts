// Publishes SCHEDULED articles when they fall due, empties the trash of
// articles past retention and prunes old change events. Each tick runs at most once at a time per process;
// several processes on one database are safe (see publishDue). A tick runs at
// start, so schedules missed while no instance was running publish at once.
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { publishDue, purgeExpiredTrash } from "./service.ts";
import { pruneEvents } from "../events/service.ts";

export interface SchedulerOptions {
  intervalMs: number;
  trashRetentionDays: number;
  /** Days change events are kept; unset keeps them (tests that build a Scheduler by hand). */
  eventRetentionDays?: number;
  /** How often to look for expired trash. */
  purgeEveryMs?: number;
}

export class Scheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  private lastPurge = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
    private readonly opts: SchedulerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    this.running = this.tick();
    await this.running;
    this.running = undefined;
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.opts.intervalMs);
  }

  /** One pass; errors are logged, never thrown, so the loop keeps going. */
  async tick(): Promise<number[]> {
    try {
      const published = await publishDue(this.prisma);
      if (published.length) this.logger.info({ articles: published }, "published scheduled articles");
      const now = Date.now();
      if (now - this.lastPurge >= (this.opts.purgeEveryMs ?? 3_600_000)) {
        this.lastPurge = now;
        const purged = await purgeExpiredTrash(this.prisma, this.opts.trashRetentionDays);
        if (purged) this.logger.info({ purged }, "purged expired trash");
        if (this.opts.eventRetentionDays) {
          const pruned = await pruneEvents(this.prisma, this.opts.eventRetentionDays);
          if (pruned) this.logger.info({ pruned }, "pruned old change events");
        }
      }
      return published;
    } catch (err) {
      this.logger.error({ err }, "scheduler tick failed");
      return [];
    }
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

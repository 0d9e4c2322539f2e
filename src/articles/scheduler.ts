// Publishes SCHEDULED articles when they fall due, empties the trash of
// articles past retention and prunes old change events. Each tick runs at most once at a time per process;
// several processes on one database are safe (see publishDue). A tick runs at
// start, so schedules missed while no instance was running publish at once.
//
// A schedule still unpublished more than a minute after it was due is a
// missed publish (the scheduler was down, stuck or failing on it): each tick
// looks for them before publishing, logs them as an error and counts them
// (dateline_scheduled_publish_missed_total, README "Metrics"), once per
// article and due time on each instance.
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { publishDue, purgeExpiredTrash } from "./service.ts";
import { releaseDue } from "./embargo.ts";
import { pruneEvents } from "../events/service.ts";
import { scheduledMissed, scheduledPublished, schedulerLastRun, schedulerRuns } from "../observability/metrics.ts";
import { MISSED_AFTER_SECONDS } from "../observability/collectors.ts";

export interface MissedSchedule {
  id: number;
  scheduledAt: Date;
}

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
  /** Missed schedules already reported: article id -> the due time reported (a new due time is a new miss). */
  private reported = new Map<number, number>();

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
      // Before publishing, so a schedule missed while no instance ran is reported before it goes out late.
      await this.checkMissed();
      const published = await publishDue(this.prisma);
      if (published.length) {
        scheduledPublished.inc(published.length);
        this.logger.info({ articles: published }, "published scheduled articles");
      }
      // After publishing: a story scheduled and embargoed for the same instant goes out in this tick.
      const released = await releaseDue(this.prisma);
      if (released.length) this.logger.info({ articles: released }, "released embargoed articles");
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
      schedulerRuns.inc({ result: "ok" });
      schedulerLastRun.set(Date.now() / 1000);
      return published;
    } catch (err) {
      schedulerRuns.inc({ result: "error" });
      this.logger.error({ err }, "scheduler tick failed");
      return [];
    }
  }

  /**
   * Finds SCHEDULED articles due more than a minute ago (one indexed query),
   * logs and counts those not reported yet, and returns them. Throws when the
   * database does (the tick logs it).
   */
  async checkMissed(): Promise<MissedSchedule[]> {
    const overdue = await this.prisma.$queryRaw<MissedSchedule[]>`
      SELECT id, "scheduledAt" FROM "Article"
       WHERE status = 'SCHEDULED' AND "deletedAt" IS NULL
         AND "scheduledAt" <= now() - make_interval(secs => ${MISSED_AFTER_SECONDS})
       ORDER BY "scheduledAt", id
       LIMIT 100`;
    const fresh = overdue.filter((a) => this.reported.get(a.id) !== a.scheduledAt.getTime());
    // Forget what is no longer overdue (published, rescheduled, trashed): the map stays as small as the backlog.
    const still = new Set(overdue.map((a) => a.id));
    for (const id of this.reported.keys()) if (!still.has(id)) this.reported.delete(id);
    if (!fresh.length) return [];
    for (const a of fresh) this.reported.set(a.id, a.scheduledAt.getTime());
    scheduledMissed.inc(fresh.length);
    this.logger.error({
      articles: fresh.map((a) => ({ id: a.id, scheduledAt: a.scheduledAt.toISOString() })),
      overdueSeconds: Math.round((Date.now() - fresh[0].scheduledAt.getTime()) / 1000),
    }, "scheduled publish missed: due more than a minute ago and still not published");
    return fresh;
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

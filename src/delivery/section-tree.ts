// The section tree as the delivery side sees it: loaded once per process and
// reloaded when a section change event arrives (any instance's write), never
// per request. A section this copy does not know yet (created on
// another instance a moment ago) triggers one reload, at most once a second,
// so a flood of unknown slugs cannot turn into a flood of queries.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { CommittedEvent, EventBus } from "../events/bus.ts";
import { loadTree, type SectionRow, type SectionTree } from "../sections/service.ts";

const MISS_RELOAD_MS = 1000;

/**
 * Events after which the tree (names, parents, order, pinned leads) may
 * differ. Not every event naming `section:<id>`: article events carry those
 * keys too, and must not cost each instance a reload.
 */
export const touchesSections = (e: Pick<CommittedEvent, "entityType" | "keys">) =>
  e.entityType === "section" || e.keys.includes("sections");

export class LiveSectionTree {
  private tree: SectionTree | undefined;
  private loading: Promise<SectionTree> | undefined;
  private generation = 0;
  private lastMissReload = 0;

  constructor(private readonly prisma: PrismaClient, events?: EventBus) {
    // Reloaded as the event is dispatched (a write on this instance waits for
    // that), so no reader pays for it and none sees the old tree afterwards.
    events?.subscribe(async (batch) => {
      if (!batch.some(touchesSections)) return;
      this.invalidate();
      await this.get();
    });
  }

  invalidate(): void {
    this.generation += 1;
    this.tree = undefined;
  }

  get(): Promise<SectionTree> {
    if (this.tree) return Promise.resolve(this.tree);
    if (!this.loading) {
      const gen = this.generation;
      this.loading = loadTree(this.prisma).then(
        (t) => {
          this.loading = undefined;
          // An event that arrived meanwhile may describe a change this read missed.
          if (gen === this.generation) this.tree = t;
          return t;
        },
        (err) => {
          this.loading = undefined;
          throw err;
        },
      );
    }
    return this.loading;
  }

  private async reloadOnMiss(): Promise<SectionTree> {
    const now = Date.now();
    if (now - this.lastMissReload < MISS_RELOAD_MS) return this.get();
    this.lastMissReload = now;
    this.invalidate();
    return this.get();
  }

  async bySlug(slug: string): Promise<{ tree: SectionTree; section: SectionRow | undefined }> {
    let tree = await this.get();
    if (!tree.bySlug.has(slug)) tree = await this.reloadOnMiss();
    return { tree, section: tree.bySlug.get(slug) };
  }

  /** A tree that knows every id in `ids`, if any does. */
  async knowing(ids: Iterable<number>): Promise<SectionTree> {
    const tree = await this.get();
    for (const id of ids) if (!tree.byId.has(id)) return this.reloadOnMiss();
    return tree;
  }
}

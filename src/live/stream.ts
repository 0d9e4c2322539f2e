// Server-Sent Events for live articles: GET /api/v1/articles/{slug}/entries/stream.
// One hub per app instance subscribes once to the change-event bus (which
// every instance reads, so an entry posted anywhere reaches readers
// connected anywhere). For each batch that touches entries of an article
// with readers connected here, it reads those entries once (one statement,
// however many readers) and writes them to every stream of that article.
import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { CommittedEvent, EventBus } from "../events/bus.ts";
import { entriesById, publicEntry, type PublicEntryRow } from "./service.ts";

export interface EntryStreamsOptions {
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /** Streams per instance; more answer 503. */
  maxStreams: number;
}

interface Client {
  res: Response;
  /** The newest change sequence this client has been sent: nothing at or below it is sent again. */
  lastSeq: number;
}

type EntryRows = (PublicEntryRow & { seq: number | bigint })[];

export interface EntryStreams {
  /**
   * Opens a stream for the article: `replay` first (changes after the
   * client's Last-Event-ID), then `ready`, then what `catchUp` finds after
   * `maxSeq` (committed between the caller's read and this subscription),
   * then every change as it is announced.
   */
  open(req: Request, res: Response, articleId: number, cursor: string, replay: EntryRows, maxSeq: number,
    catchUp: (afterSeq: number) => Promise<EntryRows>): void;
  readonly size: number;
  full(): boolean;
  /** Ends every stream and unsubscribes (the app is stopping). */
  close(): void;
}

const EVENT_NAMES: Record<string, string> = {
  "live-entry.created": "entry.created",
  "live-entry.updated": "entry.updated",
  "live-entry.deleted": "entry.deleted",
};

const articleOf = (e: CommittedEvent): number | undefined => {
  for (const k of e.keys) if (k.startsWith("entries:")) return Number(k.slice(8));
  return undefined;
};

function frame(res: Response, event: string, id: string | undefined, data: unknown) {
  res.write(`${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function createEntryStreams(prisma: PrismaClient, events: EventBus, logger: Logger, opts: EntryStreamsOptions): EntryStreams {
  const byArticle = new Map<number, Set<Client>>();
  let count = 0;
  let unsubscribe: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Batches are handled one after the other (entries reach readers in order)
  // but off the bus's own loop, so a slow read never delays cache invalidation.
  let chain: Promise<void> = Promise.resolve();

  async function deliver(batch: CommittedEvent[]) {
    const wanted = batch.filter((e) => EVENT_NAMES[e.type] && e.entityId !== null && byArticle.has(articleOf(e) ?? -1));
    if (!wanted.length) return;
    const rows = await entriesById(prisma, [...new Set(wanted.map((e) => e.entityId!))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const e of wanted) {
      const row = byId.get(e.entityId!);
      const clients = row && byArticle.get(row.articleId);
      if (!row || !clients) continue;
      // The row as it is now: a later change in the same batch wins, and a deleted entry is only ever a tombstone.
      const name = row.deleted ? "entry.deleted" : EVENT_NAMES[e.type] === "entry.deleted" ? "entry.updated" : EVENT_NAMES[e.type];
      const seq = Number(row.seq);
      for (const c of clients) {
        if (seq <= c.lastSeq) continue;
        c.lastSeq = seq;
        frame(c.res, name, String(seq), publicEntry(row));
      }
    }
  }

  function start() {
    unsubscribe = events.subscribe((batch) => {
      chain = chain.then(() => deliver(batch)).catch((err) => logger.warn({ err }, "live entry stream delivery failed"));
    });
    heartbeat = setInterval(() => {
      for (const clients of byArticle.values()) for (const c of clients) c.res.write(": heartbeat\n\n");
    }, opts.heartbeatMs);
    heartbeat.unref();
  }

  function stop() {
    unsubscribe?.();
    unsubscribe = undefined;
    clearInterval(heartbeat);
    heartbeat = undefined;
  }

  return {
    open(req, res, articleId, cursor, replay, maxSeq, catchUp) {
      if (!unsubscribe) start();
      res.status(200).set({
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        // nginx buffers proxied responses unless told not to.
        "X-Accel-Buffering": "no",
        Connection: "keep-alive",
      });
      res.flushHeaders();
      res.write(`retry: 5000\n\n`);
      // Oldest first, so a client applies them in order.
      for (const row of [...replay].reverse()) {
        frame(res, row.deleted ? "entry.deleted" : "entry.updated", String(row.seq), publicEntry(row));
      }
      frame(res, "ready", undefined, { cursor });
      const client: Client = { res, lastSeq: maxSeq };
      let set = byArticle.get(articleId);
      if (!set) byArticle.set(articleId, (set = new Set()));
      set.add(client);
      count += 1;
      // In the delivery queue, so it cannot overtake or repeat what the bus hands out meanwhile.
      chain = chain.then(async () => {
        if (res.writableEnded) return;
        for (const row of [...await catchUp(client.lastSeq)].reverse()) {
          const seq = Number(row.seq);
          if (seq <= client.lastSeq) continue;
          client.lastSeq = seq;
          frame(res, row.deleted ? "entry.deleted" : "entry.updated", String(seq), publicEntry(row));
        }
      }).catch((err) => logger.warn({ err }, "live entry stream catch-up failed"));
      req.on("close", () => {
        const s = byArticle.get(articleId);
        if (s?.delete(client)) count -= 1;
        if (s && !s.size) byArticle.delete(articleId);
        if (!count) stop();
      });
    },
    get size() {
      return count;
    },
    full: () => count >= opts.maxStreams,
    close() {
      stop();
      for (const clients of byArticle.values()) for (const c of clients) c.res.end();
      byArticle.clear();
      count = 0;
    },
  };
}


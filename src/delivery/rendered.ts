// The stored public JSON of each article ("PublishedArticle".json and etag):
// the bytes /api/v1/articles/{slug} sends, rendered ahead of the read so a
// cache-missing read is one statement and a socket write (no JSON parse,
// mapping, serialisation or hashing per request).
//
// What the bytes depend on beyond the row: the configuration (permalinks,
// media URLs, time zone, publisher...) and the section tree (section name,
// breadcrumb). Both are summed up in a render key; a row is served as stored
// only to a reader whose key matches, and any other reader renders the
// document itself, as before (still one statement). So nothing stale can be
// served: a write that changes the document clears the stored JSON in its own
// transaction (trigger), a section change changes every reader's key at once.
//
// The renderer (one per app instance) fills rows whose JSON is missing (after
// writes: woken by change events) and, once per key change (start-up, section
// tree change), re-renders rows carrying another key. Instances share the
// work (FOR UPDATE SKIP LOCKED). Two instances with different configuration
// on one database each serve the other's rows by rendering at read time; they
// never fight over them.
import crypto from "node:crypto";
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import type { EventBus } from "../events/bus.ts";
import type { PublicView } from "../articles/presentation.ts";
import { SectionTree } from "../sections/service.ts";
import type { LiveSectionTree } from "./section-tree.ts";
import type { ArticleDoc } from "./read-model.ts";
import { renderArticle } from "./render.ts";
import { rerunning } from "../events/rerunning.ts";

/**
 * The surrogate keys of an article's response: the article, its comment
 * count, its section and the stories it recommends, and the sections of its
 * translations (their permalinks follow their sections' slugs).
 */
export function articleKeys(doc: ArticleDoc, row: { relatedIds: number[] }): string[] {
  return [...new Set([`article:${doc.id}`, `comments:${doc.id}`, `section:${doc.sectionId}`,
    ...row.relatedIds.map((id) => `article:${id}`), ...(doc.alternates ?? []).map((x) => `section:${x.sectionId}`)])];
}

/** The strong ETag of a response body (the response cache uses the same). */
export function strongEtag(bytes: string | Buffer): string {
  return `"${crypto.createHash("sha256").update(bytes).digest("base64url").slice(0, 32)}"`;
}

const BATCH = 100;
const PASS_PAUSE_MS = 5;

type Due = { articleId: number; doc: ArticleDoc; status: string; commentCount: number; relatedIds: number[] };

/**
 * A fixed document rendered with the instance's view: its output changes
 * when the rendering code or any setting it reads changes, so the key does
 * too (a deploy that changes the article's JSON re-renders every row).
 */
function probe(view: PublicView): string {
  const image = { id: 1, storageKey: "probe.jpg", width: 4, height: 3, caption: "c", credit: "r", alt: "a", mimeType: "image/jpeg" };
  const doc = {
    id: 1, slug: "probe", headline: "Probe", summary: "s", dateline: "D", source: "A", byline: "B", body: "<p>b</p>",
    bodyText: "b", kind: "STORY", status: "PUBLISHED", publishedAt: "2013-06-08T06:55:00.000Z", updatedAt: "2013-06-08T07:00:00.000Z",
    commentsClosed: false, sectionId: 2, editors: [{ editor: { name: "E" } }], tags: [{ tag: { slug: "t", name: "T" } }],
    leadImage: image, gallery: [{ caption: "g", media: image }],
    related: [{ related: { slug: "r", headline: "R", kind: "ANALYSIS" } }], automatic: [],
  } as unknown as ArticleDoc;
  const tree = new SectionTree([
    { id: 1, slug: "english", name: "English", parentId: null, position: 0 },
    { id: 2, slug: "world", name: "World", parentId: 1, position: 0 },
  ] as never);
  try {
    return JSON.stringify(renderArticle(doc, { status: "PUBLISHED", commentCount: 1 }, tree, view));
  } catch (err) {
    // Rendering code that needs fields the probe lacks: key on the error, still deterministic.
    return `probe failed: ${(err as Error).message}`;
  }
}

/** What the section tree contributes to an article's JSON. */
function treeFingerprint(tree: SectionTree): string {
  return JSON.stringify([...tree.byId.values()]
    .map((s) => [s.id, s.slug, s.name, s.parentId, (s as { language?: string | null }).language ?? null])
    .sort((a, b) => (a[0] as number) - (b[0] as number)));
}

export interface ArticleRenderer {
  /** The key of this instance's rendering now (configuration, code and section tree). */
  key(): Promise<{ key: string; tree: SectionTree }>;
  /** Renders a document as this instance serves it: the bytes and their ETag. */
  render(doc: ArticleDoc, row: { status: string; commentCount: number }, tree: SectionTree): { json: string; etag: string };
  /**
   * "current" once every row has been rendered with this instance's key and
   * nothing is left to do; "rendering" before (reads render for themselves
   * meanwhile). Shown by /readyz.
   */
  status(): "current" | "rendering";
  /** Renders what is due now (tests and the rebuild command await it). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export function createArticleRenderer(
  deps: { db: Database; events?: EventBus; logger: Logger; sections: LiveSectionTree; view: PublicView },
  opts: { start?: boolean } = {},
): ArticleRenderer {
  const { db, logger, sections, view } = deps;
  const base = crypto.createHash("sha256").update(probe(view)).digest("base64url");
  let current: { key: string; tree: SectionTree } | undefined;
  async function key() {
    const tree = await sections.get();
    if (current?.tree !== tree) {
      current = { tree, key: crypto.createHash("sha256").update(base).update(treeFingerprint(tree)).digest("base64url").slice(0, 22) };
    }
    return current;
  }

  function render(doc: ArticleDoc, row: { status: string; commentCount: number }, tree: SectionTree) {
    const json = JSON.stringify(renderArticle(doc, row, tree, view));
    return { json, etag: strongEtag(json) };
  }

  /** Renders one batch chosen by `where`; returns the rows' ids (empty: nothing left). */
  async function batch(where: "stale" | "other-key", k: { key: string; tree: SectionTree }, after: number): Promise<number[]> {
    return db.prisma.$transaction(async (tx) => {
      const rows = where === "stale"
        ? await tx.$queryRaw<Due[]>`
            SELECT "articleId", doc, status::text AS status, "commentCount", "relatedIds" FROM "PublishedArticle"
             WHERE "renderKey" IS NULL ORDER BY "articleId" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`
        : await tx.$queryRaw<Due[]>`
            SELECT "articleId", doc, status::text AS status, "commentCount", "relatedIds" FROM "PublishedArticle"
             WHERE "articleId" > ${after} AND "renderKey" IS DISTINCT FROM ${k.key}
             ORDER BY "articleId" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
      if (!rows.length) return [];
      const out = rows.map((r) => ({ id: r.articleId, keys: articleKeys(r.doc, r).join(" "), ...render(r.doc, r, k.tree) }));
      await tx.$executeRaw`
        UPDATE "PublishedArticle" p SET json = x.json, etag = x.etag, "jsonKeys" = x.keys, "renderKey" = ${k.key}
          FROM unnest(${out.map((o) => o.id)}::int[], ${out.map((o) => o.json)}::text[], ${out.map((o) => o.etag)}::text[],
                      ${out.map((o) => o.keys)}::text[]) AS x(id, json, etag, keys)
         WHERE p."articleId" = x.id`;
      return out.map((o) => o.id);
    }, { timeout: 60_000 });
  }

  let stopped = false;
  /** The key whose full pass (rows under other keys) has been done. */
  let passedKey: string | undefined;

  async function workOnce(): Promise<void> {
    const k = await key();
    // Rows cleared by writes (few, right after the write).
    while (!stopped && (await batch("stale", k, 0)).length === BATCH);
    if (passedKey === k.key) return;
    let after = 0;
    let n = 0;
    for (;;) {
      if (stopped || (await key()).key !== k.key) break;
      const ids = await batch("other-key", k, after);
      if (!ids.length) break;
      n += ids.length;
      after = ids[ids.length - 1];
      // A full pass (every row after a deploy or section change) yields between batches:
      // live requests go first, and the collector keeps up instead of growing the heap.
      await new Promise((r) => setTimeout(r, PASS_PAUSE_MS));
    }
    if (!stopped && (await key()).key === k.key) {
      passedKey = k.key;
      if (n) logger.info({ articles: n }, "read model: rendered articles' public JSON");
    }
  }

  // One run at a time; an event meanwhile makes it run once more (src/events/rerunning.ts).
  const work = rerunning(async () => {
    try {
      await workOnce();
    } catch (err) {
      if (!stopped) logger.warn({ err }, "read model: rendering stored article JSON failed; reads render it themselves meanwhile");
    }
  }, { repeat: () => !stopped });

  function kick(): void {
    if (!stopped) void work();
  }

  const unsubscribe = deps.events?.subscribe(() => {
    kick();
  });
  if (opts.start !== false) kick();

  return {
    key,
    render,
    status: () => (!work.running && current && passedKey === current.key ? "current" : "rendering"),
    async drain() {
      kick();
      while (work.running) await work.running;
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      await work.running;
    },
  };
}

// Live coverage routes: entries in the editor API, and the public list
// (cheap to poll: one statement, cached in process and by CDNs under
// entries:<articleId>, ETag/304) and its Server-Sent Events stream.
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { badRequest, HttpError, notFound } from "../http/errors.ts";
import { decodeCursor, encodeCursor, pageQuery, paginate } from "../http/pagination.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { idSchema, route, slugParams } from "../http/validate.ts";
import { publicStatuses } from "../articles/service.ts";
import { surrogateKeys } from "../delivery/response-cache.ts";
import { publicReads } from "../db/replicas.ts";
import {
  adminEntry, createEntry, deleteEntry, entriesKey, entryPage, getEntry, listEntries, publicEntry, updateEntry,
  type EntryPage, type EntryPageMode, type EntryRow,
} from "./service.ts";
import { createEntryStreams, type EntryStreams } from "./stream.ts";

const title = z.string().trim().max(300).nullable().transform((v) => (v === "" ? null : v));
// At most BODY_HTML_MAX_CHARS, checked with its structure by ctx.sanitizer.
const entryFields = { title, body: z.string().min(1), keyEvent: z.boolean(), pinned: z.boolean() };
const createBody = z.strictObject({ ...entryFields, title: title.optional(), keyEvent: z.boolean().optional(), pinned: z.boolean().optional() });
const updateBody = z.strictObject(entryFields).partial();
const entryParams = z.object({ id: idSchema, entryId: idSchema });
const adminListQuery = z.object({ ...pageQuery, deleted: z.enum(["exclude", "include", "only"]).default("include") });

export function adminLiveRoutes(ctx: AppContext): Router {
  const r = Router();
  const send = (res: import("express").Response, e: EntryRow, status = 200) => {
    setEtag(res, e.version);
    res.status(status).json(adminEntry(e));
  };
  r.post("/articles/:id/entries", route({ params: z.object({ id: idSchema }), body: createBody }, async ({ params, body }, req, res) => {
    const e = await createEntry(ctx.prisma, ctx.sanitizer, req.editor!, params.id, body);
    res.location(`/api/v1/admin/articles/${params.id}/entries/${e.id}`);
    send(res, e, 201);
  }));
  // Every entry of the article, drafts' included (the public list serves published articles only).
  r.get("/articles/:id/entries", route({ params: z.object({ id: idSchema }), query: adminListQuery }, async ({ params, query }, req, res) => {
    const rows = await listEntries(ctx.prisma, req.editor!, params.id, {
      limit: query.limit, beforeId: decodeCursor(query.cursor)?.id, deleted: query.deleted,
    });
    const { page, nextCursor } = paginate(rows, query.limit, (e) => ({ id: e.id }));
    res.json({ data: page.map(adminEntry), meta: { nextCursor } });
  }));
  r.get("/articles/:id/entries/:entryId", route({ params: entryParams }, async ({ params }, req, res) => {
    send(res, await getEntry(ctx.prisma, req.editor!, params.id, params.entryId));
  }));
  r.patch("/articles/:id/entries/:entryId", route({ params: entryParams, body: updateBody }, async ({ params, body }, req, res) => {
    send(res, await updateEntry(ctx.prisma, ctx.sanitizer, req.editor!, params.id, params.entryId, body, parseIfMatch(req)));
  }));
  r.delete("/articles/:id/entries/:entryId", route({ params: entryParams }, async ({ params }, req, res) => {
    await deleteEntry(ctx.prisma, req.editor!, params.id, params.entryId, parseIfMatch(req));
    res.status(204).end();
  }));
  return r;
}

// ?since= cursors name a change sequence number; ?before= cursors an entry id (http/pagination.ts).
const encodeSince = (seq: number) => Buffer.from(JSON.stringify({ s: seq })).toString("base64url");
function decodeSince(raw: string, path = "query.since"): number {
  try {
    const v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as { s?: unknown };
    if (typeof v.s === "number" && Number.isSafeInteger(v.s) && v.s >= 0) return v.s;
  } catch {
    // Falls through to the 400.
  }
  throw badRequest("The request is invalid.", [{ path, message: "Invalid cursor." }]);
}

const listQuery = z.object({
  since: z.string().max(200).optional(),
  before: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
}).refine((q) => !(q.since && q.before), { path: ["since"], message: "Use either since or before, not both." });

export interface PublicLiveOptions {
  heartbeatMs?: number;
  maxStreams?: number;
}

export function publicLiveRoutes(ctx: AppContext, opts: PublicLiveOptions = {}): { router: Router; streams: EntryStreams } {
  const r = Router();
  const statuses = publicStatuses(ctx.config.ARCHIVED_PUBLIC);
  const reads = publicReads(ctx);
  const streams = createEntryStreams(ctx.prisma, ctx.events, ctx.logger, {
    heartbeatMs: opts.heartbeatMs ?? 15_000, maxStreams: opts.maxStreams ?? 2_000,
  });

  const meta = (page: EntryPage, nextCursor: string | null, truncated: boolean) => ({
    cursor: encodeSince(page.maxSeq), nextCursor, truncated,
  });

  // 1 statement. Cached (response-cache.ts POLICIES) until an entry of the article, or the article, changes.
  r.get("/articles/:slug/entries", route({ params: slugParams, query: listQuery }, async ({ params, query }, req, res) => {
    let mode: EntryPageMode = { kind: "latest" };
    if (query.since) mode = { kind: "since", seq: decodeSince(query.since) };
    else if (query.before) mode = { kind: "before", id: decodeCursor(query.before)!.id };
    const page = await reads.run(req, (db) => entryPage(db.prisma, params.slug, statuses, mode, query.limit + 1));
    if (!page) throw notFound("Live article");
    surrogateKeys(res, [entriesKey(page.articleId), `article:${page.articleId}`]);
    const more = page.rows.length > query.limit;
    const rows = more ? page.rows.slice(0, query.limit) : page.rows;
    const nextCursor = mode.kind !== "since" && more ? encodeCursor({ id: rows[rows.length - 1].id }) : null;
    res.json({ data: rows.map(publicEntry), meta: meta(page, nextCursor, mode.kind === "since" && more) });
  }));

  // Server-Sent Events: entry.created / entry.updated / entry.deleted, each with the entry (a tombstone when deleted)
  // and its change sequence as the event id; Last-Event-ID (or ?since=) resumes after it.
  const streamQuery = z.object({ since: z.string().max(200).optional() });
  r.get("/articles/:slug/entries/stream", route({ params: slugParams, query: streamQuery }, async ({ params, query }, req, res) => {
    if (streams.full()) {
      throw new HttpError(503, "too-many-streams", "Too many live streams on this server; poll the entries instead.", undefined, { "Retry-After": "30" });
    }
    const lastId = req.headers["last-event-id"];
    let since: number | undefined;
    if (typeof lastId === "string" && lastId !== "") {
      if (!/^\d{1,15}$/.test(lastId)) throw badRequest("The request is invalid.", [{ path: "headers.last-event-id", message: "Must be an event id this stream sent." }]);
      since = Number(lastId);
    } else if (query.since) since = decodeSince(query.since);
    const page = await entryPage(ctx.prisma, params.slug, statuses, since === undefined ? { kind: "latest" } : { kind: "since", seq: since }, since === undefined ? 0 : 100);
    if (!page) throw notFound("Live article");
    streams.open(req, res, page.articleId, encodeSince(page.maxSeq), page.rows, page.maxSeq,
      async (afterSeq) => (await entryPage(ctx.prisma, params.slug, statuses, { kind: "since", seq: afterSeq }, 100))?.rows ?? []);
  }));

  return { router: r, streams };
}

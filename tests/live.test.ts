// Live coverage (issue 12 §6): entries in the editor API, the public list
// (newest first, since/before cursors, ETag/304, cache purged by a new
// entry, one statement), the Server-Sent Events stream, and the LIVE kind
// wherever kinds are listed.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

let t: TestApp;
let live: any;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "world");
  live = await makeArticle(t, { headline: "Election night live", section: "world", kind: "LIVE", slug: "election-night" });
  await publish(t, live.id);
});
after(() => t.close());

const entries = (id = live.id) => `/api/v1/admin/articles/${id}/entries`;
const post = (body: Record<string, unknown>, token = t.editor.token, id = live.id) => t.post(entries(id), body, { token });
const list = (query = "", headers: Record<string, string> = {}) => t.get(`/api/v1/articles/election-night/entries${query}`, { headers });

describe("live entries: the editor API", () => {
  it("posts an entry: sanitized body, author = the editor, ETag = version", async () => {
    const res = await post({ title: "Polls open", body: "<p>Voting has begun.<script>alert(1)</script></p>", keyEvent: true });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.etag, '"1"');
    assert.match(res.headers.location, new RegExp(`/entries/${res.body.id}$`));
    assert.equal(res.body.body, "<p>Voting has begun.</p>");
    assert.equal(res.body.author.id, t.editor.id);
    assert.equal(res.body.keyEvent, true);
    assert.equal(res.body.pinned, false);
    assert.equal(res.body.title, "Polls open");
    const again = await t.get(`${entries()}/${res.body.id}`, { token: t.admin.token });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, res.body);
  });

  it("refuses bad input with 4xx problems, never 500", async () => {
    assert.equal((await post({})).status, 400);
    assert.equal((await post({ body: "<p>x</p>", pinned: "yes" })).status, 400);
    assert.equal((await post({ body: "<p>x</p>", extra: 1 })).status, 400);
    const empty = await post({ body: "<p> </p><script>x</script>" });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.errors[0].path, "body.body");
    const story = await makeArticle(t, { headline: "Not live", section: "world" });
    const notLive = await post({ body: "<p>x</p>" }, t.editor.token, story.id);
    assert.equal(notLive.status, 409);
    assert.equal(notLive.body.type, "urn:dateline:problem:not-live");
    assert.equal((await post({ body: "<p>x</p>" }, t.editor.token, 999999)).status, 404);
    assert.equal((await post({ body: "<p>x</p>" }, t.writer.token)).status, 403, "a writer posts only to their own live pages");
    assert.equal((await t.get(`${entries()}/999999`, { token: t.admin.token })).status, 404);
  });

  it("edits and deletes with If-Match (428 without, 412 when stale)", async () => {
    const e = (await post({ body: "<p>Typo hre.</p>" })).body;
    const path = `${entries()}/${e.id}`;
    assert.equal((await t.patch(path, { body: "<p>Typo here.</p>" }, { token: t.editor.token })).status, 428);
    assert.equal((await t.patch(path, { body: "<p>Typo here.</p>" }, { token: t.editor.token, headers: { "If-Match": '"7"' } })).status, 412);
    const fixed = await t.patch(path, { body: "<p>Typo here.</p>", pinned: true }, { token: t.editor.token, headers: { "If-Match": '"1"' } });
    assert.equal(fixed.status, 200, fixed.text);
    assert.equal(fixed.body.version, 2);
    assert.equal(fixed.body.pinned, true);
    assert.equal(fixed.headers.etag, '"2"');
    assert.equal((await t.del(path, { token: t.editor.token })).status, 428);
    assert.equal((await t.del(path, { token: t.editor.token, headers: { "If-Match": '"2"' } })).status, 204);
    assert.equal((await t.get(path, { token: t.editor.token })).status, 404);
    assert.equal((await t.del(path, { token: t.editor.token, headers: { "If-Match": '"3"' } })).status, 404);
  });

  it("an entry does not rewrite the parent article: no article event, same version, same read-model row", async () => {
    const beforeRow = await t.db.prisma.publishedArticle.findUniqueOrThrow({ where: { articleId: live.id }, select: { builtAt: true } });
    const version = (await t.get(`/api/v1/admin/articles/${live.id}`, { token: t.admin.token })).body.version;
    const lastEvent = await t.db.prisma.changeEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true } });
    assert.equal((await post({ body: "<p>Turnout is high.</p>" })).status, 201);
    const afterRow = await t.db.prisma.publishedArticle.findUniqueOrThrow({ where: { articleId: live.id }, select: { builtAt: true } });
    assert.equal(afterRow.builtAt.getTime(), beforeRow.builtAt.getTime());
    assert.equal((await t.get(`/api/v1/admin/articles/${live.id}`, { token: t.admin.token })).body.version, version);
    const events = await t.db.prisma.changeEvent.findMany({ where: { id: { gt: lastEvent!.id } } });
    assert.deepEqual(events.map((e) => [e.type, e.keys]), [["live-entry.created", [`entries:${live.id}`]]]);
    const listed = await t.get("/api/v1/admin/events?entityType=live-entry&after=0&limit=100", { token: t.admin.token });
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.body.data.some((e: any) => e.type === "live-entry.created"));
    const audited = await t.get("/api/v1/admin/audit?targetType=live-entry", { token: t.admin.token });
    assert.equal(audited.status, 200, audited.text);
    assert.ok(audited.body.data.some((e: any) => e.action === "live-entry.create"));
  });
});

describe("live entries: the editor's list (GET /admin/articles/{id}/entries)", () => {
  const adminList = (id: number, query = "", token = t.editor.token) => t.get(`${entries(id)}${query}`, token ? { token } : {});

  it("lists a draft's entries newest first, pinned, key and deleted ones flagged; the public list still 404s", async () => {
    const draft = await makeArticle(t, { headline: "Storm watch live", section: "world", kind: "LIVE", slug: "storm-watch" });
    const a = (await post({ title: "Warning issued", body: "<p>Gales are expected tonight.</p>", keyEvent: true }, t.editor.token, draft.id)).body;
    const b = (await post({ body: "<p>Ferries are cancelled.</p>", pinned: true }, t.admin.token, draft.id)).body;
    const c = (await post({ body: "<p>Wrong harbour named.</p>" }, t.editor.token, draft.id)).body;
    assert.equal((await t.del(`${entries(draft.id)}/${c.id}`, { token: t.editor.token, headers: { "If-Match": '"1"' } })).status, 204);
    assert.equal((await t.get("/api/v1/articles/storm-watch/entries")).status, 404);

    const res = await adminList(draft.id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers["content-type"].split(";")[0], "application/json");
    assert.match(res.headers["cache-control"] ?? "", /no-store/);
    assert.deepEqual(res.body.data.map((e: any) => [e.id, e.deleted]), [[c.id, true], [b.id, false], [a.id, false]]);
    assert.equal(res.body.meta.nextCursor, null);
    const [tomb, pinned, key] = res.body.data;
    assert.equal(tomb.body, "");
    assert.equal(tomb.title, null);
    assert.equal(pinned.pinned, true);
    assert.equal(pinned.author.id, t.admin.id);
    assert.deepEqual(key, a, "the same view of an entry as its own GET");

    const live = await adminList(draft.id, "?deleted=exclude");
    assert.deepEqual(live.body.data.map((e: any) => e.id), [b.id, a.id]);
    const gone = await adminList(draft.id, "?deleted=only");
    assert.deepEqual(gone.body.data.map((e: any) => e.id), [c.id]);
  });

  it("pages back with a cursor, without gaps or repeats, at most 100 a page", async () => {
    const art = await makeArticle(t, { headline: "Marathon live", section: "world", kind: "LIVE" });
    const posted: number[] = [];
    for (let i = 1; i <= 5; i++) posted.push((await post({ body: `<p>Kilometre ${i * 5}.</p>` }, t.editor.token, art.id)).body.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await adminList(art.id, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((e: any) => e.id));
      cursor = page.body.meta.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...posted].reverse());
    assert.equal((await adminList(art.id, "?limit=100")).status, 200);
    const tooMany = await adminList(art.id, "?limit=101");
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.errors[0].path, "query.limit");
  });

  it("whoever may read the article: a writer their own (and published ones), not another's draft; 401 without a token", async () => {
    const editorsDraft = await makeArticle(t, { headline: "Budget night live", section: "world", kind: "LIVE" });
    await post({ body: "<p>The speech starts at eight.</p>" }, t.editor.token, editorsDraft.id);
    const hidden = await adminList(editorsDraft.id, "", t.writer.token);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.headers["content-type"].split(";")[0], "application/problem+json");
    const own = await makeArticle(t, { headline: "Village fair live", section: "world", kind: "LIVE" }, t.writer.token);
    assert.equal((await post({ body: "<p>The gates open.</p>" }, t.writer.token, own.id)).status, 201);
    const mine = await adminList(own.id, "", t.writer.token);
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.body.data.length, 1);
    assert.equal((await adminList(live.id, "", t.writer.token)).status, 200, "a published article is readable by any role");
    assert.equal((await adminList(own.id, "", t.admin.token)).status, 200);
    assert.equal((await adminList(own.id, "", "")).status, 401);
  });

  it("an article that stopped being LIVE keeps listing its entries; a story lists none", async () => {
    const art = await makeArticle(t, { headline: "Count live", section: "world", kind: "LIVE" });
    const e = (await post({ body: "<p>Counting.</p>" }, t.editor.token, art.id)).body;
    const changed = await t.patch(`/api/v1/admin/articles/${art.id}`, { kind: "STORY" }, { token: t.editor.token, headers: { "If-Match": `"${art.version}"` } });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual((await adminList(art.id)).body.data.map((x: any) => x.id), [e.id]);
    const story = await makeArticle(t, { headline: "Quiet story", section: "world" });
    assert.deepEqual((await adminList(story.id)).body, { data: [], meta: { nextCursor: null } });
  });

  it("bad queries and ids are 4xx problems with the field, never 500", async () => {
    for (const [query, path] of [["?limit=0", "query.limit"], ["?limit=abc", "query.limit"], ["?deleted=maybe", "query.deleted"], ["?cursor=nonsense", "query.cursor"], [`?cursor=${"x".repeat(201)}`, "query.cursor"]]) {
      const res = await adminList(live.id, query);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");
      assert.equal(res.body.errors[0].path, path, query);
    }
    const forged = Buffer.from(JSON.stringify({ id: 2 ** 40 })).toString("base64url");
    assert.equal((await adminList(live.id, `?cursor=${forged}`)).status, 400);
    assert.equal((await adminList(999999)).status, 404);
    const badId = await t.get("/api/v1/admin/articles/abc/entries", { token: t.editor.token });
    assert.equal(badId.status, 400);
    assert.equal(badId.body.errors[0].path, "params.id");
  });
});

describe("live entries: the public list", () => {
  it("newest first, pinned and key events flagged, one statement, short cache with surrogate keys", async () => {
    const res = await list();
    assert.equal(res.status, 200, res.text);
    const ids = res.body.data.map((e: any) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    assert.ok(res.body.data.some((e: any) => e.keyEvent));
    assert.ok(res.body.data.every((e: any) => e.deleted === false && typeof e.pinned === "boolean"));
    assert.equal(statementsOf(res), 1);
    assert.match(res.headers["cache-control"], /max-age=5\b/);
    assert.ok(res.headers["surrogate-key"].split(" ").includes(`entries:${live.id}`));
    assert.ok(res.headers.etag);
  });

  it("an unchanged poll is a 304; a new entry purges it at once", async () => {
    const first = await list();
    const again = await list("", { "If-None-Match": first.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(statementsOf(again), 0, "answered from the in-process cache");
    const e = await post({ title: "Breaking", body: "<p>First results are in.</p>" });
    const fresh = await list("", { "If-None-Match": first.headers.etag });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.data[0].id, e.body.id);
    assert.equal(fresh.body.data[0].author.name, "EDITOR 2");
  });

  it("since: only the changes after the cursor, tombstones included", async () => {
    const start = (await list()).body.meta.cursor;
    const empty = await list(`?since=${start}`);
    assert.deepEqual(empty.body.data, []);
    assert.equal(empty.body.meta.cursor, start);
    const a = (await post({ body: "<p>A</p>" })).body;
    const b = (await post({ body: "<p>B</p>" })).body;
    assert.equal((await t.patch(`${entries()}/${a.id}`, { title: "A, updated" }, { token: t.editor.token, headers: { "If-Match": '"1"' } })).status, 200);
    assert.equal((await t.del(`${entries()}/${b.id}`, { token: t.editor.token, headers: { "If-Match": '"1"' } })).status, 204);
    const changes = await list(`?since=${start}`);
    assert.equal(changes.status, 200);
    assert.deepEqual(changes.body.data.map((e: any) => [e.id, e.deleted]), [[b.id, true], [a.id, false]]);
    assert.equal(changes.body.data[1].title, "A, updated");
    assert.notEqual(changes.body.meta.cursor, start);
    assert.deepEqual((await list(`?since=${changes.body.meta.cursor}`)).body.data, []);
    const latest = await list();
    assert.ok(!latest.body.data.some((e: any) => e.id === b.id), "a deleted entry leaves the list");
    const truncated = await list(`?since=${start}&limit=1`);
    assert.equal(truncated.body.meta.truncated, true);
  });

  it("before: pages back in time without gaps or repeats", async () => {
    const all = (await list("?limit=100")).body.data.map((e: any) => e.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await list(`?limit=2${cursor ? `&before=${cursor}` : ""}`);
      assert.equal(page.status, 200);
      seen.push(...page.body.data.map((e: any) => e.id));
      cursor = page.body.meta.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, all);
  });

  it("404 for drafts and other kinds; 400 for bad cursors", async () => {
    const draft = await makeArticle(t, { headline: "Draft live", section: "world", kind: "LIVE", slug: "draft-live" });
    assert.equal((await post({ body: "<p>Prepared.</p>" }, t.editor.token, draft.id)).status, 201);
    assert.equal((await t.get("/api/v1/articles/draft-live/entries")).status, 404);
    const story = await makeArticle(t, { headline: "Plain story", section: "world", slug: "plain-story" });
    await publish(t, story.id);
    assert.equal((await t.get("/api/v1/articles/plain-story/entries")).status, 404);
    assert.equal((await list("?since=nonsense")).status, 400);
    assert.equal((await list("?before=nonsense")).status, 400);
    assert.equal((await list("?since=eyJzIjoxfQ&before=eyJpZCI6MX0")).status, 400);
    assert.equal((await list("?limit=0")).status, 400);
  });

  it("the LIVE kind: LiveBlogPosting JSON-LD, kind filters", async () => {
    const article = await t.get("/api/v1/articles/election-night");
    assert.equal(article.status, 200);
    assert.equal(article.body.kind, "LIVE");
    assert.equal(article.body.jsonLd["@type"], "LiveBlogPosting");
    assert.equal(article.body.jsonLd.coverageStartTime, article.body.publishedAt);
    const listed = await t.get("/api/v1/articles?kind=LIVE");
    assert.deepEqual(listed.body.data.map((a: any) => a.slug), ["election-night"]);
    const admin = await t.get("/api/v1/admin/articles?kind=LIVE", { token: t.admin.token });
    assert.ok(admin.body.data.every((a: any) => a.kind === "LIVE"));
    const search = await t.get("/api/v1/search?q=election&kind=LIVE");
    assert.equal(search.status, 200, search.text);
  });
});

interface SseEvent { event: string; id?: string; data: any }

/** Opens the stream with http.get and collects its events. */
function openStream(path: string, headers: Record<string, string> = {}) {
  const { port } = t.server.address() as AddressInfo;
  const events: SseEvent[] = [];
  const waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  let buffer = "";
  let req!: http.ClientRequest;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req = http.get({ host: "127.0.0.1", port, path, headers }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let i;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const e: Partial<SseEvent> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) e.event = line.slice(7);
            else if (line.startsWith("id: ")) e.id = line.slice(4);
            else if (line.startsWith("data: ")) e.data = JSON.parse(line.slice(6));
          }
          if (!e.event) continue;
          events.push(e as SseEvent);
          for (const w of [...waiters]) if (w.pred(e as SseEvent)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e as SseEvent);
          }
        }
      });
      resolve(res);
    });
    req.on("error", reject);
  });
  const next = (pred: (e: SseEvent) => boolean, ms = 10_000) => {
    const found = events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<SseEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`)), ms);
      waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  };
  return { response, events, next, close: () => req.destroy() };
}

describe("live entries: the Server-Sent Events stream", () => {
  it("pushes new, updated and deleted entries as they happen", async () => {
    const s = openStream("/api/v1/articles/election-night/entries/stream");
    try {
      const res = await s.response;
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
      assert.equal(res.headers["cache-control"], "no-store");
      const ready = await s.next((e) => e.event === "ready");
      assert.ok(ready.data.cursor);
      const e = (await post({ title: "Stream me", body: "<p>Live!</p>", pinned: true })).body;
      const created = await s.next((x) => x.event === "entry.created" && x.data.id === e.id);
      assert.equal(created.data.title, "Stream me");
      assert.equal(created.data.pinned, true);
      assert.ok(Number(created.id) > 0);
      assert.equal((await t.patch(`${entries()}/${e.id}`, { title: "Streamed" }, { token: t.editor.token, headers: { "If-Match": '"1"' } })).status, 200);
      const updated = await s.next((x) => x.event === "entry.updated" && x.data.id === e.id);
      assert.equal(updated.data.title, "Streamed");
      assert.equal((await t.del(`${entries()}/${e.id}`, { token: t.editor.token, headers: { "If-Match": '"2"' } })).status, 204);
      const deleted = await s.next((x) => x.event === "entry.deleted" && x.data.id === e.id);
      assert.deepEqual(Object.keys(deleted.data).sort(), ["deleted", "id", "updatedAt"]);
      assert.ok(Number(deleted.id) > Number(updated.id));
    } finally {
      s.close();
    }
  });

  it("an entry posted while the stream connects arrives exactly once", async () => {
    // From a cursor read before: the entry is in the replay, the catch-up or the live events, whichever wins the race.
    const cursor = (await list()).body.meta.cursor;
    const s = openStream(`/api/v1/articles/election-night/entries/stream?since=${cursor}`);
    try {
      const posted = post({ body: "<p>Posted while connecting.</p>" });
      await s.response;
      const e = (await posted).body;
      await s.next((x) => x.data?.id === e.id);
      const later = (await post({ body: "<p>And one after.</p>" })).body;
      await s.next((x) => x.data?.id === later.id);
      assert.equal(s.events.filter((x) => x.data?.id === e.id).length, 1, JSON.stringify(s.events));
    } finally {
      s.close();
    }
  });

  it("Last-Event-ID replays what was missed, then goes live", async () => {
    const cursorSeq = (await t.db.prisma.liveEntry.aggregate({ where: { articleId: live.id }, _max: { seq: true } }))._max.seq!;
    const missed = (await post({ body: "<p>While you were away.</p>" })).body;
    const s = openStream("/api/v1/articles/election-night/entries/stream", { "Last-Event-ID": String(cursorSeq) });
    try {
      const replayed = await s.next((x) => x.data?.id === missed.id);
      const ready = await s.next((x) => x.event === "ready");
      assert.ok(s.events.indexOf(replayed) < s.events.indexOf(ready));
    } finally {
      s.close();
    }
  });

  it("404 for an article that is not a public live one; 400 for a bad Last-Event-ID", async () => {
    const missing = openStream("/api/v1/articles/plain-story/entries/stream");
    assert.equal((await missing.response).statusCode, 404);
    missing.close();
    const bad = openStream("/api/v1/articles/election-night/entries/stream", { "Last-Event-ID": "x" });
    assert.equal((await bad.response).statusCode, 400);
    bad.close();
  });
});

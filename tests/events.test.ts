// Change events: every write a reader can see appends the right events with
// the right surrogate keys, failed writes append nothing, the admin listing,
// LISTEN/NOTIFY wake-ups across instances, durable consumers (exactly once,
// in order, across instances) and retention.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import request from "supertest";
import sharp from "sharp";
import { startTestApp, makeSection, makeArticle, publish, type TestApp } from "./support/harness.ts";
import { createEventBus, type CommittedEvent } from "../src/events/bus.ts";
import { createConsumer } from "../src/events/consumers.ts";
import { emit } from "../src/events/outbox.ts";
import { publishDue } from "../src/articles/service.ts";
import { Scheduler } from "../src/articles/scheduler.ts";
import type { Database } from "../src/db/client.ts";

const silent = pino({ level: "silent" });
const onPostgres = !!process.env.DATABASE_URL;

interface Ev { id: number; type: string; entityType: string; entityId: number | null; keys: string[]; data: any; actorId: number | null }

/** The id of the newest event (0 when none). */
async function mark(t: TestApp): Promise<number> {
  const res = await t.get("/api/v1/admin/events?limit=1", { token: t.admin.token });
  assert.equal(res.status, 200);
  return res.body.meta.nextAfter ?? 0;
}

/** Events after `from`, oldest first. */
async function since(t: TestApp, from: number): Promise<Ev[]> {
  const res = await t.get(`/api/v1/admin/events?after=${from}&limit=500`, { token: t.admin.token });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

/** Runs `write`, then returns the events it appended. */
async function eventsOf(t: TestApp, write: () => Promise<unknown>): Promise<Ev[]> {
  const from = await mark(t);
  await write();
  return since(t, from);
}

const only = (evs: Ev[]) => {
  assert.equal(evs.length, 1, JSON.stringify(evs));
  return evs[0];
};
const hasKeys = (e: Ev, keys: string[]) => {
  for (const k of keys) assert.ok(e.keys.includes(k), `${e.type} lacks ${k}: ${e.keys.join(" ")}`);
};
const lacksKeys = (e: Ev, keys: string[]) => {
  for (const k of keys) assert.ok(!e.keys.includes(k), `${e.type} has ${k}: ${e.keys.join(" ")}`);
};
const ok = <R extends { status: number; text: string }>(res: R, status = 200): R => {
  assert.equal(res.status, status, res.text);
  return res;
};

describe("change events from writes", () => {
  let t: TestApp;
  let english: any, china: any, world: any;
  before(async () => {
    t = await startTestApp({ COMMENT_RATE_MAX: "1000" });
    english = await makeSection(t, "english");
    china = await makeSection(t, "china", "english");
    world = await makeSection(t, "world");
  });
  after(async () => t?.close());

  test("article lifecycle: draft writes carry no keys; visible ones carry article, section, fronts, lists, tags and old values", async () => {
    let a: any;
    const created = only(await eventsOf(t, async () => {
      a = await makeArticle(t, { headline: "Talks resume", section: "china", tags: ["diplomacy"] });
    }));
    assert.equal(created.type, "article.created");
    assert.equal(created.entityType, "article");
    assert.equal(created.entityId, a.id);
    assert.equal(created.actorId, t.editor.id);
    assert.deepEqual(created.keys, []);

    const draftEdit = only(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/articles/${a.id}`, { summary: "Draft." }, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) }));
    }));
    assert.equal(draftEdit.type, "article.updated");
    assert.deepEqual(draftEdit.keys, []);

    const published = only(await eventsOf(t, () => publish(t, a.id)));
    assert.equal(published.type, "article.published");
    assert.deepEqual(published.data, { from: "DRAFT", to: "PUBLISHED" });
    hasKeys(published, [`article:${a.id}`, `section:${china.id}`, "front:china", "front:english", "latest", "articles", "popular", "tag:diplomacy"]);
    lacksKeys(published, ["front:world", `section:${world.id}`]);

    // A published story that recommends it shows its headline; a collection lists it.
    const b = await makeArticle(t, { headline: "Background", section: "world", related: [a.id] });
    await publish(t, b.id);
    const col = ok(await t.post("/api/v1/admin/collections", { slug: "picks", name: "Picks" }, { token: t.editor.token }), 201).body;
    ok(await t.post(`/api/v1/admin/collections/${col.id}/items`, { articleId: a.id }, { token: t.editor.token }), 201);

    const moved = only(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/articles/${a.id}`, { section: "world", tags: ["trade"], headline: "Talks resume, again" },
        { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) }));
    }));
    assert.equal(moved.type, "article.updated");
    hasKeys(moved, [
      `article:${a.id}`, `section:${china.id}`, `section:${world.id}`, "front:china", "front:english", "front:world",
      "tag:diplomacy", "tag:trade", "collection:picks", `article:${b.id}`, "latest", "articles",
    ]);
    assert.equal(new Set(moved.keys).size, moved.keys.length, "keys are unique");

    const unpublished = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token }))));
    assert.equal(unpublished.type, "article.unpublished");
    hasKeys(unpublished, [`article:${a.id}`, "front:world", "latest", "tag:trade", "collection:picks"]);

    const archived = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/archive`, undefined, { token: t.editor.token }))));
    assert.equal(archived.type, "article.archived");
    // ARCHIVED may be public (ARCHIVED_PUBLIC): it counts as visible.
    hasKeys(archived, [`article:${a.id}`]);

    await publish(t, a.id);
    const trashed = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) }), 204)));
    assert.equal(trashed.type, "article.trashed");
    hasKeys(trashed, [`article:${a.id}`, `comments:${a.id}`, "front:world", "latest", "articles", "popular", "tag:trade", "collection:picks", `article:${b.id}`]);

    const restored = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/restore`, undefined, { token: t.editor.token }))));
    assert.equal(restored.type, "article.restored");
    hasKeys(restored, [`article:${a.id}`, "front:world", "latest"]);

    const reverted = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/revisions/1/restore`, undefined, { token: t.editor.token }))));
    assert.equal(reverted.type, "article.revision-restored");
    assert.deepEqual(reverted.data, { revision: 1 });
    // Revision 1 was in china with tag diplomacy: both the old and the new places change.
    hasKeys(reverted, [`article:${a.id}`, "front:world", "front:china", "front:english", "tag:trade", "tag:diplomacy"]);

    ok(await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) }), 204);
    const purged = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/purge`, undefined, { token: t.admin.token }), 204)));
    assert.equal(purged.type, "article.purged");
    assert.equal(purged.entityId, a.id);
  });

  test("workflow steps of an unpublished article and the scheduler's publish", async () => {
    const a = await makeArticle(t, { headline: "Budget", section: "china", tags: ["economy"] });
    const submitted = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/submit`, undefined, { token: t.editor.token }))));
    assert.equal(submitted.type, "article.submitted");
    assert.deepEqual(submitted.keys, []);
    const scheduledAt = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt }, { token: t.editor.token }))));
    assert.equal(scheduled.type, "article.scheduled");
    assert.deepEqual(scheduled.keys, []);

    await t.db.prisma.article.update({ where: { id: a.id }, data: { scheduledAt: new Date(Date.now() - 1000) } });
    const fired = only(await eventsOf(t, async () => assert.deepEqual(await publishDue(t.db.prisma), [a.id])));
    assert.equal(fired.type, "article.published");
    assert.equal(fired.actorId, null);
    assert.equal(fired.data.scheduled, true);
    hasKeys(fired, [`article:${a.id}`, "front:china", "front:english", "latest", "articles", "tag:economy"]);
  });

  test("sections: created, renamed, moved, deleted; lead pinned and unpinned", async () => {
    let s: any;
    const created = only(await eventsOf(t, async () => {
      s = await makeSection(t, "hong-kong", "china");
    }));
    assert.equal(created.type, "section.created");
    hasKeys(created, ["sections", `section:${s.id}`, "front:hong-kong", "front:china", "front:english"]);

    const a = await makeArticle(t, { headline: "Harbour", section: "hong-kong" });
    await publish(t, a.id);

    const renamed = only(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/sections/${s.id}`, { slug: "hongkong", name: "Hong Kong" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${s.id}`) }));
    }));
    assert.equal(renamed.type, "section.renamed");
    hasKeys(renamed, ["sections", `section:${s.id}`, "front:hong-kong", "front:hongkong", "front:china", "front:english", "articles"]);

    const moved = only(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/sections/${s.id}`, { parent: "world" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${s.id}`) }));
    }));
    assert.equal(moved.type, "section.moved");
    // Its stories leave the fronts of its old ancestors and join the new one's.
    hasKeys(moved, ["sections", `section:${s.id}`, "front:hongkong", "front:china", "front:english", "front:world"]);

    const pinned = only(await eventsOf(t, async () => ok(await t.call("PUT", `/api/v1/admin/sections/${s.id}/lead`, { token: t.editor.token, body: { articleId: a.id } }))));
    assert.equal(pinned.type, "section.lead-pinned");
    assert.deepEqual([...pinned.keys].sort(), ["front:hongkong", `section:${s.id}`].sort());
    const unpinned = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/sections/${s.id}/lead`, { token: t.editor.token }))));
    assert.equal(unpinned.type, "section.lead-unpinned");
    hasKeys(unpinned, ["front:hongkong"]);

    const empty = await makeSection(t, "empty", "world");
    const deleted = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/sections/${empty.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${empty.id}`) }), 204)));
    assert.equal(deleted.type, "section.deleted");
    hasKeys(deleted, ["sections", `section:${empty.id}`, "front:empty", "front:world"]);
  });

  test("editors: renamed or deactivated, keyed by the published articles crediting them", async () => {
    const credited = await t.addEditor("WRITER", "Liu Fang");
    const pub = await makeArticle(t, { headline: "Credited", section: "world", editors: [credited.id] });
    await publish(t, pub.id);
    const draft = await makeArticle(t, { headline: "Credited draft", section: "world", editors: [credited.id] });
    const renamed = only(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/editors/${credited.id}`, { name: "Liu F." }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${credited.id}`) }));
    }));
    assert.equal(renamed.type, "editor.renamed");
    assert.deepEqual(renamed.keys, [`article:${pub.id}`]);
    lacksKeys(renamed, [`article:${draft.id}`]);
    // Nothing public changes with a role: no event.
    assert.deepEqual(await eventsOf(t, async () => {
      ok(await t.patch(`/api/v1/admin/editors/${credited.id}`, { role: "EDITOR" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${credited.id}`) }));
    }), []);
    const deactivated = only(await eventsOf(t, async () => {
      ok(await t.del(`/api/v1/admin/editors/${credited.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/editors/${credited.id}`) }));
    }));
    assert.equal(deactivated.type, "editor.deactivated");
    assert.deepEqual(deactivated.keys, [`article:${pub.id}`]);
  });

  test("media: deleting an unused image appends media.deleted (no public response showed it); an image in use is refused and appends nothing", async () => {
    const upload = async () => {
      const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: "#808080" } }).png().toBuffer();
      const res = await request(t.server).post("/api/v1/admin/media").set("Authorization", `Bearer ${t.editor.token}`)
        .attach("file", png, { filename: "x.png", contentType: "image/png" });
      assert.equal(res.status, 201, res.text);
      return res.body.id as number;
    };
    const unused = await upload();
    const used = await upload();
    await makeArticle(t, { headline: "Pictured", section: "world", leadImage: used });
    const deleted = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/media/${unused}`, { token: t.editor.token }), 204)));
    assert.equal(deleted.type, "media.deleted");
    assert.equal(deleted.entityId, unused);
    assert.deepEqual(deleted.keys, []);
    assert.deepEqual(await eventsOf(t, async () => assert.equal((await t.del(`/api/v1/admin/media/${used}`, { token: t.editor.token })).status, 409)), []);
  });

  test("collections and their items", async () => {
    const a = await makeArticle(t, { headline: "Pick one", section: "world" });
    const b = await makeArticle(t, { headline: "Pick two", section: "world" });
    let col: any;
    const created = only(await eventsOf(t, async () => {
      col = ok(await t.post("/api/v1/admin/collections", { slug: "weekend", name: "Weekend" }, { token: t.editor.token }), 201).body;
    }));
    assert.equal(created.type, "collection.created");
    assert.deepEqual(created.keys, ["collection:weekend"]);
    const added = only(await eventsOf(t, async () => ok(await t.post(`/api/v1/admin/collections/${col.id}/items`, { articleId: a.id }, { token: t.editor.token }), 201)));
    assert.equal(added.type, "collection.item-added");
    assert.deepEqual(added.keys, ["collection:weekend"]);
    const second = ok(await t.post(`/api/v1/admin/collections/${col.id}/items`, { articleId: b.id }, { token: t.editor.token }), 201).body;
    const items = second.items.map((i: any) => i.id);
    const updated = only(await eventsOf(t, async () => ok(await t.patch(`/api/v1/admin/collections/${col.id}/items/${items[0]}`, { headline: "Read this" }, { token: t.editor.token }))));
    assert.equal(updated.type, "collection.item-updated");
    const reordered = only(await eventsOf(t, async () => ok(await t.call("PUT", `/api/v1/admin/collections/${col.id}/items`, { token: t.editor.token, body: { itemIds: [...items].reverse() } }))));
    assert.equal(reordered.type, "collection.reordered");
    const removed = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/collections/${col.id}/items/${items[0]}`, { token: t.editor.token }))));
    assert.equal(removed.type, "collection.item-removed");
    const renamed = only(await eventsOf(t, async () => ok(await t.patch(`/api/v1/admin/collections/${col.id}`, { slug: "weekend-reads" }, { token: t.editor.token }))));
    assert.equal(renamed.type, "collection.updated");
    assert.deepEqual([...renamed.keys].sort(), ["collection:weekend", "collection:weekend-reads"]);
    const deleted = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/collections/${col.id}`, { token: t.editor.token }), 204)));
    assert.equal(deleted.type, "collection.deleted");
    assert.deepEqual(deleted.keys, ["collection:weekend-reads"]);
  });

  test("comments: pending has no keys; approval, rejection, spam and deletion key the list and the article (its count), single and bulk", async () => {
    const a = await makeArticle(t, { headline: "Open thread", section: "world" });
    await publish(t, a.id);
    const submit = async (body: string) => ok(await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body }), 202).body;
    let c1: any;
    const created = only(await eventsOf(t, async () => {
      c1 = await submit("First.");
    }));
    assert.equal(created.type, "comment.created");
    assert.equal(created.entityId, c1.id);
    assert.deepEqual(created.keys, []);
    const both = [`comments:${a.id}`, `article:${a.id}`];

    const approved = only(await eventsOf(t, async () => ok(await t.patch(`/api/v1/admin/comments/${c1.id}`, { status: "APPROVED" }, { token: t.editor.token }))));
    assert.equal(approved.type, "comment.approved");
    assert.deepEqual([...approved.keys].sort(), [...both].sort());
    assert.deepEqual(approved.data, { articleId: a.id, from: "PENDING", to: "APPROVED" });

    const rejected = only(await eventsOf(t, async () => ok(await t.patch(`/api/v1/admin/comments/${c1.id}`, { status: "REJECTED" }, { token: t.editor.token }))));
    assert.equal(rejected.type, "comment.rejected");
    assert.deepEqual([...rejected.keys].sort(), [...both].sort());

    // Rejected to spam: invisible before and after, nothing for a cache to drop.
    const spam = only(await eventsOf(t, async () => ok(await t.patch(`/api/v1/admin/comments/${c1.id}`, { status: "SPAM" }, { token: t.editor.token }))));
    assert.equal(spam.type, "comment.spam");
    assert.deepEqual(spam.keys, []);

    const c2 = await submit("Second.");
    const c3 = await submit("Third.");
    const bulk = await eventsOf(t, async () => ok(await t.post("/api/v1/admin/comments/bulk", { ids: [c3.id, c2.id], status: "APPROVED" }, { token: t.editor.token })));
    assert.deepEqual(bulk.map((e) => [e.type, e.entityId]), [["comment.approved", c2.id], ["comment.approved", c3.id]]);
    for (const e of bulk) assert.deepEqual([...e.keys].sort(), [...both].sort());

    const deleted = only(await eventsOf(t, async () => ok(await t.del(`/api/v1/admin/comments/${c2.id}`, { token: t.editor.token }), 204)));
    assert.equal(deleted.type, "comment.deleted");
    assert.deepEqual([...deleted.keys].sort(), [...both].sort());
  });

  test("an auto-approved comment keys its list and article at once", async () => {
    const t2 = await startTestApp({ COMMENTS_AUTO_APPROVE: "true" });
    try {
      await makeSection(t2, "world");
      const a = await makeArticle(t2, { headline: "Auto", section: "world" });
      await publish(t2, a.id);
      const e = only(await eventsOf(t2, async () => ok(await t2.post(`/api/v1/articles/${a.slug}/comments`, { name: "R", body: "Hi." }), 202)));
      assert.equal(e.type, "comment.created");
      assert.deepEqual([...e.keys].sort(), [`article:${a.id}`, `comments:${a.id}`]);
    } finally {
      await t2.close();
    }
  });

  test("a write that fails appends nothing", async () => {
    const a = await makeArticle(t, { headline: "Stable", section: "world" });
    await publish(t, a.id);
    const from = await mark(t);
    // 412: stale If-Match.
    assert.equal((await t.patch(`/api/v1/admin/articles/${a.id}`, { summary: "x" }, { token: t.editor.token, headers: { "If-Match": '"999"' } })).status, 412);
    // 409: not a valid transition.
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/publish`, undefined, { token: t.editor.token })).status, 409);
    // 400: a reference that does not exist (checked inside the transaction).
    assert.equal((await t.patch(`/api/v1/admin/articles/${a.id}`, { section: "nowhere" }, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) })).status, 400);
    // 409: a section with articles cannot be deleted.
    assert.equal((await t.del(`/api/v1/admin/sections/${world.id}`, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${world.id}`) })).status, 409);
    // 404 in a bulk moderation: all or nothing.
    assert.equal((await t.post("/api/v1/admin/comments/bulk", { ids: [2147483000], status: "APPROVED" }, { token: t.editor.token })).status, 404);
    // 409: purge needs the trash.
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/purge`, undefined, { token: t.admin.token })).status, 409);
    assert.deepEqual(await since(t, from), []);
  });

  test("GET /admin/events: ADMIN only, newest first without after, ascending with it, problem+json for bad input", async () => {
    assert.equal((await t.get("/api/v1/admin/events", { token: t.editor.token })).status, 403);
    assert.equal((await t.get("/api/v1/admin/events")).status, 401);
    for (const q of ["after=-1", "after=abc", "after=1e3", "limit=0", "limit=501", "type=Article", "entityType=tag", "entityId=0"]) {
      const res = await t.get(`/api/v1/admin/events?${q}`, { token: t.admin.token });
      assert.equal(res.status, 400, q);
      assert.match(res.headers["content-type"], /application\/problem\+json/);
      assert.ok(res.body.errors[0].path.startsWith("query."), q);
    }
    const newest = (await t.get("/api/v1/admin/events?limit=5", { token: t.admin.token })).body;
    const ids = newest.data.map((e: Ev) => e.id);
    assert.deepEqual(ids, [...ids].sort((x: number, y: number) => y - x));
    assert.equal(newest.meta.nextAfter, ids[0]);
    const asc = (await t.get(`/api/v1/admin/events?after=${ids[4]}&limit=3`, { token: t.admin.token })).body;
    assert.deepEqual(asc.data.map((e: Ev) => e.id), [ids[3], ids[2], ids[1]]);
    assert.equal(asc.meta.nextAfter, ids[1]);
    const tail = (await t.get(`/api/v1/admin/events?after=${ids[0]}`, { token: t.admin.token })).body;
    assert.deepEqual(tail, { data: [], meta: { nextAfter: ids[0] } });
    const comments = (await t.get("/api/v1/admin/events?type=comment.&limit=500", { token: t.admin.token })).body.data;
    assert.ok(comments.length > 0 && comments.every((e: Ev) => e.type.startsWith("comment.")));
    const oneSection = (await t.get(`/api/v1/admin/events?entityType=section&entityId=${world.id}`, { token: t.admin.token })).body.data;
    assert.ok(oneSection.length > 0 && oneSection.every((e: Ev) => e.entityType === "section" && e.entityId === world.id));
  });
});

/** Resolves with the first event of `type` the bus hands to a subscriber. */
function nextEvent(bus: ReturnType<typeof createEventBus>, type: string): Promise<CommittedEvent> {
  return new Promise((resolve) => {
    const off = bus.subscribe((events) => {
      const e = events.find((x) => x.type === type);
      if (e) {
        off();
        resolve(e);
      }
    });
  });
}

describe("notifications reach the bus without polling", () => {
  let t: TestApp;
  before(async () => {
    // Polling every minute: only NOTIFY can deliver within the test.
    t = await startTestApp({ EVENTS_POLL_INTERVAL_MS: "60000" });
    await makeSection(t, "world");
  });
  after(async () => t?.close());

  test("an event committed on this instance reaches its own subscribers", { timeout: 30_000 }, async () => {
    // Appended directly, not through an HTTP write (whose route reads the bus
    // right after its commit): only the notification can deliver it.
    const got = nextEvent(t.events, "test.local");
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.local", entityType: "article", entityId: 7, keys: ["article:7"] }));
    const e = await got;
    assert.equal(e.entityId, 7);
    assert.deepEqual(e.keys, ["article:7"]);
  });

  test("a subscriber added while a batch is handed out gets only later events", { timeout: 30_000 }, async () => {
    const late: string[] = [];
    const added = new Promise<void>((resolve) => {
      const off = t.events.subscribe((events) => {
        if (!events.some((e) => e.type === "test.before")) return;
        off();
        t.events.subscribe((more) => void late.push(...more.map((e) => e.type)));
        resolve();
      });
    });
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.before", entityType: "article", entityId: 1, keys: [] }));
    await added;
    const got = nextEvent(t.events, "test.after");
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.after", entityType: "article", entityId: 1, keys: [] }));
    await got;
    assert.ok(late.includes("test.after"));
    assert.ok(!late.includes("test.before"), "no event from before it subscribed");
  });

  test("an event committed through instance A reaches instance B's bus", { skip: !onPostgres && "needs two connections (PostgreSQL)", timeout: 30_000 }, async () => {
    const peer = await t.openPeer();
    const busB = createEventBus(peer, silent, { pollIntervalMs: 60_000 });
    try {
      await busB.start();
      for (let i = 0; i < 3; i++) {
        const a = await makeArticle(t, { headline: `Remote ${i}`, section: "world" });
        const got = nextEvent(busB, "article.published");
        await publish(t, a.id);
        assert.equal((await got).entityId, a.id);
      }
    } finally {
      await busB.stop();
      await peer.close();
    }
  });
});

describe("a lost listening connection", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ EVENTS_POLL_INTERVAL_MS: "60000" });
    await makeSection(t, "world");
  });
  after(async () => t?.close());

  test("reconnects and LISTENs again; what committed meanwhile still arrives", { skip: !onPostgres && "PostgreSQL only", timeout: 30_000 }, async () => {
    const peer = await t.openPeer();
    const busB = createEventBus(peer, silent, { pollIntervalMs: 60_000 });
    try {
      await busB.start();
      const a = await makeArticle(t, { headline: "After the outage", section: "world" });
      const b = await makeArticle(t, { headline: "And after that", section: "world" });
      const [{ n }] = await t.db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1`, `dateline-listener:${t.schema}`);
      assert.ok(Number(n) >= 2, "both instances' listeners were found");
      // Committed while B's listener may still be down: the reconnect reads it.
      const first = nextEvent(busB, "article.published");
      await publish(t, a.id);
      assert.equal((await first).entityId, a.id);
      // And notifications work again on the new connection.
      const second = nextEvent(busB, "article.published");
      await publish(t, b.id);
      assert.equal((await second).entityId, b.id);
    } finally {
      await busB.stop();
      await peer.close();
    }
  });
});

describe("durable consumers", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ EVENTS_POLL_INTERVAL_MS: "60000" });
  });
  after(async () => t?.close());

  test("two instances: every event handled exactly once, in id order", { timeout: 120_000 }, async () => {
    const peer: Database = await t.openPeer();
    const busB = peer === t.db ? t.events : createEventBus(peer, silent, { pollIntervalMs: 60_000 });
    // Handled events are recorded in the handler's transaction, as a real consumer's effects would be.
    await t.db.prisma.$executeRawUnsafe(`CREATE TABLE consumer_log (seq SERIAL PRIMARY KEY, event_id BIGINT NOT NULL, instance TEXT NOT NULL)`);
    const total = 300;
    const seen: number[] = [];
    const make = (db: Database, instance: string) => createConsumer(db.prisma, silent, {
      name: "test-log",
      batch: 7,
      async handle(tx, events) {
        for (const e of events) {
          await tx.$executeRaw`INSERT INTO consumer_log (event_id, instance) VALUES (${e.id}, ${instance})`;
        }
        seen.push(...events.map((e) => e.id));
      },
    });
    const a = make(t.db, "A");
    const b = make(peer, "B");
    try {
      if (busB !== t.events) await busB.start();
      await a.start(t.events);
      await b.start(busB);
      const first = await mark(t);
      // Writers on both instances, concurrently, ten events per transaction.
      const writers = Array.from({ length: total / 10 }, (_, w) =>
        (w % 2 ? peer : t.db).prisma.$transaction((tx) =>
          emit(tx, Array.from({ length: 10 }, (_, i) => ({
            type: "test.event", entityType: "article", entityId: w * 10 + i + 1, keys: [`test:${w}:${i}`],
          }))),
          // 30 transactions at once on two small pools: wait for a connection rather than fail (this test counts deliveries, not pool timing).
          { maxWait: 30_000, timeout: 30_000 }));
      await Promise.all(writers);
      // Drained by the bus wake-ups; waits on the database, never on the clock.
      for (;;) {
        const [{ n }] = await t.db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM consumer_log WHERE event_id > ${first}`;
        if (Number(n) >= total) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all([a.stop(), b.stop()]);
      const rows = await t.db.prisma.$queryRaw<{ event_id: bigint }[]>`SELECT event_id FROM consumer_log WHERE event_id > ${first} ORDER BY seq`;
      const ids = rows.map((r) => Number(r.event_id));
      assert.equal(ids.length, total, "each event once");
      assert.equal(new Set(ids).size, total, "no event twice");
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), "in id order");
      const expected = (await since(t, first)).map((e) => e.id).slice(0, total);
      assert.deepEqual(ids, expected);
      const [pos] = await t.db.prisma.$queryRaw<{ position: bigint }[]>`SELECT position FROM "EventConsumer" WHERE name = 'test-log'`;
      assert.equal(Number(pos.position), ids[ids.length - 1]);
    } finally {
      await a.stop();
      await b.stop();
      if (busB !== t.events) await busB.stop();
      if (peer !== t.db) await peer.close();
    }
  });

  test("a failing handler rolls its batch back and the events are handled again", { timeout: 60_000 }, async () => {
    let fail = true;
    const handled: number[] = [];
    const c = createConsumer(t.db.prisma, silent, {
      name: "test-retry",
      async handle(_tx, events) {
        if (fail) throw new Error("downstream unavailable");
        handled.push(...events.map((e) => e.id));
      },
    });
    const from = await mark(t);
    await t.db.prisma.$transaction((tx) => emit(tx, { type: "test.retry", entityType: "article", entityId: 1, keys: [] }));
    await assert.rejects(c.run(), /downstream unavailable/);
    fail = false;
    await c.run();
    assert.ok(handled.length > 0);
    const mine = (await since(t, from)).map((e) => e.id);
    assert.ok(mine.every((id) => handled.includes(id)));
    assert.equal(await c.run(), 0, "nothing left");
  });

  test("retention prunes old events, but none a consumer has not processed", async () => {
    const old = new Date(Date.now() - 40 * 86400_000);
    await t.db.prisma.$transaction((tx) => emit(tx, [1, 2, 3, 4].map((i) => ({ type: "test.old", entityType: "article", entityId: i, keys: [] }))));
    const olds = (await t.get("/api/v1/admin/events?type=test.old", { token: t.admin.token })).body.data.map((e: Ev) => e.id).sort((x: number, y: number) => x - y);
    await t.db.prisma.changeEvent.updateMany({ where: { type: "test.old" }, data: { createdAt: old } });
    // A lagging consumer has handled only the first two.
    await t.db.prisma.$executeRaw`UPDATE "EventConsumer" SET position = ${olds[1]} WHERE name IN ('test-log', 'test-retry')`;
    await t.db.prisma.$executeRaw`INSERT INTO "EventConsumer" (name, position) VALUES ('lagging', ${olds[1]})`;
    const scheduler = new Scheduler(t.db.prisma, silent, { intervalMs: 60_000, trashRetentionDays: 30, eventRetentionDays: 30 });
    await scheduler.tick();
    const left = (await t.get("/api/v1/admin/events?type=test.old", { token: t.admin.token })).body.data.map((e: Ev) => e.id).sort((x: number, y: number) => x - y);
    assert.deepEqual(left, olds.slice(2));
    // Recent events are kept whatever the consumers' positions.
    assert.ok((await since(t, 0)).some((e) => e.type === "test.retry"));
  });
});

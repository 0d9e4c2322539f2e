// The published read model (src/delivery): rows follow every editorial write
// in the writer's transaction, public reads come from it in one statement,
// and nothing a reader gets is older than the write that returned before.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";
import { backfill, rebuildAll, refreshRecommendations } from "../src/delivery/read-model.ts";
import { publishDue } from "../src/articles/service.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({ COMMENT_RATE_MAX: "1000", ARCHIVED_PUBLIC: "true" });
  await makeSection(t, "world", undefined, "World");
  await makeSection(t, "asia", "world", "Asia");
});
after(() => t.close());

const admin = () => ({ token: t.admin.token });
const ed = () => ({ token: t.editor.token });
/** As `ed()` (or ADMIN), with the current If-Match of the editor-API resource. */
const matched = async (path: string, token = t.editor.token) => ({ token, headers: await t.ifMatch(path) });
const art = (id: number) => `/api/v1/admin/articles/${id}`;

async function rowOf(id: number) {
  const rows = await t.db.prisma.$queryRaw<{ status: string; commentCount: number; relatedIds: number[] }[]>`
    SELECT status::text AS status, "commentCount", "relatedIds" FROM "PublishedArticle" WHERE "articleId" = ${id}`;
  return rows[0];
}

async function live(fields: Record<string, unknown> = {}) {
  const a = await makeArticle(t, { headline: `Story ${Math.random().toString(36).slice(2, 8)}`, section: "asia", ...fields });
  await publish(t, a.id);
  return a;
}

describe("read model rows follow the workflow", () => {
  it("publish, update, unpublish, trash, restore, archive and purge", async () => {
    const a = await makeArticle(t, { headline: "Draft only", section: "asia" });
    assert.equal(await rowOf(a.id), undefined, "a draft has no row");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);

    await publish(t, a.id);
    assert.equal((await rowOf(a.id))?.status, "PUBLISHED");
    const first = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(first.status, 200);
    assert.equal(first.body.headline, "Draft only");
    assert.deepEqual(first.body.section, { slug: "asia", name: "Asia" });
    assert.deepEqual(first.body.breadcrumb.map((b: { slug: string }) => b.slug), ["world", "asia"]);

    const upd = await t.patch(art(a.id), { headline: "Now running" }, await matched(art(a.id)));
    assert.equal(upd.status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.headline, "Now running");

    // Read right after each write returns: never the old representation.
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, {}, ed())).status, 200);
    assert.equal(await rowOf(a.id), undefined);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    assert.ok(!(await t.get("/api/v1/latest?limit=50")).body.data.some((x: { slug: string }) => x.slug === a.slug));

    await publish(t, a.id);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.equal((await t.del(art(a.id), await matched(art(a.id)))).status, 204);
    assert.equal(await rowOf(a.id), undefined, "trashed: no row");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}/comments`)).status, 404);

    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/restore`, {}, ed())).status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200, "restored and still published");

    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/archive`, {}, ed())).status, 200);
    assert.equal((await rowOf(a.id))?.status, "ARCHIVED");
    const archived = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(archived.status, 200, "ARCHIVED_PUBLIC=true: readable by slug");
    assert.equal(archived.body.commentsOpen, false);
    assert.ok(!(await t.get("/api/v1/latest?limit=49")).body.data.some((x: { slug: string }) => x.slug === a.slug), "but in no list");

    assert.equal((await t.del(art(a.id), await matched(art(a.id)))).status, 204);
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/purge`, {}, admin())).status, 204);
    assert.equal(await rowOf(a.id), undefined);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
  });

  it("a scheduled article gets its row when the scheduler publishes it, not before", async () => {
    const a = await makeArticle(t, { headline: "Embargoed", section: "asia" });
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: inAnHour }, ed())).status, 200);
    assert.equal(await rowOf(a.id), undefined, "scheduled: not public yet");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    // The embargo lifts: make it due, as time passing would.
    await t.db.prisma.article.update({ where: { id: a.id }, data: { scheduledAt: new Date(Date.now() - 1000) } });
    assert.deepEqual(await publishDue(t.db.prisma), [a.id]);
    assert.equal((await rowOf(a.id))?.status, "PUBLISHED");
    await t.events.poll();
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.headline, "Embargoed");
  });

  it("a slug change moves the document: the old slug answers 404 at once", async () => {
    const a = await live();
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
    assert.equal((await t.patch(art(a.id), { slug: `${a.slug}-moved` }, await matched(art(a.id)))).status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}-moved`)).status, 200);
  });
});

describe("the same document as the editorial path", () => {
  it("renders exactly what the preview (built from the normalized tables) shows", async () => {
    const tag = `same-${Date.now()}`;
    const desk = await t.addEditor("EDITOR", "Same Desk");
    const older = await live({ tags: [tag], headline: "Older by tag" });
    await live({ headline: "Section neighbour" });
    const a = await live({ tags: [tag, "other"], editors: [desk.id], dateline: "HONG KONG", byline: "By A. Writer", summary: "Sum." });
    const c = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Dee", body: "Same count please." });
    await t.patch(`/api/v1/admin/comments/${c.body.id}`, { status: "APPROVED" }, ed());
    const picked = await live({ related: [older.id], section: "world" });
    for (const x of [a, picked]) {
      const token = (await t.post(`/api/v1/admin/articles/${x.id}/preview`, {}, ed())).body.token;
      const editorial = await t.get(`/api/v1/preview/${token}`);
      const delivered = await t.get(`/api/v1/articles/${x.slug}`);
      assert.equal(editorial.status, 200);
      assert.equal(delivered.text, editorial.text);
    }
  });
});

describe("comment counts", () => {
  it("follow approve, reject and delete, replies under approved parents only", async () => {
    const a = await live();
    const url = `/api/v1/articles/${a.slug}`;
    const c1 = await t.post(`${url}/comments`, { name: "Ann", body: "First comment here." });
    assert.equal(c1.status, 202);
    assert.equal((await t.get(url)).body.commentCount, 0, "pending comments are not counted");
    assert.equal((await t.patch(`/api/v1/admin/comments/${c1.body.id}`, { status: "APPROVED" }, ed())).status, 200);
    assert.equal((await rowOf(a.id)).commentCount, 1);
    assert.equal((await t.get(url)).body.commentCount, 1);

    const reply = await t.post(`${url}/comments`, { name: "Bob", body: "A reply to Ann.", parentId: c1.body.id });
    assert.equal(reply.status, 202);
    assert.equal((await t.post("/api/v1/admin/comments/bulk", { ids: [reply.body.id], status: "APPROVED" }, ed())).status, 200);
    assert.equal((await t.get(url)).body.commentCount, 2);
    const list = await t.get(`${url}/comments`);
    assert.equal(list.body.data[0].replies[0].name, "Bob");

    // Rejecting the parent hides its reply too.
    assert.equal((await t.patch(`/api/v1/admin/comments/${c1.body.id}`, { status: "REJECTED" }, ed())).status, 200);
    assert.equal((await t.get(url)).body.commentCount, 0);
    assert.equal((await t.patch(`/api/v1/admin/comments/${c1.body.id}`, { status: "APPROVED" }, ed())).status, 200);
    assert.equal((await t.get(url)).body.commentCount, 2);
    assert.equal((await t.del(`/api/v1/admin/comments/${reply.body.id}`, ed())).status, 204);
    assert.equal((await t.get(url)).body.commentCount, 1);
    assert.equal((await rowOf(a.id)).commentCount, 1);
  });
});

describe("documents that show other entities", () => {
  it("an editor's new name shows on the articles crediting them", async () => {
    const desk = await t.addEditor("EDITOR", "Desk Person");
    const a = await live({ editors: [desk.id] });
    assert.deepEqual((await t.get(`/api/v1/articles/${a.slug}`)).body.editors, [{ name: "Desk Person" }]);
    assert.equal((await t.patch(`/api/v1/admin/editors/${desk.id}`, { name: "Renamed Person" }, await matched(`/api/v1/admin/editors/${desk.id}`, t.admin.token))).status, 200);
    assert.deepEqual((await t.get(`/api/v1/articles/${a.slug}`)).body.editors, [{ name: "Renamed Person" }]);
  });

  it("a picked related story's new headline shows, and it disappears when unpublished", async () => {
    const b = await live({ headline: "Related before" });
    const a = await live({ related: [b.id] });
    const url = `/api/v1/articles/${a.slug}`;
    assert.deepEqual((await t.get(url)).body.related.map((r: { headline: string }) => r.headline), ["Related before"]);
    assert.equal((await t.patch(art(b.id), { headline: "Related after" }, await matched(art(b.id)))).status, 200);
    assert.deepEqual((await t.get(url)).body.related.map((r: { headline: string }) => r.headline), ["Related after"]);
    assert.equal((await t.post(`/api/v1/admin/articles/${b.id}/unpublish`, {}, ed())).status, 200);
    // (With no live pick left, automatic recommendations fill the box.)
    assert.ok(!(await t.get(url)).body.related.some((r: { slug: string }) => r.slug === b.slug), "an unpublished story is never recommended");
    await publish(t, b.id);
    assert.deepEqual((await t.get(url)).body.related.map((r: { slug: string; automatic: boolean }) => [r.slug, r.automatic]), [[b.slug, false]], "and returns when published again");
  });

  it("an automatic recommendation that is trashed disappears", async () => {
    const tag = `auto-${Date.now()}`;
    const d = await live({ tags: [tag], headline: "Automatic pick" });
    const c = await live({ tags: [tag] });
    const url = `/api/v1/articles/${c.slug}`;
    const rel = (await t.get(url)).body.related;
    assert.equal(rel[0].slug, d.slug);
    assert.equal(rel[0].automatic, true);
    assert.ok((await rowOf(c.id)).relatedIds.includes(d.id));
    assert.equal((await t.del(art(d.id), await matched(art(d.id)))).status, 204);
    assert.ok(!(await t.get(url)).body.related.some((r: { slug: string }) => r.slug === d.slug));
  });

  it("a section's new name shows on its articles and lists without a per-request reload", async () => {
    const sec = await makeSection(t, "sports", undefined, "Sports");
    const a = await live({ section: "sports" });
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.section.name, "Sports");
    const res = await t.patch(`/api/v1/admin/sections/${sec.id}`, { name: "Sport" }, await matched(`/api/v1/admin/sections/${sec.id}`, t.admin.token));
    assert.equal(res.status, 200);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.section.name, "Sport");
    assert.equal((await t.get("/api/v1/articles?section=sports")).body.data[0].section.name, "Sport");
  });
});

describe("periodic refresh of automatic recommendations", () => {
  it("takes in a story published after the document was built, and says so to caches", async () => {
    const tag = `later-${Date.now()}`;
    const c = await live({ tags: [tag] });
    const url = `/api/v1/articles/${c.slug}`;
    const d = await live({ tags: [tag], headline: "Published later" });
    assert.ok(!(await t.get(url)).body.related.some((r: { slug: string }) => r.slug === d.slug), "not rebuilt by d's publication");
    const changed = await refreshRecommendations(t.db.prisma, 10_000);
    assert.ok(changed.includes(c.id));
    const [event] = await t.db.prisma.$queryRaw<{ keys: string[] }[]>`
      SELECT keys FROM "ChangeEvent" WHERE type = 'read-model.refreshed' ORDER BY id DESC LIMIT 1`;
    assert.ok(event.keys.includes(`article:${c.id}`));
    await t.events.poll();
    const rel = (await t.get(url)).body.related;
    assert.equal(rel[0].slug, d.slug);
    assert.equal(rel[0].automatic, true);
    assert.deepEqual(await refreshRecommendations(t.db.prisma, 10_000), [], "nothing changed since");
  });
});

describe("backfill and rebuild", () => {
  it("builds rows for public articles that have none", async () => {
    const a = await makeArticle(t, { headline: "Written without an event", section: "asia" });
    // As a write that appended no event (the demo seed, an older version) leaves it.
    await t.db.prisma.article.update({ where: { id: a.id }, data: { status: "PUBLISHED", publishedAt: new Date() } });
    assert.equal(await rowOf(a.id), undefined);
    assert.equal(await backfill(t.db.prisma), 1);
    assert.equal((await rowOf(a.id))?.status, "PUBLISHED");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.headline, "Written without an event");
    assert.equal(await backfill(t.db.prisma), 0, "nothing left to build");
  });

  it("rebuild drops rows of articles no longer public and rebuilds the rest", async () => {
    const a = await live();
    await t.db.prisma.article.update({ where: { id: a.id }, data: { status: "DRAFT" } });
    assert.ok(await rowOf(a.id), "stale row before the rebuild");
    const n = await rebuildAll(t.db.prisma);
    assert.ok(n > 0);
    assert.equal(await rowOf(a.id), undefined);
  });
});

describe("query budget (statements per request, cache misses)", () => {
  it("answers each public read with one statement, the tree from memory", async () => {
    const a = await live({ tags: ["budget"] });
    const b = await live();
    await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Cy", body: "Budget comment." });
    const col = await t.post("/api/v1/admin/collections", { slug: "budget-picks", name: "Budget picks" }, ed());
    assert.equal((await t.post(`/api/v1/admin/collections/${col.body.id}/items`, { articleId: b.id }, ed())).status, 201);
    await t.db.prisma.articleViewHourly.create({ data: { articleId: a.id, hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000), views: 5 } });
    const budgets: [string, number][] = [
      [`/api/v1/articles/${a.slug}`, 1],
      [`/api/v1/articles/${a.slug}/print`, 1],
      ["/api/v1/latest?limit=7", 1],
      ["/api/v1/articles?section=world&limit=7", 1],
      ["/api/v1/articles?tag=budget&limit=7", 1],
      ["/api/v1/sections/world/front?limit=7", 1],
      ["/api/v1/collections/budget-picks", 1],
      ["/api/v1/popular?limit=7", 1],
      ["/api/v1/popular?limit=7&section=asia", 1],
      [`/api/v1/articles/${a.slug}/comments?limit=7`, 1],
      ["/api/v1/articles/no-such-story", 1],
    ];
    for (const [path, max] of budgets) {
      const res = await t.get(path);
      assert.ok(res.status === 200 || path.endsWith("no-such-story"), `${path}: ${res.status}`);
      assert.ok(statementsOf(res) <= max, `${path}: ${statementsOf(res)} statements`);
    }
    const pop = await t.get("/api/v1/popular?limit=7");
    assert.equal(pop.body.data[0].slug, a.slug);
    assert.equal(pop.body.data[0].views, 5);
  });
});

// Author profiles (issue 12 §5): EDITOR+ manage them, articles credit them
// (ordered, with roles) beside the free-text byline, the public article and
// its JSON-LD name them with their page's URL, the public author page lists
// their newest stories, feeds filter by them, and a profile change rebuilds
// the published documents that show it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

let t: TestApp;
const SITE = "https://news.example";
before(async () => {
  t = await startTestApp({ PUBLIC_SITE_URL: SITE });
  await makeSection(t, "world", undefined, "World");
});
after(() => t.close());

const ed = () => ({ token: t.editor.token });
let n = 0;
const uniq = (s: string) => `${s}-${++n}-${Math.random().toString(36).slice(2, 6)}`;

async function author(name: string, extra: Record<string, unknown> = {}) {
  const res = await t.post("/api/v1/admin/authors", { slug: uniq("au"), name, ...extra }, ed());
  assert.equal(res.status, 201, res.text);
  return res.body as { id: number; slug: string; name: string };
}

async function story(fields: Record<string, unknown>, at = new Date(Date.now() - 3600_000)) {
  const a = await makeArticle(t, { headline: "Harbour reopens", slug: uniq("story"), section: "world", ...fields });
  await publish(t, a.id, at.toISOString());
  return a as { id: number; slug: string };
}

describe("author profiles", () => {
  it("CRUD for EDITOR+, with problem+json for bad input, conflicts and missing preconditions", async () => {
    const body = { slug: uniq("ann"), name: "Ann Lee", bio: "Covers trade.", links: [{ label: "Site", url: "https://ann.example/" }] };
    assert.equal((await t.post("/api/v1/admin/authors", body)).status, 401);
    assert.equal((await t.post("/api/v1/admin/authors", body, { token: t.writer.token })).status, 403);
    const created = await t.post("/api/v1/admin/authors", body, ed());
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `/api/v1/admin/authors/${created.body.id}`);
    assert.deepEqual(created.body.links, body.links);
    assert.equal(created.body.photo, null);
    assert.equal((await t.post("/api/v1/admin/authors", body, ed())).status, 409);
    const bad = await t.post("/api/v1/admin/authors", { slug: "12345", name: "", photo: 999999, links: [{ label: "x", url: "javascript:alert(1)" }] }, ed());
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), ["body.links.0.url", "body.name", "body.slug"]);
    const noPhoto = await t.post("/api/v1/admin/authors", { slug: uniq("bo"), name: "Bo", photo: 999999 }, ed());
    assert.equal(noPhoto.status, 400);
    assert.equal(noPhoto.body.errors[0].path, "body.photo");

    const path = `/api/v1/admin/authors/${created.body.id}`;
    assert.equal((await t.patch(path, { bio: "x" }, ed())).status, 428);
    assert.equal((await t.patch(path, { bio: "x" }, { ...ed(), headers: { "If-Match": '"9"' } })).status, 412);
    const changed = await t.patch(path, { bio: "Covers trade and diplomacy." }, { ...ed(), headers: await t.ifMatch(path) });
    assert.equal(changed.status, 200);
    assert.equal(changed.headers.etag, '"2"');
    const list = await t.get(`/api/v1/admin/authors?q=ann%20lee&limit=5`, { token: t.writer.token });
    assert.equal(list.status, 200);
    assert.ok(list.body.data.some((a: { id: number }) => a.id === created.body.id));
    assert.equal((await t.get("/api/v1/admin/authors/999999", ed())).status, 404);
    assert.equal((await t.del(path, { token: t.writer.token, headers: { "If-Match": '"2"' } })).status, 403);
    const audit = await t.get("/api/v1/admin/audit?action=author.", { token: t.admin.token });
    assert.ok(audit.body.data.some((e: { action: string }) => e.action === "author.update"));
  });

  it("articles credit profiles in order with roles; the public article and JSON-LD name them with their page URL", async () => {
    const ann = await author("Ann Lee");
    const cy = await author("Cy Diaz");
    const unknown = await t.post("/api/v1/admin/articles",
      { headline: "X", section: "world", authors: [{ slug: ann.slug }, { slug: "no-such-author" }] }, ed());
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errors.map((e: { path: string }) => e.path), ["body.authors.1.slug"]);
    const role = await t.post("/api/v1/admin/articles", { headline: "X", section: "world", authors: [{ slug: ann.slug, role: "anchor" }] }, ed());
    assert.deepEqual(role.body.errors.map((e: { path: string }) => e.path), ["body.authors.0.role"]);
    const twice = await t.post("/api/v1/admin/articles", { headline: "X", section: "world", authors: [{ slug: ann.slug }, { slug: ann.slug }] }, ed());
    assert.equal(twice.status, 400);

    const a = await story({ byline: "By Ann Lee and Cy Diaz", authors: [{ slug: cy.slug, role: "photographer" }, { slug: ann.slug }] });
    const admin = await t.get(`/api/v1/admin/articles/${a.id}`, ed());
    assert.deepEqual(admin.body.authors, [
      { id: cy.id, slug: cy.slug, name: "Cy Diaz", role: "photographer" },
      { id: ann.id, slug: ann.slug, name: "Ann Lee", role: "writer" },
    ]);
    const pub = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(pub.body.byline, "By Ann Lee and Cy Diaz", "the free-text byline stays");
    assert.deepEqual(pub.body.authors, [
      { slug: cy.slug, name: "Cy Diaz", role: "photographer", url: `${SITE}/authors/${cy.slug}` },
      { slug: ann.slug, name: "Ann Lee", role: "writer", url: `${SITE}/authors/${ann.slug}` },
    ]);
    assert.deepEqual(pub.body.jsonLd.author, [
      { "@type": "Person", name: "Cy Diaz", url: `${SITE}/authors/${cy.slug}` },
      { "@type": "Person", name: "Ann Lee", url: `${SITE}/authors/${ann.slug}` },
    ]);

    // Wire copy without profiles: the agency, as before.
    const wire = await story({ source: "Meridian News Agency" });
    const w = await t.get(`/api/v1/articles/${wire.slug}`);
    assert.deepEqual(w.body.authors, []);
    assert.deepEqual(w.body.jsonLd.author, [{ "@type": "Organization", name: "Meridian News Agency" }]);

    // Credits are replaced by an update; [] clears them.
    const upd = await t.patch(`/api/v1/admin/articles/${a.id}`, { authors: [] }, { ...ed(), headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual(upd.body.authors, []);
    const cleared = await t.get(`/api/v1/articles/${a.slug}`);
    assert.deepEqual(cleared.body.authors, []);
    assert.deepEqual(cleared.body.jsonLd.author.map((x: { name: string }) => x.name), ["Ann Lee", "Cy Diaz"], "back to the byline's people");
  });

  it("renaming or deleting a profile rebuilds the published documents crediting it", async () => {
    const dee = await author("Dee Ray");
    const a = await story({ authors: [{ slug: dee.slug, role: "reporter" }] });
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.authors[0].name, "Dee Ray");
    const path = `/api/v1/admin/authors/${dee.id}`;
    const newSlug = uniq("deanna");
    const res = await t.patch(path, { name: "Deanna Ray", slug: newSlug }, { ...ed(), headers: await t.ifMatch(path) });
    assert.equal(res.status, 200);
    const ev = (await t.get("/api/v1/admin/events?limit=1", { token: t.admin.token })).body.data[0];
    assert.equal(ev.type, "author.updated");
    assert.ok(ev.keys.includes(`article:${a.id}`) && ev.keys.includes(`author:${dee.id}`));
    const pub = await t.get(`/api/v1/articles/${a.slug}`);
    assert.deepEqual(pub.body.authors, [{ slug: newSlug, name: "Deanna Ray", role: "reporter", url: `${SITE}/authors/${newSlug}` }]);
    assert.equal(statementsOf(pub), 1);

    assert.equal((await t.del(path, { ...ed(), headers: await t.ifMatch(path) })).status, 204);
    assert.deepEqual((await t.get(`/api/v1/articles/${a.slug}`)).body.authors, []);
    assert.equal((await t.get(`/api/v1/authors/${newSlug}`)).status, 404);
  });

  it("the public author page: profile and newest published stories, cursor-paged, one statement", async () => {
    const eve = await author("Eve Moss", { bio: "Science desk.", links: [{ label: "Mastodon", url: "https://social.example/@eve" }] });
    const older = await story({ headline: "Older", authors: [{ slug: eve.slug }] }, new Date(Date.now() - 7200_000));
    const newer = await story({ headline: "Newer", authors: [{ slug: eve.slug }] }, new Date(Date.now() - 3600_000));
    await makeArticle(t, { headline: "Unpublished", section: "world", authors: [{ slug: eve.slug }] });
    const first = await t.get(`/api/v1/authors/${eve.slug}?limit=1`);
    assert.equal(first.status, 200);
    assert.equal(statementsOf(first), 1);
    assert.deepEqual(first.body.author, {
      slug: eve.slug, name: "Eve Moss", bio: "Science desk.", photo: null,
      links: [{ label: "Mastodon", url: "https://social.example/@eve" }], url: `${SITE}/authors/${eve.slug}`,
    });
    assert.deepEqual(first.body.data.map((x: { slug: string }) => x.slug), [newer.slug]);
    assert.match(first.headers["surrogate-key"], new RegExp(`author:${eve.id}`));
    const second = await t.get(`/api/v1/authors/${eve.slug}?limit=1&cursor=${first.body.meta.nextCursor}`);
    assert.deepEqual(second.body.data.map((x: { slug: string }) => x.slug), [older.slug]);
    assert.equal(second.body.meta.nextCursor, null);
    assert.equal((await t.get("/api/v1/authors/nobody-here")).status, 404);
    assert.equal((await t.get("/api/v1/authors/Bad_Slug")).status, 400);
    assert.equal((await t.get(`/api/v1/authors/${eve.slug}?cursor=xyz`)).status, 400);
  });

  it("feeds per author profile: ?authorProfile=<slug>", async () => {
    const fay = await author("Fay Ng");
    const a = await story({ headline: "Fay's story", authors: [{ slug: fay.slug }] });
    const feed = await t.get(`/api/v1/feeds/json?authorProfile=${fay.slug}`);
    assert.equal(feed.status, 200, feed.text);
    const f = JSON.parse(feed.text);
    assert.deepEqual(f.items.map((i: { title: string }) => i.title), ["Fay's story"]);
    assert.deepEqual(f.items[0].authors, [{ name: "Fay Ng" }]);
    assert.equal(f.home_page_url, `${SITE}/authors/${fay.slug}`);
    assert.ok(a.id);
    assert.equal((await t.get("/api/v1/feeds/rss?authorProfile=nobody-here")).status, 404);
    assert.equal((await t.get(`/api/v1/feeds/rss?authorProfile=${fay.slug}&tag=x`)).status, 400);
    assert.equal((await t.get("/api/v1/feeds/rss?authorProfile=123")).status, 400);
  });
});

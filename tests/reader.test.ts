// The reference page's boxes: Latest News, section fronts, We Recommend,
// curated collections, photo stories, print and share, local publish time.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({
    SITE_TIMEZONE: "Asia/Shanghai",
    PUBLIC_SITE_URL: "https://news.example",
    PERMALINK_PATTERN: "/{section}/{yyyy}{mm}/{dd}/{slug}.html",
  });
  await makeSection(t, "english", undefined, "English");
  await makeSection(t, "china", "english", "China");
  await makeSection(t, "sichuan", "china", "Sichuan");
  await makeSection(t, "photos", "english", "Photos");
  await makeSection(t, "world", "english", "World");
});
after(() => t.close());

// Image rows as the upload endpoint would leave them (the upload itself is tested in media.test.ts).
const image = (caption = "A caption") =>
  t.db.prisma.media.create({
    data: { storageKey: `2013/06/${crypto.randomUUID()}.jpg`, mimeType: "image/jpeg", size: 1000, width: 800, height: 600, caption, credit: "Staff", alt: "alt text" },
  });

let clock = Date.parse("2013-06-08T00:00:00Z");
const at = () => new Date((clock += 60_000)).toISOString();
async function live(fields: Record<string, unknown>) {
  const a = await makeArticle(t, fields);
  return publish(t, a.id, at());
}

describe("Latest News and section fronts", () => {
  it("lists the newest published stories across sections", async () => {
    const a = await live({ headline: "Latest one", section: "world" });
    const b = await live({ headline: "Latest two", section: "sichuan" });
    const res = await t.get("/api/v1/latest?limit=2");
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.map((x: { slug: string }) => x.slug), [b.slug, a.slug]);
    assert.equal((await t.get("/api/v1/latest?limit=51")).status, 400);
  });

  it("leads with the pinned story, else the newest with a lead image, else the newest, without duplicates", async () => {
    await makeSection(t, "front-desk", "china", "Front desk");
    await makeSection(t, "front-sub", "front-desk", "Front sub");
    const empty = await t.get("/api/v1/sections/front-desk/front");
    assert.equal(empty.body.lead, null);
    assert.equal(empty.body.leadSource, null);
    assert.deepEqual(empty.body.stories, []);

    const old = await live({ headline: "Old with picture", section: "front-sub", leadImage: (await image()).id });
    const s1 = await live({ headline: "Plain one", section: "front-desk" });
    const s2 = await live({ headline: "Plain two", section: "front-sub" });
    let front = await t.get("/api/v1/sections/front-desk/front?limit=5");
    assert.equal(front.body.leadSource, "image");
    assert.equal(front.body.lead.slug, old.slug);
    assert.equal(front.body.lead.leadImage.width, 800);
    assert.deepEqual(front.body.stories.map((x: { slug: string }) => x.slug), [s2.slug, s1.slug]);
    assert.deepEqual(front.body.section.breadcrumb.map((x: { slug: string }) => x.slug), ["english", "china", "front-desk"]);

    const sec = (await t.get("/api/v1/admin/sections", { token: t.editor.token })).body.data.find((s: { slug: string }) => s.slug === "front-desk");
    assert.equal((await t.call("PUT", `/api/v1/admin/sections/${sec.id}/lead`, { token: t.writer.token, body: { articleId: s1.id } })).status, 403);
    const outside = await live({ headline: "Elsewhere", section: "world" });
    const bad = await t.call("PUT", `/api/v1/admin/sections/${sec.id}/lead`, { token: t.editor.token, body: { articleId: outside.id } });
    assert.equal(bad.status, 400);
    const pin = await t.call("PUT", `/api/v1/admin/sections/${sec.id}/lead`, { token: t.editor.token, body: { articleId: s1.id } });
    assert.equal(pin.status, 200);
    assert.equal(pin.body.leadArticleId, s1.id);
    front = await t.get("/api/v1/sections/front-desk/front");
    assert.equal(front.body.leadSource, "pinned");
    assert.equal(front.body.lead.slug, s1.slug);
    assert.deepEqual(front.body.stories.map((x: { slug: string }) => x.slug), [s2.slug, old.slug]);

    // A pinned story that goes offline stops leading.
    await t.post(`/api/v1/admin/articles/${s1.id}/unpublish`, undefined, { token: t.editor.token });
    front = await t.get("/api/v1/sections/front-desk/front");
    assert.equal(front.body.leadSource, "image");
    const unpin = await t.call("DELETE", `/api/v1/admin/sections/${sec.id}/lead`, { token: t.editor.token });
    assert.equal(unpin.body.leadArticleId, null);

    // Without any lead image, the newest leads.
    await makeSection(t, "no-pictures", "world");
    const n1 = await live({ headline: "First plain", section: "no-pictures" });
    const n2 = await live({ headline: "Second plain", section: "no-pictures" });
    front = await t.get("/api/v1/sections/no-pictures/front");
    assert.equal(front.body.leadSource, "newest");
    assert.equal(front.body.lead.slug, n2.slug);
    assert.deepEqual(front.body.stories.map((x: { slug: string }) => x.slug), [n1.slug]);
    assert.equal((await t.get("/api/v1/sections/nope/front")).status, 404);
  });
});

describe("We Recommend", () => {
  it("keeps editor order, and otherwise fills up to 6 by shared tags, then section, marked automatic", async () => {
    await makeSection(t, "rec", "world");
    await makeSection(t, "rec-other", "world");
    const tagged = [];
    for (let i = 0; i < 3; i++) tagged.push(await live({ headline: `Tagged ${i}`, section: "rec-other", tags: ["floods"] }));
    const sameSection = [];
    for (let i = 0; i < 5; i++) sameSection.push(await live({ headline: `Same section ${i}`, section: "rec" }));
    const hidden = await makeArticle(t, { headline: "Unpublished tagged", section: "rec", tags: ["floods"] });
    const trashedOne = await live({ headline: "Trashed tagged", section: "rec", tags: ["floods"] });
    await t.del(`/api/v1/admin/articles/${trashedOne.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${trashedOne.id}`) });

    const main = await live({ headline: "Flood story", section: "rec", tags: ["floods"] });
    const res = await t.get(`/api/v1/articles/${main.slug}`);
    const slugs = res.body.related.map((r: { slug: string }) => r.slug);
    assert.equal(slugs.length, 6);
    assert.deepEqual(slugs.slice(0, 3), [tagged[2].slug, tagged[1].slug, tagged[0].slug], "shared tags first, newest first");
    assert.deepEqual(slugs.slice(3), [sameSection[4].slug, sameSection[3].slug, sameSection[2].slug], "then the section");
    assert.ok(res.body.related.every((r: { automatic: boolean }) => r.automatic));
    assert.ok(!slugs.includes(main.slug) && !slugs.includes(hidden.slug) && !slugs.includes(trashedOne.slug));

    const picked = await live({ headline: "Hand picked", section: "rec", tags: ["floods"], related: [sameSection[0].id, tagged[0].id] });
    const p = await t.get(`/api/v1/articles/${picked.slug}`);
    assert.deepEqual(p.body.related, [
      { slug: sameSection[0].slug, headline: "Same section 0", kind: "STORY", automatic: false },
      { slug: tagged[0].slug, headline: "Tagged 0", kind: "STORY", automatic: false },
    ]);
  });
});

describe("photo stories and lead images", () => {
  it("carries a lead image in lists and payloads and an ordered gallery on PHOTO_STORY", async () => {
    const [lead, g1, g2] = [await image("Lead"), await image("First"), await image("Second")];
    const notPhoto = await t.post("/api/v1/admin/articles", { headline: "Not a photo story", section: "photos", gallery: [{ media: g1.id }] }, { token: t.editor.token });
    assert.equal(notPhoto.status, 400);
    assert.equal(notPhoto.body.errors[0].path, "body.gallery");
    const missing = await t.post("/api/v1/admin/articles", { headline: "Missing image", section: "photos", leadImage: 424242 }, { token: t.editor.token });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].path, "body.leadImage");

    const a = await live({
      headline: "Terraces at dawn", section: "photos", kind: "PHOTO_STORY", leadImage: lead.id,
      gallery: [{ media: g2.id, caption: "Mist over the fields" }, { media: g1.id }],
    });
    assert.equal(a.leadImage.id, lead.id);
    const full = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(full.body.leadImage.url, `/media/${lead.storageKey}`);
    assert.deepEqual(full.body.gallery.map((g: { image: { id: number }; caption: string }) => [g.image.id, g.caption]), [
      [g2.id, "Mist over the fields"], [g1.id, "First"],
    ]);
    const list = await t.get("/api/v1/articles?kind=PHOTO_STORY&section=photos");
    assert.equal(list.body.data[0].leadImage.id, lead.id);
    assert.equal("gallery" in list.body.data[0], false);

    // Reordering the gallery is a new revision.
    const path = `/api/v1/admin/articles/${a.id}`;
    const re = await t.patch(path, { gallery: [{ media: g1.id }, { media: g2.id }] }, { token: t.editor.token, headers: await t.ifMatch(path) });
    assert.deepEqual(re.body.gallery.map((g: { image: { id: number } }) => g.image.id), [g1.id, g2.id]);
    const revs = await t.get(`${path}/revisions`, { token: t.editor.token });
    assert.deepEqual(revs.body.data[0].changedFields, ["gallery"]);
  });
});

describe("curated collections", () => {
  it("manages an ordered list with overrides and serves published items in order", async () => {
    const [x, y, z] = [await live({ headline: "Pick X", section: "world", leadImage: (await image()).id }), await live({ headline: "Pick Y", section: "world" }), await live({ headline: "Pick Z", section: "world" })];
    const draft = await makeArticle(t, { headline: "Draft pick", section: "world" });
    const override = await image("Override");
    assert.equal((await t.post("/api/v1/admin/collections", { slug: "editors-picks", name: "Editors' picks" }, { token: t.writer.token })).status, 403);
    const c = await t.post("/api/v1/admin/collections", { slug: "selections-for-you", name: "Selections for you" }, { token: t.editor.token });
    assert.equal(c.status, 201);
    const base = `/api/v1/admin/collections/${c.body.id}`;
    assert.equal((await t.post("/api/v1/admin/collections", { slug: "selections-for-you", name: "Again" }, { token: t.editor.token })).status, 409);
    await t.post(`${base}/items`, { articleId: x.id }, { token: t.editor.token });
    await t.post(`${base}/items`, { articleId: y.id, headline: "Y, shorter", image: override.id }, { token: t.editor.token });
    await t.post(`${base}/items`, { articleId: draft.id }, { token: t.editor.token });
    const ins = await t.post(`${base}/items`, { articleId: z.id, position: 0 }, { token: t.editor.token });
    assert.equal(ins.status, 201);
    assert.deepEqual(ins.body.items.map((i: { article: { id: number } }) => i.article.id), [z.id, x.id, y.id, draft.id]);
    assert.deepEqual(ins.body.items.map((i: { position: number }) => i.position), [0, 1, 2, 3]);
    assert.equal((await t.post(`${base}/items`, { articleId: x.id }, { token: t.editor.token })).status, 409);

    let pub = await t.get("/api/v1/collections/selections-for-you");
    assert.equal(pub.status, 200);
    assert.equal(pub.body.name, "Selections for you");
    assert.deepEqual(pub.body.items.map((i: { headline: string }) => i.headline), ["Pick Z", "Pick X", "Y, shorter"], "drafts are left out");
    assert.equal(pub.body.items[1].image.id, x.leadImage.id, "the lead image by default");
    assert.equal(pub.body.items[2].image.id, override.id, "or the override");

    const ids = ins.body.items.map((i: { id: number }) => i.id);
    const bad = await t.call("PUT", `${base}/items`, { token: t.editor.token, body: { itemIds: ids.slice(1) } });
    assert.equal(bad.status, 400);
    const reordered = await t.call("PUT", `${base}/items`, { token: t.editor.token, body: { itemIds: [...ids].reverse() } });
    assert.equal(reordered.status, 200);
    const yItem = ins.body.items.find((i: { article: { id: number } }) => i.article.id === y.id);
    await t.patch(`${base}/items/${yItem.id}`, { headline: null }, { token: t.editor.token });
    const zItem = ins.body.items.find((i: { article: { id: number } }) => i.article.id === z.id);
    const removed = await t.del(`${base}/items/${zItem.id}`, { token: t.editor.token });
    assert.equal(removed.status, 200);
    pub = await t.get("/api/v1/collections/selections-for-you");
    assert.deepEqual(pub.body.items.map((i: { headline: string }) => i.headline), ["Pick Y", "Pick X"]);

    const renamed = await t.patch(base, { name: "Picked for you" }, { token: t.editor.token, headers: { "If-Match": '"1"' } });
    assert.equal(renamed.status, 412);
    const one = await t.get(base, { token: t.editor.token });
    assert.deepEqual(one.body.items.map((i: { article: { id: number } }) => i.article.id), [draft.id, y.id, x.id], "reversed, without the removed item");
    assert.equal(one.body.items.find((i: { article: { id: number } }) => i.article.id === draft.id).article.status, "DRAFT");
    assert.equal(one.headers.etag, `"${one.body.version}"`);
    assert.equal((await t.get(`/api/v1/admin/collections/424242`, { token: t.editor.token })).status, 404);
    const list = await t.get("/api/v1/admin/collections", { token: t.editor.token });
    assert.equal(list.body.data.find((l: { id: number }) => l.id === c.body.id).itemCount, 3);
    assert.equal((await t.del(base, { token: t.editor.token })).status, 204);
    assert.equal((await t.get("/api/v1/collections/selections-for-you")).status, 404);
  });
});

describe("print, share and local time", () => {
  it("gives publishedAtLocal in the site's time zone, canonical, email and print links", async () => {
    const a = await makeArticle(t, {
      headline: "Envoys meet <in> Chengdu", summary: "Talks on trade & culture.", section: "china",
      dateline: "CHENGDU", source: "Meridian News Agency", editors: [t.editor.id],
      body: "<p>First paragraph.</p><p>Second paragraph.</p>",
    });
    await publish(t, a.id, "2013-06-08T14:55:00+08:00");
    const res = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(res.body.publishedAt, "2013-06-08T06:55:00.000Z");
    assert.equal(res.body.publishedAtLocal, "14:55, June 08, 2013");
    assert.equal(res.body.links.canonical, `https://news.example/china/201306/08/${a.slug}.html`);
    assert.equal(res.body.links.print, `/api/v1/articles/${a.slug}/print`);
    const mail = new URL(res.body.links.email);
    assert.equal(mail.protocol, "mailto:");
    assert.equal(mail.searchParams.get("subject"), "Envoys meet <in> Chengdu");
    assert.match(mail.searchParams.get("body")!, /Talks on trade & culture\.\n\nhttps:\/\/news\.example\/china\//);
    const list = await t.get("/api/v1/articles?section=china&limit=100");
    assert.equal(list.body.data.find((x: { slug: string }) => x.slug === a.slug).publishedAtLocal, "14:55, June 08, 2013");

    const html = await t.get(res.body.links.print);
    assert.equal(html.status, 200);
    assert.match(html.headers["content-type"], /^text\/html/);
    assert.doesNotMatch(html.text, /<script/i);
    assert.match(html.text, /<h1>Envoys meet &lt;in&gt; Chengdu<\/h1>/);
    assert.match(html.text, /14:55, June 08, 2013/);
    assert.match(html.text, /CHENGDU \(Meridian News Agency\) --/);
    assert.match(html.text, /<p>Second paragraph.<\/p>/);
    assert.match(html.text, /Editor: EDITOR \d+/);
    assert.match(html.headers["content-security-policy"], /default-src 'none'/);

    const text = await t.get(res.body.links.print, { headers: { Accept: "text/plain" } });
    assert.match(text.headers["content-type"], /^text\/plain/);
    assert.match(text.text, /^Envoys meet <in> Chengdu\n\n14:55, June 08, 2013\n\nCHENGDU \(Meridian News Agency\) -- First paragraph\.\n\nSecond paragraph\./);
    assert.match(text.text, /Editor: /);
    assert.equal((await t.get("/api/v1/articles/missing/print")).status, 404);
  });

  it("closes comments on one article through the editor API", async () => {
    const a = await live({ headline: "Closed for comments", section: "world" });
    const path = `/api/v1/admin/articles/${a.id}`;
    const upd = await t.patch(path, { commentsClosed: true }, { token: t.editor.token, headers: await t.ifMatch(path) });
    assert.equal(upd.body.commentsClosed, true);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.commentsOpen, false);
    const post = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "Hello" });
    assert.equal(post.status, 403);
  });
});

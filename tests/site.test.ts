// The reference reader site (site/): started on its own port next to a live API, it renders the
// reference article page and its boxes from the public API only (it is given nothing but the API's URL).
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { DomUtils, parseDocument } from "htmlparser2";
type Element = ReturnType<typeof DomUtils.findAll>[number];
import { createSite } from "../site/src/app.ts";
import { placeholderPng } from "../src/seed/placeholder.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

let t: TestApp;
let site: http.Server;
let api = "";
let base = "";
let slug = "";
let articleId = 0;

async function upload(name: string, color: [number, number, number], alt: string): Promise<number> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(placeholderPng(8, 6, color))], { type: "image/png" }), name);
  form.append("alt", alt);
  form.append("caption", `${alt}.`);
  const res = await fetch(`${api}/api/v1/admin/media`, { method: "POST", body: form, headers: { Authorization: `Bearer ${t.editor.token}` } });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: number }).id;
}

before(async () => {
  t = await startTestApp({ SITE_TIMEZONE: "Asia/Shanghai", TRUST_PROXY: "true" });
  api = `http://127.0.0.1:${(t.server.address() as { port: number }).port}`;
  await makeSection(t, "english", undefined, "English");
  await makeSection(t, "foreign-affairs", "english", "Foreign Affairs");
  await makeSection(t, "china", "english", "China");
  const liu = await t.addEditor("EDITOR", "Liu Fang");
  const zhao = await t.addEditor("EDITOR", "Zhao Min");

  const photoIds = [await upload("a.png", [200, 30, 30], "Delegates in the hall"), await upload("b.png", [30, 30, 200], "A river at dusk")];
  const other = await makeArticle(t, { headline: "Trade fair draws record crowds", section: "foreign-affairs", leadImage: photoIds[1] });
  await publish(t, other.id, "2013-06-07T02:00:00Z");
  const related = await makeArticle(t, { headline: "Sister cities sign exchange pact", section: "china", leadImage: photoIds[0] });
  await publish(t, related.id, "2013-06-06T02:00:00Z");
  const art = await makeArticle(t, {
    headline: "Western Gateway Forum opens with pledges on trade",
    summary: "Delegates agreed to expand freight links.",
    dateline: "CHENGDU",
    source: "Meridian News Agency",
    section: "foreign-affairs",
    body: "<p>Delegations from fourteen partner cities opened the forum on Saturday.</p><p>It closes on Monday.</p>",
    editors: [liu.id, zhao.id],
    related: [related.id],
    leadImage: photoIds[0],
  });
  await publish(t, art.id, "2013-06-08T06:55:00Z");
  slug = art.slug;
  articleId = art.id;

  const col = await t.post("/api/v1/admin/collections", { slug: "selections-for-you", name: "Selections for you" }, { token: t.editor.token });
  assert.equal(col.status, 201, col.text);
  for (const id of [other.id, related.id]) {
    assert.equal((await t.post(`/api/v1/admin/collections/${col.body.id}/items`, { articleId: id }, { token: t.editor.token })).status, 201);
  }
  // A counted view, so Most Popular lists the story.
  assert.equal((await t.post(`/api/v1/articles/${slug}/views`, undefined, { headers: { "User-Agent": BROWSER, "X-Forwarded-For": "203.0.113.9" } })).status, 202);
  await t.views.flush();

  site = http.createServer(createSite({ apiUrl: api, siteName: "Dateline Daily" }));
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => site?.close(() => resolve()));
  await t?.close();
});

async function page(path: string) {
  const res = await fetch(base + path);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, doc: parseDocument(text) };
}
const all = (root: any, pred: (e: Element) => boolean): Element[] => DomUtils.findAll(pred, root.children ?? root);
const one = (root: any, pred: (e: Element) => boolean): Element => {
  const e = DomUtils.findOne(pred, root.children ?? root);
  assert.ok(e, "element not found");
  return e;
};
const text = (e: Element) => DomUtils.textContent(e).replace(/\s+/g, " ").trim();
const attr = (e: Element, name: string) => e.attribs[name];
const byClass = (cls: string) => (e: Element) => (e.attribs.class ?? "").split(/\s+/).includes(cls);
const byTag = (tag: string) => (e: Element) => e.name === tag;
const box = (doc: any, heading: string) => {
  const h = one(doc, (e) => e.name === "h2" && text(e) === heading);
  return h.parent as Element;
};

describe("reader site: the reference article page", () => {
  it("renders every element of the page from the API", async () => {
    const { status, headers, doc } = await page(`/articles/${slug}`);
    assert.equal(status, 200);
    assert.match(headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(attr(one(doc, byTag("html")), "lang"), "en");

    // Landmarks and the section bar.
    one(doc, byTag("header"));
    one(doc, byTag("main"));
    one(doc, byTag("footer"));
    assert.equal(attr(one(doc, byTag("aside")), "aria-label"), "More stories");
    const bar = one(doc, (e) => e.name === "nav" && attr(e, "aria-label") === "Sections");
    assert.deepEqual(all(bar, byTag("a")).map(text), ["English", "China", "Foreign Affairs"]);
    assert.equal(attr(one(bar, (e) => attr(e, "aria-current") === "page"), "href"), "/section/foreign-affairs");

    // The article: breadcrumb, headline, local time, dateline and agency, body, tools, editors.
    const article = one(doc, (e) => e.name === "article" && byClass("story")(e));
    const crumb = one(article, (e) => e.name === "nav" && attr(e, "aria-label") === "Breadcrumb");
    assert.deepEqual(all(crumb, byTag("li")).map(text), ["English", "Foreign Affairs"]);
    assert.equal(all(doc, byTag("h1")).length, 1);
    assert.equal(text(one(article, byTag("h1"))), "Western Gateway Forum opens with pledges on trade");
    const time = one(article, byClass("published"));
    assert.equal(text(time), "14:55, June 08, 2013", "local publish time in SITE_TIMEZONE (UTC+8)");
    assert.equal(attr(time, "datetime"), "2013-06-08T06:55:00.000Z");
    assert.equal(text(one(article, byClass("dateline"))), "CHENGDU");
    assert.equal(text(one(article, byClass("source"))), "(Meridian News Agency)");
    const body = one(article, byClass("article-body"));
    assert.deepEqual(all(body, byTag("p")).map(text), ["Delegations from fourteen partner cities opened the forum on Saturday.", "It closes on Monday."]);
    const lead = one(article, (e) => e.name === "figure");
    assert.equal(attr(one(lead, byTag("img")), "alt"), "Delegates in the hall");
    assert.match(attr(one(lead, byTag("img")), "src"), new RegExp(`^${api}/media/`));
    const tools = one(article, byClass("tools"));
    assert.equal(text(tools), "Email | Print | Comments");
    const [email, print, comments] = all(tools, byTag("a"));
    assert.match(attr(email, "href"), /^mailto:/);
    assert.equal(attr(print, "href"), `/articles/${slug}/print`);
    assert.equal(attr(comments, "href"), "#comments");
    assert.equal(text(one(article, byClass("editors"))), "Editor: Liu Fang, Zhao Min");

    // Comments: the count, and a form asking only for a name and the comment.
    const section = one(doc, (e) => attr(e, "id") === "comments");
    assert.equal(text(one(section, byTag("h2"))), "Comments (0)");
    const form = one(section, byTag("form"));
    assert.equal(attr(form, "method"), "post");
    assert.deepEqual(all(form, (e) => e.name === "input" || e.name === "textarea").map((e) => attr(e, "name")), ["name", "body"]);
    for (const field of all(form, (e) => e.name === "input" || e.name === "textarea")) {
      one(form, (e) => e.name === "label" && attr(e, "for") === attr(field, "id"));
    }

    // We Recommend, Selections for you (with photos), Latest News, Most Popular, the section box.
    assert.deepEqual(all(box(doc, "We Recommend"), byTag("a")).map(text), ["Sister cities sign exchange pact"]);
    const selections = box(doc, "Selections for you");
    assert.deepEqual(all(selections, byTag("img")).map((e) => attr(e, "alt")), ["A river at dusk", "Delegates in the hall"]);
    assert.deepEqual(all(selections, byTag("span")).map(text), ["Trade fair draws record crowds", "Sister cities sign exchange pact"]);
    assert.deepEqual(all(box(doc, "Latest News"), byTag("a")).map(text).slice(0, 2),
      ["Western Gateway Forum opens with pledges on trade", "Trade fair draws record crowds"]);
    assert.deepEqual(all(box(doc, "Most Popular"), byTag("a")).map(text), ["Western Gateway Forum opens with pledges on trade"]);
    const sectionBox = box(doc, "Foreign Affairs");
    assert.ok(sectionBox.attribs.class?.includes("section-box"));
    assert.equal(text(one(one(sectionBox, byClass("lead-story")), byTag("h3"))), "Western Gateway Forum opens with pledges on trade");
    assert.deepEqual(all(one(sectionBox, byTag("ul")), byTag("a")).map(text), ["Trade fair draws record crowds"]);

    // Every image has a text alternative.
    for (const img of all(doc, byTag("img"))) assert.ok(attr(img, "alt"), `img ${attr(img, "src")} has no alt`);

    // JSON-LD as the API provides it, and the view beacon sent by the page.
    const ld = one(doc, (e) => e.name === "script" && attr(e, "type") === "application/ld+json");
    const json = JSON.parse(DomUtils.textContent(ld));
    assert.equal(json["@type"], "NewsArticle");
    assert.equal(json.headline, "Western Gateway Forum opens with pledges on trade");
    const beacon = all(doc, (e) => e.name === "script" && !attr(e, "type")).map((e) => DomUtils.textContent(e)).join("\n");
    assert.ok(beacon.includes(`${api}/api/v1/articles/${slug}/views`) && beacon.includes('method:"POST"'), beacon);

    // Responsive: a viewport and the stylesheet's narrow-screen rule.
    one(doc, (e) => e.name === "meta" && attr(e, "name") === "viewport");
    const css = await fetch(`${base}/site.css`);
    assert.equal(css.status, 200);
    assert.match(await css.text(), /@media \(max-width: 760px\)[\s\S]*@media print/);
  });

  it("escapes what readers write and posts a comment that appears after approval", async () => {
    const post = await fetch(`${base}/articles/${slug}/comments`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "Ana <b>", body: "Great <script>alert(1)</script> read" }).toString(),
    });
    assert.equal(post.status, 303);
    assert.equal(post.headers.get("location"), `/articles/${slug}?comment=pending#comments`);
    const pending = await page(`/articles/${slug}?comment=pending`);
    assert.match(text(one(pending.doc, (e) => attr(e, "role") === "status")), /once a moderator approves it/);
    assert.equal(text(one(pending.doc, (e) => attr(e, "id") === "comments-h")), "Comments (0)");

    const queue = await t.get(`/api/v1/admin/comments?status=PENDING`, { token: t.editor.token });
    const id = queue.body.data.find((c: { name: string }) => c.name === "Ana <b>").id;
    assert.equal((await t.patch(`/api/v1/admin/comments/${id}`, { status: "APPROVED" }, { token: t.editor.token })).status, 200);

    const shown = await page(`/articles/${slug}`);
    assert.equal(text(one(shown.doc, (e) => attr(e, "id") === "comments-h")), "Comments (1)");
    const list = one(shown.doc, byClass("comment-list"));
    assert.match(text(list), /Ana <b>.*Great <script>alert\(1\)<\/script> read/);
    assert.ok(!shown.text.includes("<script>alert(1)"), "reader text is escaped");

    const blank = await fetch(`${base}/articles/${slug}/comments`, {
      method: "POST", redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "name=&body=",
    });
    assert.equal(blank.status, 303);
    assert.equal(blank.headers.get("location"), `/articles/${slug}?comment=error&reason=validation-error#comments`);
    const shownError = await page(`/articles/${slug}?comment=error&reason=validation-error`);
    assert.match(text(one(shownError.doc, (e) => attr(e, "role") === "alert")), /please give your name and a comment/);
    const spoof = await page(`/articles/${slug}?comment=error&reason=${encodeURIComponent("Call 555-0100 now")}`);
    assert.ok(!spoof.text.includes("555-0100"), "the notice never echoes the query");
  });

  it("serves the print view, section fronts, the home page, permalinks and a 404", async () => {
    const print = await page(`/articles/${slug}/print`);
    assert.equal(print.status, 200);
    assert.equal(text(one(print.doc, byTag("h1"))), "Western Gateway Forum opens with pledges on trade");
    assert.equal(text(one(print.doc, byClass("editors"))), "Editor: Liu Fang, Zhao Min");
    assert.equal(all(print.doc, byTag("form")).length + all(print.doc, byTag("aside")).length, 0);

    const front = await page("/section/foreign-affairs");
    assert.equal(front.status, 200);
    assert.equal(text(one(front.doc, byTag("h1"))), "Foreign Affairs");
    assert.equal(text(one(one(front.doc, byClass("lead-story")), byTag("h2"))), "Western Gateway Forum opens with pledges on trade");
    const parent = await page("/section/english");
    assert.ok(all(parent.doc, byTag("a")).some((a) => text(a) === "Sister cities sign exchange pact"), "a parent's front includes its descendants");

    const home = await page("/");
    assert.equal(home.status, 200);
    box(home.doc, "Latest News");
    box(home.doc, "Selections for you");

    const art = await t.get(`/api/v1/articles/${slug}`);
    const permalink = new URL(art.body.links.canonical).pathname;
    assert.equal((await page(permalink)).status, 200, permalink);

    for (const missing of ["/articles/no-such-story", "/section/nowhere", "/articles/Bad%20Slug", "/nothing/here"]) {
      const res = await page(missing);
      assert.equal(res.status, 404, missing);
      assert.equal(text(one(res.doc, byTag("h1"))), "Page not found");
    }
    assert.ok(articleId > 0);
  });
});

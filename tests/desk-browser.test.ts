// The desk (issue 14) in a real headless Chromium (Debian's, via playwright-core; tests/support/browser.ts):
// a writer logs in, writes an article (headline, section, body typed in the rich-text editor) and submits
// it; an editor sees the writer's edit lock, takes it over and publishes; the story is then in the public
// API. Two tabs editing one article meet the 412 conflict screen and resolve it both ways. Every page
// runs under the desk's strict CSP with no console error. Screenshots go to test-artifacts/;
// UPDATE_README_SCREENSHOT=1 also rewrites docs/screenshots/desk-editor.png.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { browserSkip, type TestPage } from "./support/browser.ts";
import { makeArticle, makeSection, PASSWORD, publish, type TestApp } from "./support/harness.ts";
import { assertAccessible, assertNoConsoleErrors, deskTabs, LAPTOP, login, saved, startDeskApp, until } from "./support/desk.ts";
import { REPO_ROOT } from "../src/paths.ts";

const SCREENSHOT_DOC = path.join(REPO_ROOT, "docs", "screenshots", "desk-editor.png");

describe("the desk in Chromium", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    // The newsroom's clock is not the browser's (UTC here): the schedule picker must use the site's.
    ({ t, base } = await startDeskApp({ SITE_TIMEZONE: "Asia/Shanghai" }));
    await makeSection(t, "world", undefined, "World");
    await makeSection(t, "asia", "world", "Asia");
    await makeSection(t, "business", undefined, "Business");
  });
  const { open, forget } = deskTabs({
    cleanup: () => t?.close(),
  });

  let articleId = 0;
  let writerTab: TestPage | undefined;
  let slug = "";

  it("a writer logs in, writes an article in the rich-text editor and submits it", async () => {
    const tab = await open();
    writerTab = tab;
    const { page } = tab;
    await login(page, base, t.writer.email);
    assert.match(await page.getByTestId("whoami").innerText(), /Writer/i);
    // The session survives a reload (the refresh token is kept as the API hands it out).
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Articles" }).waitFor();
    await tab.screenshot("desk-list-empty");
    await assertAccessible(page, "the article list");

    // Keyboard: the first Tab reaches the skip link; a new screen puts the focus on its heading.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate("document.activeElement.textContent"), "Skip to content");
    await page.getByRole("link", { name: "New article" }).first().click();
    await page.getByRole("heading", { level: 1, name: "New article" }).waitFor();
    await page.locator("h1:focus").waitFor();
    await page.getByLabel("Headline").fill("Harbour ferry returns after storm repairs");
    await page.getByLabel("Section").selectOption("asia");
    await page.getByRole("button", { name: "Create draft" }).click();
    await page.waitForURL(/\/desk\/articles\/\d+$/);
    articleId = Number(/(\d+)$/.exec(page.url())![1]);
    assert.equal(await page.getByTestId("article-status").innerText(), "Draft");
    await page.getByTestId("lock-state").waitFor();

    await page.getByLabel("Summary").fill("Crossings resume on Monday.");
    await page.getByLabel("Dateline").fill("PORT LOUIS");
    const body = page.getByRole("textbox", { name: "Body" });
    await body.click();
    await page.keyboard.type("The ferry made its first crossing in two weeks.");
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "H3 subheading" }).click();
    await page.keyboard.type("Timetable");
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Bulleted list" }).click();
    await page.keyboard.type("Hourly from 6 am");
    await page.keyboard.press("Enter");
    await page.keyboard.type("Last boat at 10 pm");
    await saved(page);

    const stored = await t.get(`/api/v1/admin/articles/${articleId}`, { token: t.writer.token });
    assert.equal(stored.body.summary, "Crossings resume on Monday.");
    assert.equal(stored.body.dateline, "PORT LOUIS");
    assert.equal(stored.body.section.slug, "asia");
    assert.equal(stored.body.body,
      "<p>The ferry made its first crossing in two weeks.</p><h3>Timetable</h3><ul><li><p>Hourly from 6 am</p></li><li><p>Last boat at 10 pm</p></li></ul>");
    slug = stored.body.slug;

    // A writer has no publish button: the server decides, the desk does not offer it.
    assert.equal(await page.getByRole("button", { name: "Publish now" }).count(), 0);
    await page.getByRole("button", { name: "Submit for review" }).click();
    await page.getByTestId("article-status").filter({ hasText: "In review" }).waitFor();
    await tab.screenshot("desk-editor-writer");
    await assertAccessible(page, "the editor");
    assertNoConsoleErrors(tab);
    // The writer keeps the article open: the editor meets the lock below.
  });

  it("an editor sees the writer's lock, takes it over and publishes; the story is public", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.getByRole("button", { name: "In review" }).click();
    const link = page.getByRole("link", { name: "Harbour ferry returns after storm repairs" });
    await link.waitFor();
    await tab.screenshot("desk-list");
    await link.click();
    const banner = page.getByTestId("lock-banner");
    await banner.waitFor();
    assert.match(await banner.innerText(), /WRITER 3 has been editing this article/);
    assert.ok(await page.getByLabel("Headline").isDisabled());
    await assertAccessible(page, "the editor, locked by someone else");
    await page.getByRole("button", { name: "Take over editing" }).click();
    await page.getByTestId("lock-state").waitFor();
    // The writer's tab is done with (its next heartbeat would learn of the takeover): checked and closed.
    assert.ok(writerTab);
    assertNoConsoleErrors(writerTab);
    await writerTab.close();
    forget(writerTab);
    await page.getByRole("button", { name: "Publish now" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Published" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Published: now published." }).waitFor();

    const res = await fetch(`${base}/api/v1/articles/${slug}`);
    assert.equal(res.status, 200);
    const pub = await res.json() as { headline: string; body: string; dateline: string | null };
    assert.equal(pub.headline, "Harbour ferry returns after storm repairs");
    assert.equal(pub.dateline, "PORT LOUIS");
    assert.match(pub.body, /<h3>Timetable<\/h3>/);
    await page.evaluate("window.scrollTo(0, 0)");
    await tab.screenshot("desk-editor-published");
    // The picture in the docs: the editor on a laptop screen, the story just published. Written to
    // test-artifacts/ on every run; UPDATE_README_SCREENSHOT=1 also rewrites the committed one.
    await page.setViewportSize({ width: 1280, height: 1320 });
    const shot = await tab.screenshot("desk-editor-readme", { fullPage: false });
    assert.ok(fs.statSync(shot).size < 400 * 1024);
    if (process.env.UPDATE_README_SCREENSHOT === "1") {
      fs.mkdirSync(path.dirname(SCREENSHOT_DOC), { recursive: true });
      fs.copyFileSync(shot, SCREENSHOT_DOC);
    }
    assertNoConsoleErrors(tab);
  });

  it("two tabs on one draft: the second save meets the conflict screen; keep mine, then take theirs", async () => {
    const draft = await makeArticle(t, { headline: "Council votes on the bridge", section: "business", summary: "First summary." });
    const tab = await open();
    const a = tab.page;
    await login(a, base, t.editor.email);
    await a.goto(`${base}/desk/articles/${draft.id}`);
    await a.getByTestId("lock-state").waitFor();
    // A second tab of the same browser: the same session (localStorage), the same editor.
    const b = await tab.context.newPage();
    const bErrors: string[] = [];
    b.on("console", (m) => { if (m.type() === "error") bErrors.push(`${m.text()} (${m.location().url})`); });
    b.on("pageerror", (e) => bErrors.push(e.message));
    await b.setViewportSize(LAPTOP.viewport);
    await b.goto(`${base}/desk/articles/${draft.id}`);
    await b.getByTestId("lock-state").waitFor();

    await a.getByLabel("Headline").fill("Council approves the bridge");
    await saved(a);
    await b.getByLabel("Summary").fill("Summary from the second tab.");
    const conflict = b.getByTestId("conflict");
    await conflict.waitFor({ timeout: 15_000 });
    const text = await conflict.innerText();
    assert.match(text, /Someone else saved this article/);
    assert.match(text, /Council approves the bridge/);  // theirs
    assert.match(text, /Council votes on the bridge/);  // mine
    assert.match(text, /Summary from the second tab\./);
    // The heading of the conflict screen has the focus (keyboard and screen-reader users land on it).
    assert.equal(await b.evaluate("document.activeElement && document.activeElement.id"), "conflict-title");
    await b.screenshot({ path: path.join(path.dirname(await tab.screenshot("desk-editor-tab-a")), "desk-conflict.png"), fullPage: true });

    await assertAccessible(b, "the conflict screen");
    await b.getByRole("button", { name: "Keep mine" }).click();
    await saved(b);
    let stored = (await t.get(`/api/v1/admin/articles/${draft.id}`, { token: t.editor.token })).body;
    assert.equal(stored.headline, "Council votes on the bridge");
    assert.equal(stored.summary, "Summary from the second tab.");

    // Tab A is now the stale one: its next save conflicts; it takes theirs.
    await a.getByLabel("Dateline").fill("RIVERTON");
    await a.getByTestId("conflict").waitFor({ timeout: 15_000 });
    await a.getByRole("button", { name: "Take theirs" }).click();
    await a.getByTestId("conflict").waitFor({ state: "detached" });
    assert.equal(await a.getByLabel("Headline").inputValue(), "Council votes on the bridge");
    assert.equal(await a.getByLabel("Summary").inputValue(), "Summary from the second tab.");
    assert.equal(await a.getByLabel("Dateline").inputValue(), "");
    assert.equal(await a.getByTestId("save-state").innerText(), "No changes");
    stored = (await t.get(`/api/v1/admin/articles/${draft.id}`, { token: t.editor.token })).body;
    assert.equal(stored.dateline, null);

    await a.getByRole("textbox", { name: "Body" }).click();
    await a.keyboard.type(" More from the meeting.");
    await saved(a);
    await tab.screenshot("desk-editor");
    assertNoConsoleErrors({ consoleErrors: bErrors });
    assertNoConsoleErrors(tab);
  });

  it("an editor returns, schedules, unpublishes and archives; the list filters, searches and pages", async () => {
    for (let i = 1; i <= 27; i++) await makeArticle(t, { headline: `Market report ${i}`, section: "business" });
    const zeppelin = await makeArticle(t, { headline: "Airship hangar reopens", section: "asia", kind: "ANALYSIS",
      body: "<p>The old zeppelin hangar opens to visitors.</p>" }, t.writer.token);
    await t.post(`/api/v1/admin/articles/${zeppelin.id}/submit`, undefined, { token: t.writer.token });

    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    const rows = page.locator("table.articles tbody tr");
    // The list once loaded (aria-busy goes true with every change of filters, false when the page is in).
    const listed = async () => {
      await page.locator('table.articles[aria-busy="false"]').waitFor();
      return rows.count();
    };
    // 25 a page, then "Load more" follows meta.nextCursor.
    await page.getByRole("button", { name: "Drafts" }).click();
    assert.equal(await listed(), 25);
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByRole("button", { name: "Load more" }).waitFor({ state: "detached" });
    const drafts = (await t.get("/api/v1/admin/articles?status=DRAFT&limit=100", { token: t.editor.token })).body.data.length;
    assert.ok(drafts > 25);
    assert.equal(await listed(), drafts);
    // Filters: section (sub-sections included) and kind.
    await page.getByRole("button", { name: "All", exact: true }).click();
    await page.getByLabel("Section").selectOption("world");
    await page.getByLabel("Kind").selectOption("ANALYSIS");
    assert.equal(await listed(), 1);
    await page.getByRole("link", { name: "Airship hangar reopens" }).waitFor();
    await page.getByLabel("Kind").selectOption("");
    await page.getByLabel("Section").selectOption("");
    // By author (the editor directory): the writer's stories, as the API lists them.
    const writersOwn = (await t.get(`/api/v1/admin/articles?author=${t.writer.id}&limit=100`, { token: t.editor.token })).body.data as { author: { name: string } }[];
    assert.ok(writersOwn.length >= 2);
    const writerName = writersOwn[0]!.author.name;
    await page.getByLabel("Author").selectOption({ label: writerName });
    assert.equal(await listed(), writersOwn.length);
    assert.deepEqual(new Set(await rows.locator("td:nth-child(4)").allInnerTexts()), new Set([writerName]));
    await page.getByLabel("Author").selectOption("");
    // Full-text search over every status, with the highlighted snippet.
    await page.getByLabel("Search").fill("zeppelin");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    assert.equal(await listed(), 1);
    await page.locator(".snippet mark").filter({ hasText: /zeppelin/i }).waitFor();
    await tab.screenshot("desk-list-search");
    await assertAccessible(page, "the list with search results");

    await page.getByRole("link", { name: "Airship hangar reopens" }).click();
    await page.getByTestId("lock-state").waitFor();
    await page.getByLabel("Note to the writer").fill("Add the opening hours.");
    await page.getByRole("button", { name: "Return to writer" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Draft" }).waitFor();
    let stored = (await t.get(`/api/v1/admin/articles/${zeppelin.id}`, { token: t.editor.token })).body;
    assert.equal(stored.reviewNote, "Add the opening hours.");

    // A preview link to copy and pass on: it opens the draft without signing in, marked noindex.
    await tab.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.getByRole("button", { name: "Preview link", exact: true }).click();
    const previewUrl = await page.getByLabel(/Preview link/).inputValue();
    assert.ok(previewUrl.startsWith(`${base}/api/v1/preview/`), previewUrl);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Copied." }).waitFor();
    assert.equal(await page.evaluate("navigator.clipboard.readText()"), previewUrl);
    const previewed = await fetch(previewUrl);
    assert.equal(previewed.status, 200);
    assert.match(previewed.headers.get("x-robots-tag") ?? "", /noindex/);
    assert.equal(((await previewed.json()) as { headline: string }).headline, "Airship hangar reopens");
    await assertAccessible(page, "the editor with a preview link");

    // Schedule for tomorrow 09:30 newsroom time (SITE_TIMEZONE=Asia/Shanghai, UTC+8), whatever the browser's zone.
    const tomorrow = new Date(Date.now() + 8 * 3_600_000 + 86_400_000).toISOString().slice(0, 10);
    assert.match(await page.locator("label[for=wf-schedule]").innerText(), /Asia\/Shanghai/);
    await page.getByLabel(/Publish at/).fill(`${tomorrow}T09:30`);
    await page.getByRole("button", { name: "Schedule", exact: true }).click();
    await page.getByTestId("article-status").filter({ hasText: "Scheduled" }).waitFor();
    stored = (await t.get(`/api/v1/admin/articles/${zeppelin.id}`, { token: t.editor.token })).body;
    assert.equal(stored.status, "SCHEDULED");
    assert.equal(new Date(stored.scheduledAt).toISOString(), new Date(`${tomorrow}T09:30:00+08:00`).toISOString());
    // And shown back in site time.
    assert.match(await page.locator(".meta").innerText(), /publishes .*9:30/);

    await page.getByRole("button", { name: "Publish now" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Published" }).waitFor();
    await page.getByRole("button", { name: "Unpublish" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Draft" }).waitFor();
    await page.getByRole("button", { name: "Archive" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Archived" }).waitFor();
    stored = (await t.get(`/api/v1/admin/articles/${zeppelin.id}`, { token: t.editor.token })).body;
    assert.equal(stored.status, "ARCHIVED");

    // A tablet, portrait: the workflow panel goes under the form.
    await page.setViewportSize({ width: 768, height: 1024 });
    await page.evaluate("window.scrollTo(0, 0)");
    await tab.screenshot("desk-editor-tablet");
    assertNoConsoleErrors(tab);
  });

  it("tags and comments closed, the history with its diff and a restore, the trash, the comment queue", async () => {
    const story = await makeArticle(t, { headline: "Tram line extension opens", section: "business", body: "<p>First trams run today.</p>" });
    await publish(t, story.id);
    const comment = await t.post(`/api/v1/articles/${story.slug}/comments`, { name: "Ana", body: "Great news for commuters." });
    assert.equal(comment.status, 202);

    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.editor.email);
    await page.goto(`${base}/desk/articles/${story.id}`);
    await page.getByTestId("lock-state").waitFor();
    await page.getByLabel("Tags").fill("Transport, City Hall");
    await page.getByLabel("Close to new reader comments").check();
    await page.getByLabel("Headline").fill("Tram line extension opens to riders");
    // A published story is saved by hand (only drafts save themselves).
    await page.getByTestId("save-state").filter({ hasText: /^Unsaved changes$/ }).waitFor();
    await page.keyboard.press("Control+s");
    await saved(page);
    let stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.deepEqual(stored.tags.map((x: { slug: string }) => x.slug).sort(), ["city-hall", "transport"]);
    assert.equal(stored.commentsClosed, true);
    assert.equal(stored.headline, "Tram line extension opens to riders");

    // The history: the last revision's diff, then back to revision 1's content.
    await page.locator("summary", { hasText: "History" }).click();
    const latest = stored.version as number;
    const revs = (await t.get(`/api/v1/admin/articles/${story.id}/revisions`, { token: t.editor.token })).body.data as { number: number }[];
    const last = revs[0].number;
    await page.getByRole("button", { name: `#${last} update` }).click();
    const diff = page.getByTestId(`revision-${last}`);
    await diff.waitFor();
    assert.match(await diff.innerText(), /Tram line extension opens to riders/);
    await tab.screenshot("desk-history");
    await assertAccessible(page, "the editor with its history open");
    await page.getByRole("button", { name: "#1 create" }).click();
    await page.getByRole("button", { name: "Restore version #1" }).click();
    await page.getByRole("status").filter({ hasText: /^Restored/ }).waitFor();
    assert.equal(await page.getByLabel("Headline").inputValue(), "Tram line extension opens");
    stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.equal(stored.headline, "Tram line extension opens");
    assert.deepEqual(stored.tags, []);
    assert.ok(stored.version > latest);

    // A lead image: uploaded, shown (loaded under the CSP), saved on the article.
    const png = await sharp({ create: { width: 64, height: 40, channels: 3, background: { r: 20, g: 90, b: 160 } } }).png().toBuffer();
    await page.getByLabel(/Upload an image/).setInputFiles({ name: "tram.png", mimeType: "image/png", buffer: png });
    await page.getByLabel("Alt text (what the image shows)").fill("A blue tram at the new stop");
    await page.getByRole("button", { name: "Upload and use" }).click();
    await page.getByRole("status").filter({ hasText: "Lead image set." }).waitFor();
    const img = page.getByTestId("lead-image");
    await img.waitFor();
    await until(async () => (await img.evaluate((el: any) => el.complete && el.naturalWidth)) === 64, "the lead image loads");
    assert.equal(await img.getAttribute("alt"), "A blue tram at the new stop");
    stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.equal(stored.leadImage.alt, "A blue tram at the new stop");

    // Related stories: found by search, added, reordered, removed; each change saved at once.
    const depot = await makeArticle(t, { headline: "Tram depot expands", section: "business", body: "<p>The tramway depot grows.</p>" });
    const drivers = await makeArticle(t, { headline: "Tram drivers trained", section: "business", body: "<p>New tramway drivers qualify.</p>" });
    await page.getByLabel("Find a story to add").fill("tramway");
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await page.getByRole("button", { name: "Add: Tram depot expands" }).click();
    await page.getByRole("button", { name: "Remove: Tram depot expands" }).waitFor();
    await page.getByRole("button", { name: "Add: Tram drivers trained" }).click();
    await page.getByRole("button", { name: "Move up: Tram drivers trained" }).click();
    await page.getByTestId("related-list").locator("li .ordered-item").first().filter({ hasText: /^Tram drivers trained/ }).waitFor();
    stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.deepEqual(stored.related.map((r: { id: number }) => r.id), [drivers.id, depot.id]);
    await assertAccessible(page, "the editor with a lead image and related stories");
    await page.getByRole("button", { name: "Remove: Tram depot expands" }).click();
    await page.getByRole("button", { name: "Remove: Tram depot expands" }).waitFor({ state: "detached" });
    stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.deepEqual(stored.related.map((r: { id: number }) => r.id), [drivers.id]);
    await tab.screenshot("desk-editor-images-related");

    // Into the trash and back (an editor restores).
    await page.getByRole("button", { name: "Move to trash" }).click();
    await page.getByTestId("trashed").waitFor();
    assert.ok((await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body.deletedAt);
    assert.ok(await page.getByLabel("Headline").isDisabled());
    await page.getByRole("button", { name: "Restore from the trash" }).click();
    await page.getByTestId("trashed").waitFor({ state: "detached" });
    assert.equal((await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body.deletedAt, null);

    // The moderation queue.
    await page.getByRole("link", { name: "Comments" }).click();
    await page.getByRole("heading", { level: 1, name: "Comments" }).waitFor();
    const item = page.getByTestId("comment").filter({ hasText: "Great news for commuters." });
    await item.waitFor();
    await tab.screenshot("desk-comments");
    await assertAccessible(page, "the comment queue");
    await item.getByRole("button", { name: "Approve" }).click();
    await item.waitFor({ state: "detached" });
    const pub = await fetch(`${base}/api/v1/articles/${story.slug}/comments`);
    const comments = await pub.json() as { data: { name: string }[] };
    assert.deepEqual(comments.data.map((c) => c.name), ["Ana"]);
    assertNoConsoleErrors(tab);
  });

  it("a correction, a withdrawal with its public reason, and an admin's reinstatement", async () => {
    const story = await makeArticle(t, { headline: "Bridge toll rises next month", section: "business", body: "<p>The toll goes up by a third.</p>" });
    await publish(t, story.id);
    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.admin.email);
    await page.goto(`${base}/desk/articles/${story.id}`);
    await page.getByTestId("lock-state").waitFor();

    await page.locator("summary", { hasText: "Corrections" }).click();
    await page.getByLabel("Kind of correction").selectOption("correction");
    await page.getByLabel("What was wrong, and what is right").fill("The toll rises by a quarter, not a third.");
    await page.getByRole("button", { name: "Add correction" }).click();
    await page.getByRole("status").filter({ hasText: "Correction added" }).waitFor();
    const pub = await (await fetch(`${base}/api/v1/articles/${story.slug}`)).json() as { corrections: { text: string }[] };
    assert.deepEqual(pub.corrections.map((c) => c.text), ["The toll rises by a quarter, not a third."]);
    // The correction moved the version: the desk re-read it, so an edit after it saves without a conflict.
    await page.getByLabel("Summary").fill("Toll up from June.");
    await page.keyboard.press("Control+s");
    await saved(page);

    await page.locator("summary", { hasText: "Withdraw" }).click();
    await page.getByLabel("Reason (shown to readers)").fill("Withdrawn on legal advice.");
    await page.getByRole("button", { name: "Withdraw story" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Withdrawn" }).waitFor();
    const gone = await fetch(`${base}/api/v1/articles/${story.slug}`);
    assert.equal(gone.status, 410);
    assert.equal((await gone.json() as { reason: string }).reason, "Withdrawn on legal advice.");
    await assertAccessible(page, "a withdrawn article");

    await page.getByRole("button", { name: "Reinstate" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Published" }).waitFor();
    assert.equal((await fetch(`${base}/api/v1/articles/${story.slug}`)).status, 200);
    // Leaving the page releases the edit lock (pagehide, a keepalive request).
    assert.equal((await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body.lockedBy?.id, t.admin.id);
    await page.goto("about:blank");
    await until(async () => (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body.lockedBy === null, "the lock is released");
    assertNoConsoleErrors(tab);
  });

  it("an admin adds an editor, changes the role and deactivates the account", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Editors" }).click();
    await page.getByRole("heading", { level: 1, name: "Editors" }).waitFor();
    await page.getByLabel("Name").fill("Night Editor");
    await page.getByLabel("Email").fill("night@desk.test");
    await page.getByLabel("First password").fill("night-desk-password-1");
    await page.getByLabel("Role", { exact: true }).selectOption("EDITOR");
    await page.getByRole("button", { name: "Add editor" }).click();
    await page.getByRole("status").filter({ hasText: "Night Editor can sign in now." }).waitFor();
    await page.getByLabel("Role of Night Editor").selectOption("WRITER");
    await page.getByRole("status").filter({ hasText: "Night Editor: now writer." }).waitFor();
    await page.getByRole("button", { name: "Deactivate Night Editor" }).click();
    await page.getByRole("button", { name: "Reactivate Night Editor" }).waitFor();
    await assertAccessible(page, "the editors page");
    await tab.screenshot("desk-editors");
    const list = (await t.get("/api/v1/admin/editors?limit=100", { token: t.admin.token })).body.data as { email: string; role: string; active: boolean }[];
    const night = list.find((e) => e.email === "night@desk.test");
    assert.deepEqual(night && { role: night.role, active: night.active }, { role: "WRITER", active: false });
    assertNoConsoleErrors(tab);
  });

  it("the media library: a writer uploads an image and sees it; an editor deletes it", async () => {
    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.writer.email);
    await page.getByRole("link", { name: "Media" }).click();
    await page.getByRole("heading", { level: 1, name: "Media" }).waitFor();
    const jpeg = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer();
    await page.getByLabel(/Image file/).setInputFiles({ name: "sunset.jpg", mimeType: "image/jpeg", buffer: jpeg });
    await page.getByLabel("Alt text (what the image shows)").fill("Sunset over the harbour");
    await page.getByLabel("Credit").fill("Desk test");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Uploaded: Sunset over the harbour (120×80)." }).waitFor();
    const item = page.getByTestId("media-item").filter({ hasText: "Sunset over the harbour" });
    await until(async () => (await item.locator("img").evaluate((el: any) => el.complete && el.naturalWidth)) === 120, "the image loads");
    await assertAccessible(page, "the media library");
    await tab.screenshot("desk-media");
    const listed = async () => ((await t.get("/api/v1/admin/media?limit=100", { token: t.admin.token })).body.data as { alt: string }[])
      .some((m) => m.alt === "Sunset over the harbour");
    assert.ok(await listed());
    // Deleting is for editors: a writer is not offered the button.
    assert.equal(await item.getByRole("button", { name: /Delete/ }).count(), 0);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByLabel("Email").fill(t.editor.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("link", { name: "Media" }).click();
    await page.getByRole("heading", { level: 1, name: "Media" }).waitFor();
    await item.getByRole("button", { name: "Delete image: Sunset over the harbour" }).click();
    await item.waitFor({ state: "detached" });
    assert.equal(await listed(), false);
    assertNoConsoleErrors(tab);
  });

  it("refreshes an expired access token on reload; logs out, and the session is gone after a reload too", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.admin.email);
    // The access token no longer works (as after its 15 minutes): the refresh token gets a new pair.
    const before = JSON.parse(String(await page.evaluate("localStorage.getItem('dateline.desk.session')")));
    await page.evaluate(`localStorage.setItem('dateline.desk.session', JSON.stringify(Object.assign(JSON.parse(localStorage.getItem('dateline.desk.session')), { accessToken: 'expired' })))`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Articles" }).waitFor();
    const afterReload = JSON.parse(String(await page.evaluate("localStorage.getItem('dateline.desk.session')")));
    assert.notEqual(afterReload.refreshToken, before.refreshToken, "the refresh token was rotated");
    assert.notEqual(afterReload.accessToken, "expired");
    tab.consoleErrors.splice(0, tab.consoleErrors.length, ...tab.consoleErrors.filter((e) => !/status of 401/.test(e)));

    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await page.reload();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate("localStorage.getItem('dateline.desk.session')"), null);
    assertNoConsoleErrors(tab);
  });
});

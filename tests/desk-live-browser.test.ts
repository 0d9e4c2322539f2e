// The desk's live entries and its history comparison in a real headless Chromium (issue 14;
// tests/support/browser.ts and desk.ts): an editor posts, edits, pins and deletes entries of a
// LIVE draft, publishes it and readers get the right ones; a writer who is not on the story sees
// the list without the tools. The history compares a revision with the current version side by
// side, word by word (<del>/<ins>, marked by more than colour), and restores it. axe-core on each
// state, no console errors under the desk's CSP; screenshots desk-live and desk-history-diff.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { browserSkip } from "./support/browser.ts";
import { makeArticle, makeSection, type TestApp } from "./support/harness.ts";
import { assertAccessible, deskTabs, login, startDeskApp, TABLET, until } from "./support/desk.ts";

describe("the desk's live entries and history diff in Chromium", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    ({ t, base } = await startDeskApp());
    await makeSection(t, "world", undefined, "World");
  });
  const { open } = deskTabs({
    cleanup: () => t?.close(),
  });

  it("an editor posts two entries to a LIVE draft, edits one, deletes the other; readers get the right one once it is published", async () => {
    const story = await makeArticle(t, { headline: "Flood watch on the river delta", section: "world", kind: "LIVE", slug: "flood-watch-delta" });
    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.editor.email);
    await page.goto(`${base}/desk/articles/${story.id}`);
    await page.getByTestId("lock-state").waitFor();
    const panel = page.getByTestId("live-entries");
    await panel.getByText("No entries yet.").waitFor();
    await assertAccessible(page, "the live entries panel, empty");

    const form = panel.getByRole("form", { name: "New entry" });
    await form.getByLabel("Entry text").fill("Water levels rose overnight at the northern gauge.\n\nCrews are checking the levees.");
    await form.getByLabel("Key event").check();
    await form.getByRole("button", { name: "Post entry" }).click();
    await panel.getByRole("status").filter({ hasText: "Entry posted." }).waitFor();
    await form.getByLabel(/Entry headline/).fill("Ferry service paused");
    await form.getByLabel("Entry text").fill("The morning ferries will not run.");
    // Ctrl+Enter sends from the text box.
    await form.getByLabel("Entry text").press("Control+Enter");
    await until(async () => (await panel.locator("li.entry").count()) === 2, "two entries are listed");
    assert.equal(await form.getByLabel("Entry text").inputValue(), "", "the form is emptied for the next entry");

    const items = panel.locator("li.entry");
    assert.match(await items.nth(0).innerText(), /Ferry service paused/, "newest first");
    assert.match(await items.nth(1).innerText(), /Water levels rose overnight/);
    assert.equal(await items.nth(1).locator(".entry-body p").count(), 2, "a blank line made two paragraphs");
    assert.match(await items.nth(1).innerText(), /Key event/);

    // Edit the first entry: new text and pinned.
    await panel.getByRole("button", { name: /^Edit entry “Water levels rose/ }).click();
    const edit = panel.getByRole("form", { name: /^Edit entry/ });
    await until(async () => /^le-edit-\d+-text$/.test(await page.evaluate("document.activeElement.id") as string), "the text box takes the focus");
    await edit.getByLabel(/Entry headline/).fill("River peaks");
    await edit.getByLabel("Entry text").fill("Water levels peaked overnight at the northern gauge.\n\nCrews are checking the levees.");
    await edit.getByLabel("Pinned to the top").check();
    await assertAccessible(page, "an entry being edited");
    await edit.getByRole("button", { name: "Save entry" }).click();
    await panel.getByRole("status").filter({ hasText: "Entry saved." }).waitFor();
    await panel.getByRole("heading", { name: "River peaks" }).waitFor();
    assert.match(await items.nth(1).innerText(), /Pinned/);

    // Delete the second one.
    await panel.getByRole("button", { name: "Delete entry “Ferry service paused”" }).click();
    await panel.getByRole("status").filter({ hasText: "Entry deleted." }).waitFor();
    await until(async () => (await items.count()) === 1, "one entry is left");
    assert.match(await items.nth(0).innerText(), /River peaks/);
    await panel.scrollIntoViewIfNeeded();
    await tab.screenshot("desk-live", { fullPage: false });
    await assertAccessible(page, "the live entries panel with an entry");

    const all = (await t.get(`/api/v1/admin/articles/${story.id}/entries`, { token: t.editor.token })).body.data;
    assert.deepEqual(all.map((e: any) => [e.title, e.deleted]), [[null, true], ["River peaks", false]]);
    assert.equal(all[1].body, "<p>Water levels peaked overnight at the northern gauge.</p><p>Crews are checking the levees.</p>");
    assert.equal(all[1].pinned, true);
    assert.equal(all[1].keyEvent, true);
    assert.equal((await t.get("/api/v1/articles/flood-watch-delta/entries")).status, 404, "a draft's entries are not public");

    await page.getByRole("button", { name: "Publish now" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Published" }).waitFor();
    const pub = await t.get("/api/v1/articles/flood-watch-delta/entries");
    assert.equal(pub.status, 200, pub.text);
    assert.deepEqual(pub.body.data.map((e: any) => [e.title, e.pinned, e.keyEvent]), [["River peaks", true, true]]);
    assert.match(pub.body.data[0].body, /peaked overnight/);

    // After publishing, a new entry reaches readers at once (the public list's cache is purged).
    await panel.getByText("Readers see a new entry within seconds.").waitFor();
    await form.getByLabel("Entry text").fill("The northern road is closed.");
    await form.getByRole("button", { name: "Post entry" }).click();
    await panel.getByRole("status").filter({ hasText: "Entry posted." }).waitFor();
    const after = await t.get("/api/v1/articles/flood-watch-delta/entries");
    assert.equal(after.body.data.length, 2);
    assert.match(after.body.data[0].body, /northern road is closed/);

    // A writer who is not on the story reads the entries of the published page but gets no tools.
    const writerTab = await open(TABLET);
    await login(writerTab.page, base, t.writer.email);
    await writerTab.page.goto(`${base}/desk/articles/${story.id}`);
    const wPanel = writerTab.page.getByTestId("live-entries");
    await wPanel.getByText("Only editors, and the writers of this article, post entries to it.").waitFor();
    await until(async () => (await wPanel.locator("li.entry").count()) === 2, "the writer sees both entries");
    assert.equal(await wPanel.getByRole("button", { name: /^(Edit|Delete|Pin)/ }).count(), 0);
    await assertAccessible(writerTab.page, "the live entries, read-only, at tablet width");
  });

  it("the history compares a revision with the current version side by side, word by word, and restores it", async () => {
    const story = await makeArticle(t, {
      headline: "Harbour bridge reopens after repairs", section: "world",
      body: "<p>The harbour bridge reopened on Monday after six weeks of repairs.</p><p>Traffic was light in the morning.</p>",
    });
    const edited = await t.patch(`/api/v1/admin/articles/${story.id}`, {
      headline: "Harbour bridge reopens after long repairs",
      body: "<p>The harbour bridge reopened on Tuesday after six weeks of repairs.</p><p>Traffic was heavy in the morning.</p>",
    }, { token: t.editor.token, headers: { "If-Match": `"${story.version}"` } });
    assert.equal(edited.status, 200, edited.text);

    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.goto(`${base}/desk/articles/${story.id}`);
    await page.getByTestId("lock-state").waitFor();
    await page.locator("summary", { hasText: "History" }).click();
    await page.getByRole("button", { name: "#1 create" }).click();
    const inline = page.getByTestId("revision-1");
    await inline.waitFor();
    // An older revision is compared with the current version by default.
    assert.equal(await inline.getByLabel(/the current version/).isChecked(), true);
    assert.deepEqual(await inline.locator("del").allInnerTexts(), ["Monday", "light"]);
    assert.deepEqual(await inline.locator("ins").allInnerTexts(), ["long", "Tuesday", "heavy"]);
    await assertAccessible(page, "the history with a revision compared inline");

    await inline.getByRole("button", { name: "Side by side" }).click();
    const dialog = page.getByRole("dialog", { name: "Revision #1 compared" });
    await dialog.waitFor();
    assert.equal(await page.evaluate("document.querySelector('dialog.compare-dialog').matches(':modal')"), true, "a modal dialog: the rest of the page is inert");
    const body = dialog.locator('tr[data-field="body"]');
    const [left, right] = [body.locator("td").nth(0), body.locator("td").nth(1)];
    assert.deepEqual(await left.locator("del").allInnerTexts(), ["Monday", "light"]);
    assert.equal(await left.locator("ins").count(), 0);
    assert.deepEqual(await right.locator("ins").allInnerTexts(), ["Tuesday", "heavy"]);
    assert.equal(await right.locator("del").count(), 0);
    // Paragraphs kept; unchanged words on both sides.
    assert.match(await left.innerText(), /repairs\.\n\s*\nTraffic was/);
    assert.match(await right.innerText(), /The harbour bridge reopened on Tuesday after six weeks of repairs\./);
    assert.deepEqual(await dialog.locator("thead th").allInnerTexts(), ["Field", "Revision #1", "Current version (#2)"]);
    // Not colour alone: struck through and underlined.
    const decoration = (sel: string) => page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(sel)})).textDecorationLine`) as Promise<string>;
    assert.match(await decoration('dialog tr[data-field="body"] td del'), /line-through/);
    assert.match(await decoration('dialog tr[data-field="body"] td ins'), /underline/);
    await tab.screenshot("desk-history-diff", { fullPage: false });
    await assertAccessible(page, "the side-by-side comparison");

    // The other comparison: revision 1 against nothing before it (all of it added).
    await dialog.getByLabel(/the previous revision/).check();
    await until(async () => (await dialog.locator("del").count()) === 0, "nothing is removed against an empty start");
    assert.ok(await dialog.locator("ins").count() > 0);
    await dialog.getByLabel(/the current version/).check();
    await until(async () => (await dialog.locator("del").count()) === 2, "back to the current version");

    // Escape closes the dialog and gives the focus back.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await until(async () => await page.evaluate("document.activeElement.textContent") === "Side by side", "the focus is back on the button that opened it");

    // At tablet width the columns still sit side by side.
    await page.setViewportSize(TABLET.viewport);
    await inline.getByRole("button", { name: "Side by side" }).click();
    await dialog.waitFor();
    const [l, r] = await Promise.all([left.boundingBox(), right.boundingBox()]);
    assert.ok(l && r && r.x > l.x + l.width - 1 && Math.abs(r.y - l.y) < 2, "two columns");
    await tab.screenshot("desk-history-diff-tablet", { fullPage: false });
    await assertAccessible(page, "the side-by-side comparison at tablet width");

    await dialog.getByRole("button", { name: "Restore version #1" }).click();
    await page.getByRole("status").filter({ hasText: /^Restored/ }).waitFor();
    await dialog.waitFor({ state: "hidden" });
    assert.equal(await page.getByLabel("Headline").inputValue(), "Harbour bridge reopens after repairs");
    const stored = (await t.get(`/api/v1/admin/articles/${story.id}`, { token: t.editor.token })).body;
    assert.equal(stored.headline, "Harbour bridge reopens after repairs");
    assert.match(stored.body, /reopened on Monday/);
    // The restore is the new current version: the list shows it.
    await page.getByRole("button", { name: "#3 restore-revision" }).waitFor();
  });
});

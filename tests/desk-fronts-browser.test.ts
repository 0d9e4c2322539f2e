// The desk's collections and section fronts (issue 14) in a real headless Chromium: an editor creates a
// collection, adds three published stories by search, reorders them by keyboard (Alt+arrows on the
// handle) and by drag, removes one, and the public collection follows; a stale rename meets the 412
// screen and reloads; an editor pins and unpins a section front's lead and the public front follows;
// an admin creates, moves and deletes a sub-section; a writer is offered neither screen. axe on each
// screen, no console errors under the desk's CSP; screenshots in test-artifacts/.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { browserSkip } from "./support/browser.ts";
import { makeArticle, makeSection, publish, type TestApp } from "./support/harness.ts";
import { assertAccessible, assertNoConsoleErrors, deskTabs, LAPTOP, login, startDeskApp, TABLET, until } from "./support/desk.ts";

describe("collections and section fronts in the desk", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;
  const stories: { id: number; slug: string; headline: string }[] = [];

  before(async () => {
    ({ t, base } = await startDeskApp());
    await makeSection(t, "news", undefined, "News");
    await makeSection(t, "city", "news", "City");
    await makeSection(t, "sport", undefined, "Sport");
    for (const headline of ["Riverside market reopens after the flood", "Night buses extended along the riverside", "Riverside park gets new lanterns"]) {
      const a = await makeArticle(t, { headline, section: "city", body: `<p>${headline}: a riverside story for the desk test.</p>` });
      await publish(t, a.id);
      stories.push({ id: a.id, slug: a.slug, headline });
    }
  });
  const { open, forget } = deskTabs({
    cleanup: () => t?.close(),
  });

  let collectionId = 0;
  const adminOrder = async () => ((await t.get(`/api/v1/admin/collections/${collectionId}`, { token: t.editor.token })).body.items as { article: { id: number } }[])
    .map((i) => i.article.id);
  const orderIs = (ids: number[], what: string) => until(async () => JSON.stringify(await adminOrder()) === JSON.stringify(ids), what);

  it("an editor creates a collection, adds three stories, reorders them by keyboard and by drag, removes one; the public collection follows", async () => {
    const [market, buses, park] = stories as [typeof stories[0], typeof stories[0], typeof stories[0]];
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.getByRole("link", { name: "Collections" }).click();
    await page.getByRole("heading", { level: 1, name: "Collections" }).waitFor();
    await page.getByText("No collections yet.").waitFor();
    await assertAccessible(page, "the collections list");

    await page.getByLabel("Name").fill("Weekend picks");
    assert.equal(await page.getByLabel("Slug").inputValue(), "weekend-picks");
    await page.getByRole("button", { name: "Create collection" }).click();
    await page.waitForURL(/\/desk\/collections\/\d+$/);
    collectionId = Number(/(\d+)$/.exec(page.url())![1]);
    await page.getByRole("heading", { level: 1, name: "Weekend picks" }).waitFor();

    await page.getByLabel("Find a story to add").fill("riverside");
    await page.getByRole("button", { name: "Find", exact: true }).click();
    for (const s of [market, buses, park]) {
      await page.getByRole("button", { name: `Add: ${s.headline}` }).click();
      await page.getByRole("button", { name: `Remove: ${s.headline}` }).waitFor();
    }
    await orderIs([market.id, buses.id, park.id], "three stories are in the collection");
    await assertAccessible(page, "a collection with its stories and search results");

    // Keyboard: the handle keeps the focus as its story moves up, one step per Alt+ArrowUp.
    await page.getByRole("button", { name: `Reorder ${park.headline}, position 3 of 3` }).focus();
    await page.keyboard.press("Alt+ArrowUp");
    await orderIs([market.id, park.id, buses.id], "Alt+ArrowUp moved the park story to second");
    await page.keyboard.press("Alt+ArrowUp");
    await orderIs([park.id, market.id, buses.id], "a second Alt+ArrowUp moved it to the top");
    await until(async () => (await page.evaluate("document.activeElement.getAttribute('aria-label')")) === `Reorder ${park.headline}, position 1 of 3`,
      "the moved story's handle keeps the focus");
    await page.getByRole("status").filter({ hasText: `Moved ${park.headline} to position 1 of 3.` }).waitFor();
    await page.keyboard.press("Alt+ArrowDown");
    await orderIs([market.id, park.id, buses.id], "Alt+ArrowDown moved it back down");

    // Drag and drop: the buses story's handle onto the first row.
    const list = page.getByTestId("collection-items");
    await page.getByRole("button", { name: `Reorder ${buses.headline}, position 3 of 3` }).dragTo(list.locator("li").first());
    await orderIs([buses.id, market.id, park.id], "the buses story was dragged to the top");
    await list.locator("li .ordered-item").first().filter({ hasText: buses.headline }).waitFor();

    await page.getByRole("button", { name: `Remove: ${market.headline}` }).click();
    await page.getByRole("button", { name: `Remove: ${market.headline}` }).waitFor({ state: "detached" });
    await orderIs([buses.id, park.id], "the market story was removed");

    // A headline of the collection's own for one story, set from the keyboard.
    await page.getByRole("button", { name: `Change headline: ${park.headline}` }).click();
    await page.getByLabel("Headline on this list", { exact: true }).fill("Lanterns light up the park");
    await page.keyboard.press("Enter");
    await page.getByRole("status").filter({ hasText: "Headline on this list: Lanterns light up the park." }).waitFor();
    await page.getByRole("button", { name: "Change headline: Lanterns light up the park" }).and(page.locator(":focus")).waitFor();

    const pub = await t.get("/api/v1/collections/weekend-picks");
    assert.equal(pub.status, 200);
    assert.deepEqual(pub.body.items.map((i: { slug: string }) => i.slug), [buses.slug, park.slug]);
    assert.deepEqual(pub.body.items.map((i: { headline: string }) => i.headline), [buses.headline, "Lanterns light up the park"]);
    await assertAccessible(page, "the reordered collection");
    await tab.screenshot("desk-collection");
    assertNoConsoleErrors(tab);
  });

  it("a stale rename shows the conflict and reloads; the collection is deleted after a confirmation; the page works at tablet width", async () => {
    const tab = await open(TABLET);
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.editor.email);
    await page.goto(`${base}/desk/collections/${collectionId}`);
    await page.getByRole("heading", { level: 1, name: "Weekend picks" }).waitFor();
    assert.ok(await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), "no sideways scroll at 820px");

    // Someone else renames it after this page was opened.
    const other = await t.patch(`/api/v1/admin/collections/${collectionId}`, { name: "Weekend reading" }, { token: t.admin.token });
    assert.equal(other.status, 200);
    await page.getByLabel("Name", { exact: true }).fill("Our weekend picks");
    await page.getByRole("button", { name: "Save name and slug" }).click();
    const conflict = page.getByTestId("collection-conflict");
    await conflict.waitFor();
    await assertAccessible(page, "the collection's conflict notice");
    await tab.screenshot("desk-collection-conflict");
    await conflict.getByRole("button", { name: "Reload the collection" }).click();
    await page.getByRole("heading", { level: 1, name: "Weekend reading" }).waitFor();
    assert.equal(await page.getByLabel("Name", { exact: true }).inputValue(), "Weekend reading");
    await page.getByLabel("Name", { exact: true }).fill("Our weekend picks");
    await page.getByRole("button", { name: "Save name and slug" }).click();
    await page.getByRole("heading", { level: 1, name: "Our weekend picks" }).waitFor();
    assert.equal((await t.get(`/api/v1/admin/collections/${collectionId}`, { token: t.editor.token })).body.name, "Our weekend picks");

    await page.getByRole("button", { name: "Delete collection" }).click();
    await page.getByRole("heading", { level: 1, name: "Collections" }).waitFor();
    await page.getByText("No collections yet.").waitFor();
    assert.equal((await t.get("/api/v1/collections/weekend-picks")).status, 404);
    assertNoConsoleErrors(tab);
  });

  it("an editor pins a section front's lead and the public front shows it; unpinning gives it back to the automatic choice", async () => {
    const [market] = stories as [typeof stories[0]];
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.getByRole("link", { name: "Sections" }).click();
    await page.getByRole("heading", { level: 1, name: "Sections" }).waitFor();
    // The tree, indented: City sits inside News. An editor pins leads and changes nothing else.
    await page.getByTestId("section-news").getByTestId("section-city").waitFor();
    assert.equal(await page.getByRole("button", { name: /^(Edit|Delete) / }).count(), 0);
    assert.equal(await page.getByRole("heading", { name: "New section" }).count(), 0);
    await assertAccessible(page, "the section tree");

    const before = await t.get("/api/v1/sections/news/front");
    assert.equal(before.body.leadSource, "newest");
    assert.notEqual(before.body.lead.slug, market.slug);

    await page.getByRole("button", { name: "Front of News" }).click();
    const panel = page.getByTestId("front-panel");
    await panel.getByRole("button", { name: "Find", exact: true }).click();
    await panel.getByRole("button", { name: `Pin as lead: ${market.headline}` }).click();
    await panel.getByTestId("pinned-lead").filter({ hasText: market.headline }).waitFor();
    // The pin button is gone; the focus waits on Unpin.
    await panel.getByRole("button", { name: "Unpin" }).and(page.locator(":focus")).waitFor();
    await page.getByTestId("lead-news").filter({ hasText: `Lead pinned: ${market.headline}` }).waitFor();
    const pinned = await t.get("/api/v1/sections/news/front");
    assert.equal(pinned.body.leadSource, "pinned");
    assert.equal(pinned.body.lead.slug, market.slug);
    await assertAccessible(page, "a section front with a pinned lead");
    await tab.screenshot("desk-section-front");

    await panel.getByRole("button", { name: "Unpin" }).click();
    await panel.getByText("No lead pinned").waitFor();
    const unpinned = await t.get("/api/v1/sections/news/front");
    assert.equal(unpinned.body.leadSource, "newest");
    assertNoConsoleErrors(tab);
  });

  it("an admin creates a sub-section, moves it to the top level and deletes it", async () => {
    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Sections" }).click();
    await page.getByRole("heading", { level: 1, name: "Sections" }).waitFor();
    await page.locator("#ns-name").fill("Harbour");
    assert.equal(await page.locator("#ns-slug").inputValue(), "harbour");
    await page.locator("#ns-parent").selectOption("city");
    await page.locator("#ns-description").fill("Ferries, docks and the waterfront.");
    await page.getByRole("button", { name: "Create section" }).click();
    await page.getByRole("status").filter({ hasText: "Created the section Harbour." }).waitFor();
    await page.getByTestId("section-city").getByTestId("section-harbour").waitFor();
    let harbour = (await t.get("/api/v1/sections/harbour")).body;
    assert.deepEqual(harbour.breadcrumb.map((b: { slug: string }) => b.slug), ["news", "city", "harbour"]);
    await assertAccessible(page, "the section tree for an admin");
    await tab.screenshot("desk-sections-admin");
    await page.setViewportSize(TABLET.viewport);
    // The screen itself fits at 820px (the admin's menu bar, with its eleven entries, is the menu's own matter).
    assert.ok(await page.evaluate("document.querySelector('main').scrollWidth <= document.querySelector('main').clientWidth"), "no sideways scroll in the screen at 820px");
    await tab.screenshot("desk-sections-tablet");
    await page.setViewportSize(LAPTOP.viewport);

    await page.getByRole("button", { name: "Edit Harbour" }).click();
    const edit = page.getByTestId("edit-panel");
    await edit.getByLabel("Name").fill("Harbour and ports");
    await edit.getByLabel("Parent section").selectOption("");
    await assertAccessible(page, "a section's edit form");
    // Someone else changes it meanwhile: the save meets a 412, the tree reloads and what was typed stays.
    const harbourId = (await t.get("/api/v1/admin/sections", { token: t.admin.token })).body.data.find((s: { slug: string }) => s.slug === "harbour").id;
    const other = await t.patch(`/api/v1/admin/sections/${harbourId}`, { description: "Ferries and docks." },
      { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${harbourId}`) });
    assert.equal(other.status, 200);
    await edit.getByRole("button", { name: "Save section" }).click();
    await edit.getByRole("alert").filter({ hasText: "Someone else changed Harbour" }).waitFor();
    assert.equal(await edit.getByLabel("Name").inputValue(), "Harbour and ports");
    await edit.getByRole("button", { name: "Save section" }).click();
    await page.getByRole("status").filter({ hasText: "Saved the section Harbour and ports." }).waitFor();
    await page.getByTestId("section-tree").locator(":scope > li[data-testid='section-harbour']").waitFor();
    harbour = (await t.get("/api/v1/sections/harbour")).body;
    assert.equal(harbour.name, "Harbour and ports");
    assert.deepEqual(harbour.breadcrumb.map((b: { slug: string }) => b.slug), ["harbour"]);

    await page.getByRole("button", { name: "Delete Harbour and ports" }).click();
    await page.getByRole("status").filter({ hasText: "Deleted the section Harbour and ports." }).waitFor();
    assert.equal((await t.get("/api/v1/sections/harbour")).status, 404);
    // A section with stories is refused by the server, and the desk says why.
    await page.getByRole("button", { name: "Delete City" }).click();
    await page.getByRole("alert").filter({ hasText: /^City: / }).waitFor();
    assert.equal((await t.get("/api/v1/sections/city")).status, 200);
    assertNoConsoleErrors(tab, [409, 412]);
    forget(tab);
  });

  it("a writer is offered neither screen", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.writer.email);
    const nav = page.getByRole("navigation", { name: "Desk" });
    assert.equal(await nav.getByRole("link", { name: "Collections" }).count(), 0);
    assert.equal(await nav.getByRole("link", { name: "Sections" }).count(), 0);
    await page.goto(`${base}/desk/collections`);
    await page.getByText("This page is for editors.").waitFor();
    await page.goto(`${base}/desk/sections`);
    await page.getByText("This page is for editors.").waitFor();
    assertNoConsoleErrors(tab);
  });
});

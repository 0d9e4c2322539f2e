// The desk's article editor, the parts beyond the first slice (issue 14), in headless Chromium: a writer
// writes a story with a lead image and an image in the body (from the media library), credits two desk
// editors in a chosen order and an author profile, adds a related story and submits; an editor publishes and
// the public API shows the editors in order, the pictures and the related story. A photo story's gallery
// is filled from the library and by an upload, captioned, reordered by the keyboard and trimmed; an embargo
// is set in the site's time zone and lifted; the Authors page is read-only for writers and edited by an
// editor. axe-core on each new screen and state; no console error under the desk's CSP.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { browserSkip } from "./support/browser.ts";
import { makeArticle, makeSection, publish, type TestApp, type TestEditor } from "./support/harness.ts";
import { assertAccessible, deskTabs, login, saved, startDeskApp, TABLET, until } from "./support/desk.ts";

const png = (r: number, g: number, b: number, width = 80, height = 50) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();

describe("the desk's article editor: credits, pictures, gallery, embargo, authors", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;
  let liu: TestEditor;
  let zhao: TestEditor;

  /** Uploads an image through the editor API as `who` (multipart, as the desk does). */
  const upload = async (who: TestEditor, alt: string, buffer: Buffer) => {
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(buffer)], { type: "image/png" }), `${alt}.png`);
    form.set("alt", alt);
    form.set("caption", `${alt}, the library caption`);
    const res = await fetch(`${base}/api/v1/admin/media`, { method: "POST", headers: { Authorization: `Bearer ${who.token}` }, body: form });
    assert.equal(res.status, 201);
    return (await res.json()) as { id: number; url: string };
  };

  before(async () => {
    ({ t, base } = await startDeskApp({ SITE_TIMEZONE: "Asia/Shanghai" }));
    await makeSection(t, "metro", undefined, "Metro");
    liu = await t.addEditor("EDITOR", "Liu Fang");
    zhao = await t.addEditor("EDITOR", "Zhao Min");
    const profile = await t.post("/api/v1/admin/authors", { slug: "ann-lee", name: "Ann Lee", bio: "Covers the waterfront." }, { token: t.editor.token });
    assert.equal(profile.status, 201);
  });
  const { open } = deskTabs({
    cleanup: () => t?.close(),
  });

  const stored = async (id: number) => (await t.get(`/api/v1/admin/articles/${id}`, { token: t.editor.token })).body;

  let storyId = 0;
  let relatedSlug = "";

  it("a writer writes a story with pictures, two editor credits in order, an author credit and a related story", async () => {
    const earlier = await makeArticle(t, { headline: "Ferry pier gets a new roof", section: "metro", body: "<p>The pier roof is finished.</p>" });
    relatedSlug = (await publish(t, earlier.id)).slug;

    const tab = await open();
    const { page } = tab;
    await login(page, base, t.writer.email);
    await page.getByRole("link", { name: "New article" }).first().click();
    await page.getByLabel("Headline").fill("Night ferries return to the river");
    await page.getByLabel("Section").selectOption("metro");
    await page.getByRole("button", { name: "Create draft" }).click();
    await page.waitForURL(/\/desk\/articles\/\d+$/);
    storyId = Number(/(\d+)$/.exec(page.url())![1]);
    await page.getByTestId("lock-state").waitFor();
    // A story has no gallery: the screen says why.
    assert.match(await page.getByTestId("gallery-off").innerText(), /Only photo stories have a gallery/);

    // The lead image, uploaded with its alt text and credit.
    await page.getByLabel(/Upload an image/).setInputFiles({ name: "ferry.png", mimeType: "image/png", buffer: await png(30, 80, 150, 64, 40) });
    await page.getByLabel("Alt text (what the image shows)").fill("A ferry at the night pier");
    await page.getByLabel("Credit", { exact: true }).fill("Desk photo");
    await page.getByRole("button", { name: "Upload and use" }).click();
    await page.getByRole("status").filter({ hasText: "Lead image set." }).waitFor();

    // The body, with an image from the media library inserted at the cursor.
    const body = page.getByRole("textbox", { name: "Body" });
    await body.click();
    await page.keyboard.type("Boats run again after dark from Friday.");
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Image from the media library" }).click();
    await page.getByRole("button", { name: "Choose image: A ferry at the night pier" }).click();
    assert.equal(await page.getByLabel("Alt text of the image in the body").inputValue(), "A ferry at the night pier");
    await assertAccessible(page, "the body's image picker");
    await page.getByLabel("Alt text of the image in the body").fill("The night ferry leaving the pier");
    await page.getByRole("button", { name: "Insert image" }).click();
    const bodyImg = body.locator("img");
    await bodyImg.waitFor();
    await until(async () => (await bodyImg.evaluate((el: any) => el.complete && el.naturalWidth)) === 64, "the body image loads in the editor");
    await page.keyboard.type("Tickets cost the same as by day.");
    await saved(page);
    let a = await stored(storyId);
    assert.match(a.body, /^<p>Boats run again after dark from Friday\.<\/p><img src="\/media\/[^"]+" alt="The night ferry leaving the pier" width="64" height="40" \/><p>Tickets cost the same as by day\.<\/p>$/);
    assert.equal(a.body.match(/src="([^"]+)"/)![1], a.leadImage.url);

    // Two desk editors credited, then put in the chosen order by the keyboard.
    const credit = page.getByLabel("Credit a desk editor");
    await credit.selectOption({ label: "Zhao Min (Editor)" });
    await page.getByRole("button", { name: "Add credit" }).click();
    await page.getByRole("button", { name: "Remove credit: Zhao Min" }).waitFor();
    await credit.selectOption({ label: "Liu Fang (Editor)" });
    await page.getByRole("button", { name: "Add credit" }).click();
    await page.getByRole("button", { name: "Remove credit: Liu Fang" }).waitFor();
    assert.deepEqual((await stored(storyId)).editors.map((e: { id: number }) => e.id), [zhao.id, liu.id]);
    await page.getByRole("button", { name: /^Reorder Liu Fang, position 2 of 2/ }).focus();
    await page.keyboard.press("Alt+ArrowUp");
    await page.getByRole("button", { name: /^Reorder Liu Fang, position 1 of 2/ }).waitFor();
    await until(async () => (await stored(storyId)).editors[0].id === liu.id, "the credit order is saved");
    assert.equal(await page.evaluate("document.activeElement.getAttribute('aria-label')"), "Reorder Liu Fang, position 1 of 2");

    // An author profile on the byline, credited as a reporter.
    await page.getByLabel("Find an author profile").fill("Ann");
    await page.getByLabel("Credit as").selectOption("reporter");
    await page.getByRole("button", { name: "Find profiles" }).click();
    await page.getByRole("button", { name: "Credit author: Ann Lee" }).click();
    await page.getByRole("button", { name: "Remove author: Ann Lee" }).waitFor();

    // A related story.
    await page.getByLabel("Find a story to add").fill("pier roof");
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await page.getByRole("button", { name: "Add: Ferry pier gets a new roof" }).click();
    await page.getByRole("button", { name: "Remove: Ferry pier gets a new roof" }).waitFor();

    a = await stored(storyId);
    assert.deepEqual(a.editors.map((e: { name: string }) => e.name), ["Liu Fang", "Zhao Min"]);
    assert.deepEqual(a.authors.map((c: { slug: string; role: string }) => [c.slug, c.role]), [["ann-lee", "reporter"]]);
    assert.deepEqual(a.related.map((r: { id: number }) => r.id), [earlier.id]);
    await page.getByTestId("editor-credits").scrollIntoViewIfNeeded();
    await tab.screenshot("desk-editor-credits");
    await assertAccessible(page, "the editor with credits, pictures and a related story");

    await page.getByRole("button", { name: "Submit for review" }).click();
    await page.getByTestId("article-status").filter({ hasText: "In review" }).waitFor();
    await page.close();
  });

  it("an editor publishes; the public API shows the editors in order, the pictures and the related story", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.goto(`${base}/desk/articles/${storyId}`);
    await page.getByTestId("lock-state").waitFor();
    // The credits the writer chose, as the editor sees them.
    assert.deepEqual(await page.getByTestId("editor-credit-list").locator(".ordered-item").allInnerTexts(), ["Liu Fang", "Zhao Min"]);
    await page.getByRole("button", { name: "Publish now" }).click();
    await page.getByTestId("article-status").filter({ hasText: "Published" }).waitFor();

    const slug = (await stored(storyId)).slug;
    const pub = await t.get(`/api/v1/articles/${slug}`);
    assert.equal(pub.status, 200);
    assert.deepEqual(pub.body.editors, [{ name: "Liu Fang" }, { name: "Zhao Min" }]);
    assert.equal(pub.body.leadImage.alt, "A ferry at the night pier");
    assert.equal(pub.body.leadImage.credit, "Desk photo");
    const src = /<img src="([^"]+)" alt="The night ferry leaving the pier"/.exec(pub.body.body)?.[1];
    assert.ok(src, "the body keeps its image");
    assert.equal(src, pub.body.leadImage.url);
    const file = await fetch(new URL(src!, base));
    assert.equal(file.status, 200);
    assert.equal(file.headers.get("content-type"), "image/png");
    assert.deepEqual(pub.body.related.map((r: { slug: string; automatic: boolean }) => [r.slug, r.automatic]), [[relatedSlug, false]]);
    assert.deepEqual(pub.body.authors.map((c: { slug: string }) => c.slug), ["ann-lee"]);
  });

  let photoId = 0;

  it("a photo story's gallery: from the library and an upload, captioned, reordered by the keyboard, trimmed", async () => {
    const harbour = await upload(t.writer, "Harbour lights", await png(200, 160, 40));
    const crane = await upload(t.writer, "Crane at dawn", await png(120, 40, 90));
    const photo = await makeArticle(t, { headline: "The port by night", section: "metro", kind: "PHOTO_STORY", body: "<p>Pictures.</p>" }, t.writer.token);
    photoId = photo.id;

    const tab = await open(TABLET);
    const { page } = tab;
    await login(page, base, t.writer.email);
    await page.goto(`${base}/desk/articles/${photoId}`);
    await page.getByTestId("lock-state").waitFor();
    const gallery = page.getByTestId("gallery");
    await gallery.getByRole("button", { name: "Add from the media library" }).click();
    await gallery.getByRole("button", { name: "Choose image: Harbour lights" }).click();
    await gallery.getByRole("status").filter({ hasText: "Added: Harbour lights." }).waitFor();
    await gallery.getByRole("button", { name: "Choose image: Crane at dawn" }).click();
    await gallery.getByRole("status").filter({ hasText: "Added: Crane at dawn." }).waitFor();
    // Images already in the gallery are not offered twice.
    assert.ok(await gallery.getByRole("button", { name: "Already added: Harbour lights" }).isDisabled());
    await assertAccessible(page, "the gallery with the media library open");
    await gallery.getByRole("button", { name: "Close the media library" }).click();

    // A third image uploaded from the gallery itself, with alt text, caption and credit.
    await gallery.getByText("Upload a new image to the gallery").click();
    await page.getByLabel(/^Image file/).setInputFiles({ name: "pier.png", mimeType: "image/png", buffer: await png(20, 120, 60) });
    await page.getByLabel("Alt text for the gallery image").fill("Pier at dusk");
    await page.getByLabel("Image caption").fill("The old pier as the sun sets.");
    await page.getByLabel("Image credit").fill("Staff photographer");
    await page.getByRole("button", { name: "Upload and add" }).click();
    await gallery.getByRole("status").filter({ hasText: "Image uploaded and added to the gallery." }).waitFor();
    let a = await stored(photoId);
    assert.deepEqual(a.gallery.map((g: { image: { alt: string } }) => g.image.alt), ["Harbour lights", "Crane at dawn", "Pier at dusk"]);
    assert.equal(a.gallery[2].image.credit, "Staff photographer");
    const thumbs = page.getByTestId("gallery-list").locator("img");
    await until(async () => (await thumbs.evaluateAll((els: any[]) => els.filter((el) => el.complete && el.naturalWidth > 0).length)) === 3, "the thumbnails load");

    // A caption of the gallery's own, saved when the field is left.
    await page.getByLabel("Caption for Crane at dawn").fill("A crane unloads the first ship of the day.");
    await page.getByLabel("Caption for Crane at dawn").press("Tab");
    await until(async () => (await stored(photoId)).gallery[1].caption === "A crane unloads the first ship of the day.", "the caption is saved");

    // The keyboard: the last image to the top, one Alt+ArrowUp at a time; the focus stays on its handle.
    await page.getByRole("button", { name: /^Reorder Pier at dusk, position 3 of 3/ }).focus();
    await page.keyboard.press("Alt+ArrowUp");
    await page.getByRole("button", { name: /^Reorder Pier at dusk, position 2 of 3/ }).waitFor();
    await until(async () => (await stored(photoId)).gallery[1].image.alt === "Pier at dusk", "the first move is saved");
    await page.keyboard.press("Alt+ArrowUp");
    await page.getByRole("button", { name: /^Reorder Pier at dusk, position 1 of 3/ }).waitFor();
    await until(async () => (await stored(photoId)).gallery[0].image.alt === "Pier at dusk", "the second move is saved");
    assert.equal(await page.evaluate("document.activeElement.getAttribute('aria-label')"), "Reorder Pier at dusk, position 1 of 3");
    a = await stored(photoId);
    assert.deepEqual(a.gallery.map((g: { image: { id: number } }) => g.image.id).slice(1), [harbour.id, crane.id]);
    assert.equal(a.gallery[2].caption, "A crane unloads the first ship of the day.");
    await tab.screenshot("desk-editor-gallery");
    await assertAccessible(page, "the gallery, reordered");

    await gallery.getByRole("button", { name: "Remove from gallery: Harbour lights" }).click();
    await gallery.getByRole("button", { name: "Remove from gallery: Harbour lights" }).waitFor({ state: "detached" });
    a = await stored(photoId);
    assert.deepEqual(a.gallery.map((g: { image: { alt: string } }) => g.image.alt), ["Pier at dusk", "Crane at dawn"]);
    await page.close();
  });

  it("an embargo set in the site's time zone, shown in the header, then lifted", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.writer.email);
    await page.goto(`${base}/desk/articles/${photoId}`);
    await page.getByTestId("lock-state").waitFor();
    const year = new Date().getUTCFullYear() + 2;
    // 09:30 in Shanghai (UTC+8, no daylight saving) is 01:30 UTC.
    await page.getByLabel(/^Hold from readers until/).fill(`${year}-03-10T09:30`);
    await page.getByRole("button", { name: "Set embargo" }).click();
    const badge = page.getByTestId("embargo-badge");
    await badge.waitFor();
    assert.match(await badge.innerText(), /^Embargoed until /);
    assert.equal((await stored(photoId)).embargoedUntil, `${year}-03-10T01:30:00.000Z`);
    await assertAccessible(page, "the editor with an embargo");

    await page.getByRole("button", { name: "Lift embargo now" }).click();
    await badge.waitFor({ state: "detached" });
    await page.getByTestId("embargo").getByRole("status").filter({ hasText: "Embargo lifted." }).waitFor();
    assert.equal((await stored(photoId)).embargoedUntil, null);
  });

  it("the Authors page: read-only for a writer; an editor creates and edits a profile", async () => {
    const writerTab = await open();
    await login(writerTab.page, base, t.writer.email);
    await writerTab.page.getByRole("link", { name: "Authors" }).click();
    await writerTab.page.getByTestId("author-table").getByText("Ann Lee").waitFor();
    assert.equal(await writerTab.page.getByRole("button", { name: "New profile" }).count(), 0);
    assert.equal(await writerTab.page.getByRole("button", { name: /^Edit profile/ }).count(), 0);
    await assertAccessible(writerTab.page, "the Authors page (writer)");
    await writerTab.page.close();

    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.getByRole("link", { name: "Authors" }).click();
    await page.getByRole("button", { name: "New profile" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Bao Wei");
    assert.equal(await page.getByLabel("Slug").inputValue(), "bao-wei");
    await page.getByLabel("Biography").fill("Photographs the city at night.");
    await page.getByRole("button", { name: "Add a link" }).click();
    await page.getByLabel("Label of link 1").fill("Portfolio");
    await page.getByLabel("Address of link 1").fill("https://portfolio.example/bao");
    await assertAccessible(page, "the new author profile form");
    await page.getByRole("button", { name: "Create profile" }).click();
    await page.getByRole("status").filter({ hasText: "Profile created: Bao Wei." }).waitFor();

    await page.getByRole("button", { name: "Edit profile: Bao Wei" }).click();
    await page.getByLabel("Biography").fill("Photographs the port at night.");
    await page.getByRole("button", { name: "Save profile" }).click();
    await page.getByRole("status").filter({ hasText: "Profile saved: Bao Wei." }).waitFor();
    const list = await t.get("/api/v1/admin/authors?q=Bao", { token: t.writer.token });
    assert.equal(list.body.data[0].bio, "Photographs the port at night.");
    assert.deepEqual(list.body.data[0].links, [{ label: "Portfolio", url: "https://portfolio.example/bao" }]);
    await assertAccessible(page, "the Authors page (editor)");
  });
});

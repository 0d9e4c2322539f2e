// The desk's media library editing (issue 14) in a real headless Chromium: an editor opens an image's
// Edit form by keyboard, changes its alt text and caption, and the published story using it shows the
// new text in the public API at once; Escape closes the form and gives focus back to the Edit button;
// a writer is offered no Edit. axe on the open form, no console errors under the desk's CSP, at laptop
// and tablet width.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { browserSkip } from "./support/browser.ts";
import { makeArticle, makeSection, publish, type TestApp } from "./support/harness.ts";
import { assertAccessible, deskTabs, LAPTOP, login, startDeskApp, TABLET, until } from "./support/desk.ts";
import { uploadMedia } from "../src/media/service.ts";
import { localDiskStorage } from "../src/media/storage.ts";

describe("editing an image's text in the desk's media library", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;
  let slug = "";

  before(async () => {
    ({ t, base } = await startDeskApp());
    await makeSection(t, "harbour", undefined, "Harbour");
    const jpeg = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 40, g: 90, b: 160 } } }).jpeg().toBuffer();
    const m = await uploadMedia(
      { prisma: t.db.prisma, storage: localDiskStorage(t.mediaDir), maxPixels: t.config.MEDIA_MAX_PIXELS },
      { id: t.editor.id, name: "Editor", email: t.editor.email, role: "EDITOR", sessionId: "test", ip: null },
      { buffer: jpeg, originalName: "ferry.jpg" },
      { alt: "A ferry at the pier", caption: "The morning ferry.", credit: "Desk photo" },
    );
    const a = await makeArticle(t, { headline: "Ferry timetable changes", section: "harbour", leadImage: m.id });
    await publish(t, a.id);
    slug = a.slug;
    assert.equal((await t.get(`/api/v1/articles/${slug}`)).body.leadImage.caption, "The morning ferry.");
  });
  const { open } = deskTabs({
    cleanup: () => t?.close(),
  });

  for (const [width, options] of [["laptop", LAPTOP], ["tablet", TABLET]] as const) {
    it(`an editor edits alt text and caption by keyboard; the public article follows (${width})`, async () => {
      const { page } = await open(options);
      await login(page, base, t.editor.email);
      await page.getByRole("link", { name: "Media" }).click();
      await page.getByRole("heading", { level: 1, name: "Media" }).waitFor();
      const item = page.getByTestId("media-item").first();
      const edit = item.getByRole("button", { name: /^Edit image:/ });
      await edit.focus();
      await page.keyboard.press("Enter");
      const alt = item.getByLabel("Alt text");
      await until(async () => (await alt.evaluate((el) => el === el.ownerDocument.activeElement)), "focus in the alt field");
      await assertAccessible(page, `the media edit form (${width})`);

      // Escape closes without saving and returns focus to Edit.
      await page.keyboard.press("Escape");
      await until(async () => (await edit.evaluate((el) => el === el.ownerDocument.activeElement)), "focus back on Edit");
      await page.keyboard.press("Enter");
      const newAlt = `A ferry leaving the pier at dawn (${width})`;
      await alt.fill(newAlt);
      await item.getByLabel("Caption").fill(`The first ferry of the new timetable (${width}).`);
      assert.equal(await item.getByLabel("Credit").inputValue(), "Desk photo");
      await item.getByLabel("Credit").press("Enter");
      await page.getByRole("status").filter({ hasText: `Saved: ${newAlt}.` }).waitFor();
      await until(async () => (await page.getByRole("button", { name: `Edit image: ${newAlt}` })
        .evaluate((el) => el === el.ownerDocument.activeElement)), "focus back on Edit after saving");

      const pub = await t.get(`/api/v1/articles/${slug}`);
      assert.equal(pub.body.leadImage.alt, newAlt);
      assert.equal(pub.body.leadImage.caption, `The first ferry of the new timetable (${width}).`);
      assert.equal(pub.body.leadImage.credit, "Desk photo");
    });
  }

  it("a writer is offered no Edit", async () => {
    const { page } = await open();
    await login(page, base, t.writer.email);
    await page.getByRole("link", { name: "Media" }).click();
    await page.getByRole("heading", { level: 1, name: "Media" }).waitFor();
    await page.getByTestId("media-item").first().waitFor();
    assert.equal(await page.getByRole("button", { name: /^Edit image:/ }).count(), 0);
  });
});

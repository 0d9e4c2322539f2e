// The reference reader site (site/) in a real headless Chromium (Debian's chromium driven by playwright-core,
// tests/support/browser.ts): the API with the demo newsroom and the site on free ports, then the reference
// article page as a reader's browser shows it: every box, images that load, the comment form used with
// the keyboard and the mouse, the view beacon, no console errors, a phone-sized viewport without sideways
// scrolling, and screenshots in test-artifacts/. Skipped without Chromium unless BROWSER_TEST_REQUIRED=1.
// UPDATE_README_SCREENSHOT=1 also rewrites docs/screenshots/reader-article.png (the README's, scaled down).
// Code passed to page.evaluate runs in the page; tsconfig has no DOM lib, so its globals are reached
// through `globalThis as any` there.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import fs from "node:fs";
import { createRequire } from "node:module";
import sharp from "sharp";
import type { Page } from "playwright-core";
import { createSite } from "../site/src/app.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { browserSkip, launch, type TestBrowser, type TestPage } from "./support/browser.ts";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

const SLUG = "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges";
const HEADLINE = "Western Gateway Forum opens with pledges on trade and cultural exchanges";
// A desktop browser's user agent: Chromium's own headless one is (rightly) not counted as a reader's view.
const READER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const DESKTOP = { viewport: { width: 1280, height: 900 }, userAgent: READER_UA };

// axe-core (the desk's dev dependency, as in tests/desk-browser.test.ts), injected through the DevTools
// protocol: WCAG 2.1 A and AA rules, colour contrast included.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
async function assertAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(AXE_SOURCE);
  const { passes, violations } = await page.evaluate(`axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
    .then((r) => ({ passes: r.passes.map((p) => p.id), violations: r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")) }))`) as { passes: string[]; violations: string[] };
  assert.deepEqual(violations, [], `accessibility of ${what}`);
  // The rules that must have found something to check (the comment form's labels on article pages).
  for (const rule of ["color-contrast", "image-alt", "html-has-lang", ...(what.startsWith("the article page") ? ["label"] : [])]) {
    assert.ok(passes.includes(rule), `axe checked ${rule} on ${what}: ${passes.join(" ")}`);
  }
}

describe("reader site in Chromium", { skip: browserSkip(), timeout: 180_000 }, () => {
  let t: TestApp;
  let site: http.Server;
  let browser: TestBrowser;
  let api = "";
  let base = "";
  let articleUrl = "";

  before(async () => {
    t = await startTestApp({ SITE_TIMEZONE: "Asia/Shanghai" });
    assert.equal(await seedDemo(t.db.prisma, localDiskStorage(t.mediaDir)), true);
    api = `http://127.0.0.1:${(t.server.address() as { port: number }).port}`;
    site = http.createServer(createSite({ apiUrl: api, siteName: "Dateline" }));
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
    articleUrl = `${base}/articles/${SLUG}`;
    browser = await launch();
  }, { timeout: 120_000 });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
    await t?.close();
  });

  /** The article page in a new tab, the view beacon's response awaited with it. */
  async function openArticle(options = DESKTOP, path = `/articles/${SLUG}`): Promise<{ tab: TestPage; beacon: { status: number } }> {
    const tab = await browser.newPage(options);
    const beaconResponse = tab.page.waitForResponse((r) => r.url() === `${api}/api/v1/articles/${SLUG}/views` && r.request().method() === "POST");
    const res = await tab.page.goto(base + path, { waitUntil: "load" });
    assert.equal(res?.status(), 200);
    const r = await beaconResponse;
    // (Its body is not read: Chromium does not hand Playwright the body of a keepalive fetch.)
    return { tab, beacon: { status: r.status() } };
  }

  const textOf = (page: Page, selector: string) => page.locator(selector).innerText().then((s) => s.replace(/\s+/g, " ").trim());
  const box = (page: Page, heading: string) => page.locator("section", { has: page.getByRole("heading", { level: 2, name: heading, exact: true }) });

  async function commentCount(page: Page): Promise<number> {
    const m = /^Comments \((\d+)\)$/.exec(await textOf(page, "#comments-h"));
    assert.ok(m, "the comments heading shows a count");
    return Number(m[1]);
  }

  async function popularViews(): Promise<number> {
    const popular = await t.get("/api/v1/popular?window=24h&limit=50");
    assert.equal(popular.status, 200);
    return popular.body.data.find((a: { slug: string }) => a.slug === SLUG)?.views ?? 0;
  }

  it("shows every box of the reference article page, with loaded images, JSON-LD and the view beacon", async () => {
    const viewsBefore = await popularViews();
    const { tab, beacon } = await openArticle();
    const { page } = tab;
    try {
      assert.equal(await page.title(), `${HEADLINE} – Dateline`);
      assert.equal(await page.locator("html").getAttribute("lang"), "en");

      // Landmarks as the browser exposes them (roles, names) and one h1.
      for (const [role, name] of [["banner", undefined], ["main", undefined], ["contentinfo", undefined],
        ["navigation", "Sections"], ["navigation", "Breadcrumb"], ["complementary", "More stories"]] as const) {
        assert.equal(await page.getByRole(role, name ? { name, exact: true } : {}).count(), 1, `${role} ${name ?? ""}`);
      }
      assert.deepEqual(await page.getByRole("heading", { level: 1 }).allInnerTexts(), [HEADLINE]);
      const bar = page.getByRole("navigation", { name: "Sections" });
      assert.equal(await bar.locator('[aria-current="page"]').innerText(), "Foreign Affairs");
      assert.ok(await bar.getByRole("link", { name: "Business", exact: true }).isVisible());

      // Breadcrumb as it reads on screen: the separator is generated by CSS.
      const crumb = page.getByRole("navigation", { name: "Breadcrumb" });
      assert.deepEqual(await crumb.getByRole("listitem").allInnerTexts(), ["English", "Foreign Affairs"]);
      const shown = await crumb.locator("li").evaluateAll((lis) => lis.map((li) => {
        const before = (globalThis as any).getComputedStyle(li, "::before").content;
        return (before && before !== "none" && before !== "normal" ? JSON.parse(before) : "") + (li as any).innerText;
      }).join(""));
      assert.equal(shown, "English >> Foreign Affairs");

      // Headline, local publish time (SITE_TIMEZONE Asia/Shanghai), dateline and agency, body, tools, editors.
      assert.equal(await textOf(page, "article.story .published"), "14:55, June 08, 2013");
      assert.equal(await page.locator("article.story .published").getAttribute("datetime"), "2013-06-08T06:55:00.000Z");
      assert.equal(await textOf(page, "article.story .dateline"), "CHENGDU");
      assert.equal(await textOf(page, "article.story .source"), "(Meridian News Agency)");
      const paragraphs = await page.locator("article.story .article-body p").allInnerTexts();
      assert.equal(paragraphs.length, 7);
      assert.match(paragraphs[0], /^Delegations from fourteen partner cities/);
      assert.ok(await page.locator("article.story .article-body").isVisible());
      assert.equal(await textOf(page, "article.story .tools"), "Email | Print | Comments");
      const tools = page.locator("article.story .tools a");
      assert.match((await tools.nth(0).getAttribute("href")) ?? "", /^mailto:/);
      assert.equal(await tools.nth(1).getAttribute("href"), `/articles/${SLUG}/print`);
      assert.equal(await tools.nth(2).getAttribute("href"), "#comments");
      assert.equal(await textOf(page, "article.story .editors"), "Editor: Liu Fang, Zhao Min");

      // The lead photo and every other image: loaded (naturalWidth > 0) and with a text alternative.
      const images = await page.locator("img").evaluateAll(async (imgs) => Promise.all((imgs as any[]).map(async (img) => {
        img.loading = "eager";
        try { await img.decode(); } catch { /* reported as naturalWidth 0 */ }
        return { src: img.currentSrc || img.src, alt: img.alt, width: img.naturalWidth };
      })));
      assert.ok(images.length >= 3, `images: ${images.length}`);
      for (const img of images) {
        assert.ok(img.width > 0, `image did not load: ${img.src}`);
        assert.ok(img.alt.trim(), `image without alt: ${img.src}`);
        assert.ok(img.src.startsWith(`${api}/media/`), img.src);
      }

      // Comments: the count (the demo's three approved ones) and a form asking for a name and the comment only.
      assert.equal(await commentCount(page), 3);
      assert.equal(await page.locator("#comments .comment-list > li").count(), 3);
      const form = page.locator("#comments form.comment");
      assert.deepEqual(await form.locator("input:not([type=hidden]), textarea, select").evaluateAll((els) => els.map((e) => (e as any).name)), ["name", "body"]);
      assert.ok(await page.getByLabel("Name", { exact: true }).isVisible());
      assert.ok(await page.getByLabel("Comment", { exact: true }).isVisible());
      assert.ok(await form.getByRole("button", { name: "Post comment" }).isVisible());

      // We Recommend (published related stories only), Selections for you (photos), Latest News,
      // Most Popular and the section's box with its lead and list.
      const recommend = await box(page, "We Recommend").getByRole("link").allInnerTexts();
      assert.ok(recommend.length >= 3, `We Recommend: ${recommend}`);
      assert.ok(recommend.every((h) => h.trim() && h !== HEADLINE));
      const selections = box(page, "Selections for you");
      assert.ok(await selections.isVisible());
      const thumbs = await selections.locator("img").evaluateAll((imgs) => (imgs as any[]).map((i) => ({ w: i.naturalWidth, shown: i.getBoundingClientRect().width })));
      assert.ok(thumbs.length >= 4, `selections: ${thumbs.length}`);
      for (const th of thumbs) assert.ok(th.w > 0 && th.shown > 0, JSON.stringify(th));
      const latest = await box(page, "Latest News").getByRole("link").allInnerTexts();
      assert.ok(latest.length >= 5, `Latest News: ${latest}`);
      const popular = await box(page, "Most Popular").getByRole("link").allInnerTexts();
      assert.ok(popular.includes(HEADLINE), `Most Popular: ${popular}`);
      const sectionBox = page.locator("aside section.section-box");
      assert.equal(await sectionBox.getByRole("heading", { level: 2 }).textContent(), "Foreign Affairs");
      assert.ok(await sectionBox.locator(".lead-story h3").isVisible());
      assert.ok((await sectionBox.locator("ul li a").count()) >= 1);
      for (const name of ["We Recommend", "Selections for you", "Latest News", "Most Popular"]) {
        assert.ok(await box(page, name).isVisible(), `${name} is visible`);
      }

      // JSON-LD parses and describes this story.
      const ld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent() ?? "");
      assert.equal(ld["@type"], "NewsArticle");
      assert.equal(ld.headline, HEADLINE);

      // The view beacon, sent by the browser to the API (cross-origin), counted as a reader's view.
      assert.equal(beacon.status, 202);
      await t.views.flush();
      assert.equal(await popularViews(), viewsBefore + 1);

      await assertAccessible(page, "the article page");
      tab.assertNoConsoleErrors();
      await tab.screenshot("article-page");
      if (process.env.UPDATE_README_SCREENSHOT === "1") {
        const png = await sharp(await page.screenshot({ fullPage: true })).resize({ width: 960 }).png({ palette: true, quality: 90 }).toBuffer();
        fs.writeFileSync(new URL("../docs/screenshots/reader-article.png", import.meta.url), png);
      }
    } finally {
      await tab.close();
    }
  });

  it("posts a comment through the form; it shows only after an editor approves it", async () => {
    const { tab } = await openArticle();
    const { page } = tab;
    try {
      const before = await commentCount(page);
      await page.getByLabel("Name", { exact: true }).click();
      await page.keyboard.type("Rosa Ferreira");
      await page.getByLabel("Comment", { exact: true }).click();
      await page.keyboard.type("The rail freight pledge matters most for the smaller exporters here.");
      await Promise.all([
        page.waitForURL((u) => u.searchParams.get("comment") === "pending"),
        page.getByRole("button", { name: "Post comment" }).click(),
      ]);
      assert.match(await page.getByRole("status").innerText(), /once a moderator approves it/);
      assert.equal(await commentCount(page), before);
      assert.equal(await page.locator(".comment-list").getByText("Rosa Ferreira").count(), 0, "not shown before approval");

      // A demo desk editor (password set by the harness's admin) logs in and approves it.
      const liu = (await t.get("/api/v1/admin/editors?role=EDITOR&limit=50", { token: t.admin.token }))
        .body.data.find((e: { email: string }) => e.email === "liufang@dateline.local");
      assert.ok(liu, "the demo editor Liu Fang");
      const path = `/api/v1/admin/editors/${liu.id}`;
      assert.equal((await t.patch(path, { password: PASSWORD }, { token: t.admin.token, headers: await t.ifMatch(path) })).status, 200);
      const login = await t.post("/api/v1/auth/login", { email: "liufang@dateline.local", password: PASSWORD });
      assert.equal(login.status, 200, login.text);
      const token = login.body.accessToken as string;
      const queue = await t.get("/api/v1/admin/comments?status=PENDING", { token });
      const pending = queue.body.data.find((c: { name: string }) => c.name === "Rosa Ferreira");
      assert.ok(pending, "the comment is in the moderation queue");
      assert.equal((await t.patch(`/api/v1/admin/comments/${pending.id}`, { status: "APPROVED" }, { token })).status, 200);

      await page.reload({ waitUntil: "load" });
      assert.equal(await commentCount(page), before + 1);
      const item = page.locator(".comment-list > li", { hasText: "Rosa Ferreira" });
      assert.ok(await item.isVisible());
      assert.match(await item.innerText(), /The rail freight pledge matters most/);
      tab.assertNoConsoleErrors();
    } finally {
      await tab.close();
    }
  });

  it("works with the keyboard: skip link, navigation, the comment form in order, visible focus, Enter submits", async () => {
    const { tab } = await openArticle();
    const { page } = tab;
    try {
      type Focus = { tag: string; id: string; text: string; href: string; inNav: string; outline: string; width: number; onScreen: boolean };
      const focused = () => page.evaluate((): Focus => {
        const el = (globalThis as any).document.activeElement as any;
        const style = (globalThis as any).getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return {
          tag: el.tagName.toLowerCase(), id: el.id, text: (el.innerText ?? "").trim(), href: el.getAttribute("href") ?? "",
          inNav: el.closest("nav")?.getAttribute("aria-label") ?? "",
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
          onScreen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= (globalThis as any).innerWidth,
        };
      });
      const visibleFocus = (f: Focus) => f.outline !== "none" && f.width >= 2 && f.onScreen;

      // The first Tab reaches the skip link, shown on screen with a focus outline; Enter moves to the content.
      await page.keyboard.press("Tab");
      const skip = await focused();
      assert.equal(skip.text, "Skip to content");
      assert.ok(visibleFocus(skip), JSON.stringify(skip));
      await page.keyboard.press("Enter");
      assert.equal(new URL(page.url()).hash, "#content");
      assert.equal((await focused()).id, "content");

      // From the top again: skip link, masthead, the section navigation, ..., name, comment, button.
      await page.goto(articleUrl, { waitUntil: "load" });
      const order: Focus[] = [];
      for (let i = 0; i < 120; i++) {
        await page.keyboard.press("Tab");
        const f = await focused();
        order.push(f);
        if (f.tag === "button") break;
      }
      const index = (pred: (f: Focus) => boolean, what: string) => {
        const i = order.findIndex(pred);
        assert.ok(i >= 0, `${what} not reached by Tab: ${order.map((f) => f.text || f.id || f.tag).join(" | ")}`);
        return i;
      };
      const iSkip = index((f) => f.text === "Skip to content", "skip link");
      const iNav = index((f) => f.inNav === "Sections", "section navigation");
      const iCrumb = index((f) => f.inNav === "Breadcrumb", "breadcrumb");
      const iName = index((f) => f.id === "c-name", "name field");
      const iBody = index((f) => f.id === "c-body", "comment field");
      const iButton = index((f) => f.tag === "button" && f.text === "Post comment", "submit button");
      assert.equal(iSkip, 0);
      assert.ok(iSkip < iNav && iNav < iCrumb && iCrumb < iName && iName + 1 === iBody && iBody + 1 === iButton,
        JSON.stringify({ iSkip, iNav, iCrumb, iName, iBody, iButton }));
      for (const f of order) assert.ok(visibleFocus(f), `focus not visible on ${JSON.stringify(f)}`);

      // Typed with the keyboard alone: Shift+Tab back to the name, type, Tab, type, Tab, Enter.
      await page.keyboard.press("Shift+Tab");
      await page.keyboard.press("Shift+Tab");
      assert.equal((await focused()).id, "c-name");
      await page.keyboard.type("Keyboard Reader");
      await page.keyboard.press("Tab");
      await page.keyboard.type("Sent without touching the mouse.");
      await page.keyboard.press("Tab");
      assert.equal((await focused()).tag, "button");
      await Promise.all([page.waitForURL((u) => u.searchParams.get("comment") === "pending"), page.keyboard.press("Enter")]);
      assert.match(await page.getByRole("status").innerText(), /once a moderator approves it/);
      const queue = await t.get("/api/v1/admin/comments?status=PENDING", { token: t.editor.token });
      assert.ok(queue.body.data.some((c: { name: string; body: string }) => c.name === "Keyboard Reader" && c.body === "Sent without touching the mouse."));
      tab.assertNoConsoleErrors();
    } finally {
      await tab.close();
    }
  });

  it("serves an accessible front page, section front and print view", async () => {
    const tab = await browser.newPage(DESKTOP);
    try {
      for (const [path, h1] of [["/", "Dateline"], ["/section/foreign-affairs", "Foreign Affairs"], [`/articles/${SLUG}/print`, HEADLINE]]) {
        const res = await tab.page.goto(base + path, { waitUntil: "load" });
        assert.equal(res?.status(), 200, path);
        assert.deepEqual(await tab.page.getByRole("heading", { level: 1 }).allInnerTexts(), [h1], path);
        await assertAccessible(tab.page, path);
      }
      tab.assertNoConsoleErrors();
    } finally {
      await tab.close();
    }
  });

  it("fits a phone-sized viewport without sideways scrolling", async () => {
    const { tab } = await openArticle({ viewport: { width: 390, height: 844 }, userAgent: READER_UA });
    const { page } = tab;
    try {
      const size = await page.evaluate(() => ({
        scroll: (globalThis as any).document.documentElement.scrollWidth, client: (globalThis as any).document.documentElement.clientWidth,
        widest: Math.max(...[...(globalThis as any).document.querySelectorAll("body *")].map((e) => e.getBoundingClientRect().right)),
      }));
      assert.equal(size.client, 390);
      assert.ok(size.scroll <= size.client, `page is ${size.scroll}px wide in a 390px viewport`);
      assert.ok(size.widest <= size.client + 0.5, `an element reaches ${size.widest}px in a 390px viewport`);
      // One column: the rail comes below the story, as wide as it.
      const story = await page.locator("main").boundingBox();
      const rail = await page.locator("aside.rail").boundingBox();
      assert.ok(story && rail && rail.y >= story.y + story.height - 1 && Math.abs(rail.width - story.width) < 2, JSON.stringify({ story, rail }));
      assert.ok(await page.getByRole("heading", { level: 1 }).isVisible());
      // The lead photo is not lazy (it is seen first); the rest are loaded before the full-page screenshot.
      assert.equal(await page.locator("article.story figure img").evaluate((img: any) => img.complete && img.naturalWidth > 0), true);
      const widths = await page.locator("img").evaluateAll(async (imgs: any[]) => Promise.all(imgs.map(async (img) => {
        img.loading = "eager";
        try { await img.decode(); } catch { /* naturalWidth stays 0 */ }
        return img.naturalWidth as number;
      })));
      assert.ok(widths.length >= 3 && widths.every((w) => w > 0), JSON.stringify(widths));
      await assertAccessible(page, "the article page at 390px");
      tab.assertNoConsoleErrors();
      await tab.screenshot("article-page-narrow");
    } finally {
      await tab.close();
    }
  });
});

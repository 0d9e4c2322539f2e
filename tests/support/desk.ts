// Shared by the desk's browser tests (tests/desk*-browser.test.ts): logging in through the desk's own
// form, waiting without page-side evaluation (the desk's CSP refuses 'unsafe-eval'), axe-core
// accessibility checks, and the console-error rule. Each test file starts its own app and Chromium.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { launch, type TestBrowser, type TestPage } from "./browser.ts";
import { PASSWORD, startTestApp, type TestApp } from "./harness.ts";
import { DESK_DIST } from "../../src/desk/routes.ts";
import { REPO_ROOT } from "../../src/paths.ts";

export const LAPTOP = { viewport: { width: 1280, height: 860 } };
export const TABLET = { viewport: { width: 820, height: 1180 } };

/** Builds the desk when this checkout has no build yet, then starts an app; `base` is its origin. */
export async function startDeskApp(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  if (!fs.existsSync(path.join(DESK_DIST, "index.html"))) {
    execFileSync(process.execPath, [path.join(REPO_ROOT, "desk", "build.mjs")], { stdio: "inherit" });
  }
  const t = await startTestApp(env);
  return { t, base: `http://127.0.0.1:${(t.server.address() as AddressInfo).port}` };
}

// Chromium logs every answer of 400 and up to the console as a failed load, expected or not. The
// desk meets a 412 (a stale save: the conflict screen) and a 423 (someone else's edit lock) on
// purpose in these scenarios; any other console error, a CSP violation included, fails the test.
// A test file that provokes another status on purpose passes it in `expectedStatuses`.
export function assertNoConsoleErrors(tab: TestPage | { consoleErrors: string[] }, expectedStatuses: number[] = [412, 423]): void {
  const expected = new RegExp(`^Failed to load resource: the server responded with a status of (${expectedStatuses.join("|")}) `);
  const unexpected = tab.consoleErrors.filter((e) => !expected.test(e));
  assert.deepEqual(unexpected, [], "console errors");
}

// axe-core, the accessibility engine, run in the page through the DevTools protocol (not a page
// script, so the desk's CSP stays as it is): WCAG 2.1 A and AA rules, colour contrast included.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
export async function assertAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(`axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
    .then((r) => r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")))`) as string[];
  assert.deepEqual(violations, [], `accessibility of ${what}`);
}

// Polled from here: page.waitForFunction with a string evaluates it in the page, which the desk's CSP
// (no 'unsafe-eval') rightly refuses.
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs in through the desk's login form (checked for accessibility) and waits for the article list. */
export async function login(page: Page, base: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${base}/desk/`);
  await page.getByLabel("Email").waitFor();
  await assertAccessible(page, "the login screen");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Articles" }).waitFor();
}

/** Waits until the editor's save status says the changes are saved. */
export async function saved(page: Page): Promise<void> {
  await page.getByTestId("save-state").filter({ hasText: /^Saved at/ }).waitFor({ timeout: 15_000 });
}

/**
 * The Chromium of one desk test file and the tabs it opens; call it inside the file's `describe`. It
 * registers the hooks: Chromium starts before the tests; after them it is closed, then `cleanup` runs (the
 * app, receivers), and only then is every tracked tab's console checked. So a failed check never leaves a
 * browser or a server running (which held a whole `npm test` open once).
 */
export function deskTabs(options: {
  cleanup?: () => Promise<unknown>;
  /** Statuses a tab provokes on purpose (Chromium logs them as console errors). */
  expectedStatuses?: (tab: TestPage) => number[] | undefined;
} = {}) {
  let browser: TestBrowser | undefined;
  const pages: TestPage[] = [];
  before(async () => { browser = await launch(); });
  after(async () => {
    try {
      await browser?.close();
    } finally {
      await options.cleanup?.();
    }
    for (const p of pages) assertNoConsoleErrors(p, options.expectedStatuses?.(p));
  });
  return {
    /** A tab in a fresh context (own storage), at laptop size unless told otherwise. */
    async open(contextOptions: Parameters<TestBrowser["newPage"]>[0] = LAPTOP): Promise<TestPage> {
      if (!browser) throw new Error("Chromium is not running");
      const tab = await browser.newPage({ ...LAPTOP, ...contextOptions });
      pages.push(tab);
      return tab;
    },
    /** Stops tracking a tab the test has checked and closed itself. */
    forget(tab: TestPage): void {
      pages.splice(pages.indexOf(tab), 1);
    },
  };
}

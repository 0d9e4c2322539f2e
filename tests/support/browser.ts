// End-to-end tests in a real headless Chromium: Debian's `chromium` package driven by playwright-core
// (no browser download; `scripts/ensure-chromium.sh` installs it in CI).
//
//   import { browserSkip, launch } from "./support/browser.ts";
//   describe("my pages in Chromium", { skip: browserSkip() }, () => {
//     let browser: TestBrowser;
//     before(async () => { browser = await launch(); });
//     after(() => browser?.close());
//     it("...", async () => {
//       const tab = await browser.newPage({ viewport: { width: 390, height: 844 } });
//       await tab.page.goto(url);
//       await tab.screenshot("my-page");          // test-artifacts/my-page.png
//       tab.assertNoConsoleErrors();
//       await tab.close();
//     });
//   });
//
// Which Chromium: $CHROMIUM_PATH, else /usr/bin/chromium, else `chromium` on the PATH. When there is none,
// `browserSkip()` returns a reason to skip (a fresh machine's `npm test` still passes), unless
// BROWSER_TEST_REQUIRED=1 (CI): then it throws, and the test file fails loudly.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";

/** Where screenshots go: $TEST_ARTIFACTS_DIR, else `test-artifacts/` at the repository root (git-ignored). */
export const ARTIFACTS_DIR = process.env.TEST_ARTIFACTS_DIR
  ? path.resolve(process.env.TEST_ARTIFACTS_DIR)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test-artifacts");

// The machine's network is closed and the profile is throwaway: no sandbox (CI runs as root), no GPU,
// and none of Chromium's own background traffic (updates, sync, field trials), which would only
// produce refused connections.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** The Chromium executable to drive, or null when the machine has none. */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium"];
  for (const c of candidates) if (c && isExecutable(c)) return c;
  try {
    const found = execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
    if (found && isExecutable(found)) return found;
  } catch { /* not on the PATH */ }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * For `describe(name, { skip: browserSkip() }, ...)`: false when Chromium is there; a message saying
 * why the tests are skipped when it is not; throws when it is not and BROWSER_TEST_REQUIRED=1.
 */
export function browserSkip(): false | string {
  if (chromiumPath()) return false;
  const where = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}, ` : "";
  const message = `no Chromium found (${where}/usr/bin/chromium, chromium on the PATH): ` +
    "install Debian's chromium (scripts/ensure-chromium.sh) or set CHROMIUM_PATH";
  if (process.env.BROWSER_TEST_REQUIRED === "1") {
    throw new Error(`BROWSER_TEST_REQUIRED=1 but ${message}`);
  }
  return `browser tests skipped: ${message}`;
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** Console messages of type "error" and uncaught page exceptions, as they happened. */
  consoleErrors: string[];
  /** Fails with every console error seen on this page so far. */
  assertNoConsoleErrors(): void;
  /** A PNG of the page (the full page unless `fullPage: false`) in ARTIFACTS_DIR/<name>.png; its path. */
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface TestBrowser {
  browser: Browser;
  /** A page in a fresh context (own cookies and storage); options are Playwright's context options. */
  newPage(options?: BrowserContextOptions): Promise<TestPage>;
  close(): Promise<void>;
}

/** Starts headless Chromium (a fresh temporary profile, removed on close). Fails when it cannot start. */
export async function launch(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(browserSkip() || "no Chromium found");
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${msg.location().url || page.url()})`);
      });
      page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
      return {
        page, context, consoleErrors,
        assertNoConsoleErrors() {
          if (consoleErrors.length) throw new Error(`console errors on ${page.url()}:\n  ${consoleErrors.join("\n  ")}`);
        },
        async screenshot(name, { fullPage = true } = {}) {
          fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
          const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
          await page.screenshot({ path: file, fullPage });
          return file;
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

// The desk (issue 14) as served by Dateline: /desk answers the built app's
// index.html under a strict Content-Security-Policy, its hashed assets are
// cached for a year, client routes fall back to index.html, a missing build is
// a 503 problem, and the first load stays under ~300 KB of compressed JS.
// /desk is not part of openapi.yaml (it is not API): these requests go to the
// server directly rather than through the harness's spec check.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import express from "express";
import request from "supertest";
import { startTestApp, type TestApp } from "./support/harness.ts";
import { DESK_CSP, DESK_DIST, deskRoutes } from "../src/desk/routes.ts";
import { errorHandler, notFoundHandler } from "../src/http/errors.ts";
import { REPO_ROOT } from "../src/paths.ts";

const FIRST_LOAD_BUDGET = 300 * 1024;

/** The files index.html makes the browser load before the app runs: script, module preloads, stylesheet. */
function firstLoad(html: string): string[] {
  return [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="(\/desk\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

describe("the desk at /desk", () => {
  let t: TestApp;
  before(async () => {
    // The root build (npm install / npm start) makes desk/dist; build it here when a checkout has not yet.
    if (!fs.existsSync(path.join(DESK_DIST, "index.html"))) {
      execFileSync(process.execPath, [path.join(REPO_ROOT, "desk", "build.mjs")], { stdio: "inherit" });
    }
    t = await startTestApp();
  });
  after(() => t?.close());

  it("redirects /desk to /desk/ and keeps the query", async () => {
    const res = await request(t.server).get("/desk?x=1");
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, "/desk/?x=1");
  });

  it("serves index.html with the strict CSP, revalidated on every load, no inline script or style", async () => {
    const res = await request(t.server).get("/desk/");
    assert.equal(res.status, 200);
    assert.match(res.headers["content-type"], /^text\/html/);
    assert.equal(res.headers["content-security-policy"], DESK_CSP);
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
      "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) {
      assert.ok(res.headers["content-security-policy"].split("; ").includes(directive), directive);
    }
    assert.doesNotMatch(res.headers["content-security-policy"], /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers["cache-control"], "no-cache");
    assert.ok(res.headers.etag, "index.html carries an ETag for the revalidation");
    assert.equal(res.headers["x-robots-tag"], "noindex, nofollow");
    // Every script has a src, no <style> element, no style attribute, no inline event handler.
    for (const m of res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /\ssrc="\/desk\/assets\//, `inline script: ${m[0]}`);
      assert.equal(m[2].trim(), "");
    }
    assert.doesNotMatch(res.text, /<style\b|\sstyle=|\son[a-z]+=/i);
    const again = await request(t.server).get("/desk/").set("If-None-Match", res.headers.etag);
    assert.equal(again.status, 304);
  });

  it("serves the hashed assets for a year, immutable, with the right types", async () => {
    const html = (await request(t.server).get("/desk/")).text;
    const files = firstLoad(html);
    assert.ok(files.some((f) => f.endsWith(".js")) && files.some((f) => f.endsWith(".css")), files.join(", "));
    for (const file of files) {
      assert.match(file, /-[A-Z0-9]{8}\.(js|css)$/, `${file} is content-hashed`);
      const res = await request(t.server).get(file);
      assert.equal(res.status, 200, file);
      assert.match(res.headers["cache-control"], /max-age=31536000/);
      assert.match(res.headers["cache-control"], /immutable/);
      assert.match(res.headers["content-type"], file.endsWith(".js") ? /javascript/ : /text\/css/);
      assert.equal(res.headers["content-security-policy"], DESK_CSP);
    }
  });

  it("answers index.html for the app's own routes, a 404 problem for a missing asset", async () => {
    const index = (await request(t.server).get("/desk/")).text;
    for (const route of ["/desk/articles/new", "/desk/articles/42", "/desk/account/password", "/desk/no/such/screen"]) {
      const res = await request(t.server).get(route);
      assert.equal(res.status, 200, route);
      assert.equal(res.text, index, route);
      assert.equal(res.headers["cache-control"], "no-cache");
      assert.equal(res.headers["content-security-policy"], DESK_CSP);
    }
    const missing = await request(t.server).get("/desk/assets/main-AAAAAAAA.js");
    assert.equal(missing.status, 404);
    assert.match(missing.headers["content-type"], /application\/problem\+json/);
    assert.equal(missing.body.status, 404);
    // Nothing outside the build's folder.
    const escape = await request(t.server).get("/desk/assets/..%2f..%2fpackage.json");
    assert.notEqual(escape.status, 200);
  });

  it("leaves the rest of the app's headers alone (the API keeps its own CSP)", async () => {
    const res = await request(t.server).get("/healthz");
    assert.notEqual(res.headers["content-security-policy"], DESK_CSP);
  });

  it("keeps the first load under 300 KB of compressed JS and CSS (gzip of the built files)", () => {
    const html = fs.readFileSync(path.join(DESK_DIST, "index.html"), "utf8");
    const gz = (file: string) => zlib.gzipSync(fs.readFileSync(path.join(DESK_DIST, file.replace(/^\/desk\//, ""))), { level: 9 }).length;
    const first = firstLoad(html);
    const firstBytes = first.reduce((sum, f) => sum + gz(f), 0);
    assert.ok(firstBytes < FIRST_LOAD_BUDGET, `first load ${firstBytes} bytes gzipped (budget ${FIRST_LOAD_BUDGET})`);
    // Everything the desk can load (the rich-text editor is a chunk of its own, fetched when an article opens).
    const all = fs.readdirSync(path.join(DESK_DIST, "assets")).filter((f) => /\.(js|css)$/.test(f));
    const allBytes = all.reduce((sum, f) => sum + gz(`assets/${f}`), 0);
    assert.ok(allBytes < FIRST_LOAD_BUDGET, `all of the desk's JS and CSS: ${allBytes} bytes gzipped`);
    console.log(`desk: first load ${(firstBytes / 1024).toFixed(1)} KB, everything ${(allBytes / 1024).toFixed(1)} KB (gzip)`);
  });

  it("hands the site's time zone to the desk in a <meta> of index.html (data, not script)", async () => {
    const res = await request(t.server).get("/desk/articles/1");
    assert.match(res.text, /<meta name="dateline-site-timezone" content="UTC">/);
    const app = express();
    app.use("/desk", deskRoutes({ siteTimeZone: "Asia/Shanghai" }));
    const shanghai = await request(app).get("/desk/");
    assert.equal(shanghai.status, 200);
    assert.match(shanghai.text, /<meta name="dateline-site-timezone" content="Asia\/Shanghai">/);
    assert.equal(shanghai.headers["content-security-policy"], DESK_CSP);
  });

  it("lets images come from MEDIA_BASE_URL's origin when media are served from elsewhere", async () => {
    const app = express();
    app.use("/desk", deskRoutes({ mediaBaseUrl: "https://media.example.net/newsroom" }));
    const res = await request(app).get("/desk/");
    const policy = res.headers["content-security-policy"].split("; ");
    assert.ok(policy.includes("img-src 'self' data: blob: https://media.example.net"), policy.join("; "));
    assert.ok(policy.includes("script-src 'self'"));
  });

  it("answers a 503 problem saying to build when desk/dist is missing", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "desk-missing-"));
    try {
      const app = express();
      app.use("/desk", deskRoutes({ dist: path.join(empty, "dist") }));
      app.use(notFoundHandler);
      app.use(errorHandler);
      for (const route of ["/desk/", "/desk/articles/1", "/desk/assets/main-AAAAAAAA.js"]) {
        const res = await request(app).get(route);
        assert.equal(res.status, 503, route);
        assert.match(res.headers["content-type"], /application\/problem\+json/);
        assert.equal(res.body.type, "urn:dateline:problem:desk-not-built");
        assert.match(res.body.detail, /npm run build/);
        assert.equal(res.headers["cache-control"], "no-store");
      }
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("type-checks the desk's sources under strict TypeScript", () => {
    const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "-p", path.join(REPO_ROOT, "desk", "tsconfig.json"), "--noEmit"], { stdio: "pipe" });
  });
});

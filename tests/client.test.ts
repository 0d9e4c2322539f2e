// @dateline/client (clients/typescript): its generated types match openapi.yaml, a frontend's code
// compiles against them under strict TypeScript, and that same code runs against a live server.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createDatelineClient, type TokenPair } from "@dateline/client";
import { placeholderPng } from "../src/seed/placeholder.ts";
import { PASSWORD, startTestApp, type TestApp } from "./support/harness.ts";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const pkg = path.join(root, "clients/typescript");
const tsc = path.join(root, "node_modules/typescript/bin/tsc");

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

// The package is consumed as published (dist/, built by its `prepare` on install); rebuild it when its source is newer.
async function ensureBuilt(): Promise<void> {
  const dist = path.join(pkg, "dist");
  if (fs.existsSync(path.join(dist, "index.js")) && newest(dist) >= newest(path.join(pkg, "src"))) return;
  await run(process.execPath, [tsc, "-p", path.join(pkg, "tsconfig.json")], { cwd: pkg });
}

let t: TestApp | undefined;
/** The live server, started by the first test that needs it (the static checks run without a database). */
async function live(): Promise<TestApp> {
  t ??= await startTestApp();
  return t;
}
before(ensureBuilt);
after(() => t?.close());

describe("@dateline/client", () => {
  it("its generated types are what `npm run generate` makes from openapi.yaml now", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-client-"));
    try {
      const out = path.join(tmp, "schema.ts");
      await run(process.execPath, [path.join(pkg, "scripts/generate.mjs"), "--out", out], { cwd: pkg });
      const fresh = fs.readFileSync(out, "utf8");
      const committed = fs.readFileSync(path.join(pkg, "src/schema.ts"), "utf8");
      assert.ok(fresh.length > 10_000);
      if (fresh !== committed) {
        const [a, b] = [committed.split("\n"), fresh.split("\n")];
        const line = a.findIndex((l, i) => l !== b[i]);
        assert.fail(`clients/typescript/src/schema.ts is stale (line ${line + 1}: ${JSON.stringify(a[line])} should be ${JSON.stringify(b[line])}): run \`npm run generate -w @dateline/client\``);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("a frontend's code compiles under strict TypeScript (DOM and Node libraries) and invalid requests do not", async () => {
    const usage = path.join(root, "tests/fixtures/client/usage.ts");
    const common = ["--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
      "--skipLibCheck", "--noUnusedLocals"];
    for (const libs of [["--lib", "es2023,dom"], ["--lib", "es2023", "--types", "node"]]) {
      // Unused `@ts-expect-error` lines fail the build too: the refused requests must stay refused.
      const res = await run(process.execPath, [tsc, ...common, ...libs, usage], { cwd: root }).catch((e) => e);
      assert.equal(res.code ?? 0, 0, `tsc ${libs.join(" ")}:\n${res.stdout}${res.stderr}`);
    }
  });

  it("runs against a live server: public reads, comments, login and refresh, create/publish, upload, pagination, 304s, problems", async () => {
    const app = await live();
    const { scenario } = await import("./fixtures/client/usage.ts");
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const r = await scenario({
      baseUrl,
      email: app.admin.email,
      password: PASSWORD,
      image: new Uint8Array(placeholderPng(4, 3, [200, 20, 20])),
      approveComment: async (id) => {
        const res = await app.patch(`/api/v1/admin/comments/${id}`, { status: "APPROVED" }, { token: app.editor.token });
        assert.equal(res.status, 200);
      },
    });
    assert.deepEqual(r.sections, ["english"]);
    assert.equal(r.articleSlug, "envoys-meet-in-chengdu");
    assert.equal(r.publicHeadline, "Envoys meet in Chengdu");
    assert.deepEqual(r.breadcrumb, ["English", "Foreign Affairs"]);
    assert.equal(r.commentStatus, "PENDING");
    assert.deepEqual(r.approvedComments, ["A good read."]);
    assert.equal(r.refreshedOn401, true, "a 401 with a refresh token refreshes once and repeats the call");
    assert.equal(r.tokensSeen, 4, "login, the scenario's own setTokens, the refresh, logout");
    assert.equal(r.mediaMime, "image/png");
    assert.match(r.mediaUrl, /^\/media\/\d{4}\/\d{2}\/.+\.png$/);
    assert.deepEqual(r.paginated, ["fourth-story", "third-story", "second-story", "envoys-meet-in-chengdu"]);
    assert.equal(r.firstRevalidated, false);
    assert.equal(r.secondRevalidated, true, "the second GET is a 304 answered from the cached body");
    assert.equal(r.sameBody, true);
    assert.deepEqual(r.latest.slice(0, 1), ["Fourth story"]);
    assert.deepEqual(r.notFound, { status: 404, code: "not-found", title: "Not Found" });
    assert.equal(r.validation.status, 400);
    assert.ok(r.validation.paths.some((p) => p.startsWith("body.tags")), r.validation.paths.join());
    assert.equal(r.badLogin, 401);
    assert.equal(typeof r.sectionLead, "string");
    const failed = Object.entries(r.publicTour).filter(([op, status]) => status !== (op === "recordArticleView" ? 202 : 200));
    assert.deepEqual(failed, [], "every public operation succeeds with a request its types accept");
    assert.ok(Object.keys(r.publicTour).length >= 20);
  });

  it("concurrent 401s share one refresh (refresh tokens are single-use), and a failed refresh forgets the tokens", async () => {
    const app = await live();
    const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const seen: (TokenPair | null)[] = [];
    const client = createDatelineClient({ baseUrl, onTokens: (tk) => seen.push(tk) });
    const tokens = await client.login(app.writer.email, PASSWORD);
    client.setTokens({ ...tokens, accessToken: "revoked" });
    const results = await Promise.all([1, 2, 3].map(() => client.api.GET("/api/v1/admin/me")));
    assert.deepEqual(results.map((r) => r.response.status), [200, 200, 200]);
    assert.equal(seen.length, 3, "login, setTokens, one refresh");
    assert.notEqual(client.tokens?.refreshToken, tokens.refreshToken);

    // A refresh token that no longer works: the 401 is returned as it is and the tokens are dropped.
    client.setTokens({ ...tokens, accessToken: "revoked", refreshToken: "not-a-refresh-token" });
    const denied = await client.api.GET("/api/v1/admin/me");
    assert.equal(denied.response.status, 401);
    assert.equal(client.tokens, null);
  });
});

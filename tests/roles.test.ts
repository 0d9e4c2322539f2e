// The role table: every editor endpoint, called by each role and anonymously.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestEditor } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

type Actor = "ADMIN" | "EDITOR" | "WRITER";
interface Case {
  name: string;
  allowed: Actor[];
  /** What a role outside `allowed` gets: 403, or 404 where the target is hidden from it (another writer's draft). */
  denied?: number;
  /** Builds a fresh target; `me` is the acting editor. */
  setup: (me: TestEditor) => Promise<{ method: string; path: string; body?: unknown; headers?: Record<string, string> }>;
}

let n = 0;
const uniq = () => `r${++n}`;
const draftBy = (token: string) => makeArticle(t, { headline: `Draft ${uniq()}`, section: "desk" }, token);
const comment = async () => {
  const a = await draftBy(t.editor.token);
  await publish(t, a.id);
  // Each from its own client address, so the comment rate limit stays out of the way.
  const c = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "N", body: "B" }, { headers: { "X-Forwarded-For": `198.18.${Math.floor(n / 250)}.${n % 250}` } });
  return c.body.id as number;
};

const ALL: Actor[] = ["ADMIN", "EDITOR", "WRITER"];
const EDITOR_PLUS: Actor[] = ["ADMIN", "EDITOR"];

const cases: Case[] = [
  { name: "GET /admin/me", allowed: ALL, setup: async () => ({ method: "GET", path: "/api/v1/admin/me" }) },
  { name: "GET /admin/articles", allowed: ALL, setup: async () => ({ method: "GET", path: "/api/v1/admin/articles" }) },
  { name: "GET own draft", allowed: ALL, setup: async (me) => ({ method: "GET", path: `/api/v1/admin/articles/${(await draftBy(me.token)).id}` }) },
  { name: "GET another's draft", allowed: EDITOR_PLUS, denied: 404, setup: async () => ({ method: "GET", path: `/api/v1/admin/articles/${(await draftBy(t.admin.token)).id}` }) },
  { name: "POST /admin/articles", allowed: ALL, setup: async () => ({ method: "POST", path: "/api/v1/admin/articles", body: { headline: `New ${uniq()}`, section: "desk" } }) },
  { name: "PATCH own draft", allowed: ALL, setup: async (me) => ({ method: "PATCH", path: `/api/v1/admin/articles/${(await draftBy(me.token)).id}`, body: { summary: "s" } }) },
  { name: "PATCH another's draft", allowed: EDITOR_PLUS, denied: 404, setup: async () => ({ method: "PATCH", path: `/api/v1/admin/articles/${(await draftBy(t.admin.token)).id}`, body: { summary: "s" } }) },
  {
    name: "PATCH own published article", allowed: EDITOR_PLUS, setup: async (me) => {
      const a = await draftBy(me.token);
      await publish(t, a.id);
      return { method: "PATCH", path: `/api/v1/admin/articles/${a.id}`, body: { summary: "s" } };
    },
  },
  { name: "DELETE own draft", allowed: ALL, setup: async (me) => ({ method: "DELETE", path: `/api/v1/admin/articles/${(await draftBy(me.token)).id}` }) },
  { name: "DELETE another's draft", allowed: EDITOR_PLUS, denied: 404, setup: async () => ({ method: "DELETE", path: `/api/v1/admin/articles/${(await draftBy(t.admin.token)).id}` }) },
  { name: "POST publish own draft", allowed: EDITOR_PLUS, setup: async (me) => ({ method: "POST", path: `/api/v1/admin/articles/${(await draftBy(me.token)).id}/publish` }) },
  {
    name: "POST unpublish", allowed: EDITOR_PLUS, setup: async () => {
      const a = await draftBy(t.admin.token);
      await publish(t, a.id);
      return { method: "POST", path: `/api/v1/admin/articles/${a.id}/unpublish` };
    },
  },
  { name: "GET /admin/comments", allowed: EDITOR_PLUS, setup: async () => ({ method: "GET", path: "/api/v1/admin/comments?status=PENDING" }) },
  { name: "PATCH /admin/comments/{id}", allowed: EDITOR_PLUS, setup: async () => ({ method: "PATCH", path: `/api/v1/admin/comments/${await comment()}`, body: { status: "APPROVED" } }) },
  { name: "DELETE /admin/comments/{id}", allowed: EDITOR_PLUS, setup: async () => ({ method: "DELETE", path: `/api/v1/admin/comments/${await comment()}` }) },
  { name: "GET /admin/editors", allowed: ["ADMIN"], setup: async () => ({ method: "GET", path: "/api/v1/admin/editors" }) },
  { name: "GET /admin/editors/{id}", allowed: ["ADMIN"], setup: async () => ({ method: "GET", path: `/api/v1/admin/editors/${t.writer.id}` }) },
  { name: "POST /admin/editors", allowed: ["ADMIN"], setup: async () => ({ method: "POST", path: "/api/v1/admin/editors", body: { name: "New", email: `${uniq()}@test.local`, password: "a long enough password", role: "WRITER" } }) },
  { name: "PATCH /admin/editors/{id}", allowed: ["ADMIN"], setup: async () => ({ method: "PATCH", path: `/api/v1/admin/editors/${(await t.addEditor("WRITER")).id}`, body: { name: "Renamed" } }) },
  { name: "DELETE /admin/editors/{id}", allowed: ["ADMIN"], setup: async () => ({ method: "DELETE", path: `/api/v1/admin/editors/${(await t.addEditor("WRITER")).id}` }) },
  { name: "GET /admin/sections", allowed: ALL, setup: async () => ({ method: "GET", path: "/api/v1/admin/sections" }) },
  { name: "POST /admin/sections", allowed: ["ADMIN"], setup: async () => ({ method: "POST", path: "/api/v1/admin/sections", body: { slug: uniq(), name: "S" } }) },
  { name: "PATCH /admin/sections/{id}", allowed: ["ADMIN"], setup: async () => ({ method: "PATCH", path: `/api/v1/admin/sections/${(await makeSection(t, uniq())).id}`, body: { name: "Renamed" } }) },
  { name: "DELETE /admin/sections/{id}", allowed: ["ADMIN"], setup: async () => ({ method: "DELETE", path: `/api/v1/admin/sections/${(await makeSection(t, uniq())).id}` }) },
];

describe("role x endpoint", () => {
  for (const c of cases) {
    for (const role of ["ADMIN", "EDITOR", "WRITER", "anonymous"] as const) {
      const expect = role === "anonymous" ? "401" : c.allowed.includes(role) ? "2xx" : String(c.denied ?? 403);
      it(`${c.name} as ${role}: ${expect}`, async () => {
        const me = role === "ADMIN" ? t.admin : role === "EDITOR" ? t.editor : t.writer;
        const req = await c.setup(me);
        // Writes to versioned resources carry the current ETag, as a client would.
        const versioned = /^(PATCH|DELETE)$/.test(req.method) && /\/(articles|editors|sections)\/\d+$/.test(req.path);
        const headers = versioned ? await t.ifMatch(req.path) : undefined;
        const res = await t.call(req.method, req.path, { token: role === "anonymous" ? undefined : me.token, body: req.body, headers });
        if (expect === "2xx") assert.ok(res.status >= 200 && res.status < 300, `got ${res.status}: ${res.text}`);
        else assert.equal(res.status, Number(expect), res.text);
      });
    }
  }

  it("a writer cannot set status or author by sending them", async () => {
    const res = await t.post("/api/v1/admin/articles", { headline: "Sneaky", section: "desk", status: "PUBLISHED", authorId: t.admin.id }, { token: t.writer.token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), ["body.authorId", "body.status"]);
    const ok = await t.post("/api/v1/admin/articles", { headline: "Honest", section: "desk" }, { token: t.writer.token });
    assert.equal(ok.body.status, "DRAFT");
    assert.equal(ok.body.author.id, t.writer.id);
  });
});

// The per-request SQL statement counter (Server-Timing: db;desc="<n> statements"):
// counted at the driver adapter and on raw connections, attributed to the
// request that sent them even when requests overlap.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

describe("SQL statement counter", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await makeSection(t, "counted");
  });
  after(() => t.close());

  it("reports the statements of every response, 0 for one that needs no database", async () => {
    const health = await t.get("/healthz");
    assert.equal(statementsOf(health), 0);
    const ready = await t.get("/readyz");
    assert.ok(statementsOf(ready) > 0, "raw-connection queries (pending migrations) count");
    const unauthorized = await t.get("/api/v1/admin/articles");
    assert.equal(unauthorized.status, 401);
    assert.equal(statementsOf(unauthorized), 0);
  });

  it("counts a write's transaction (BEGIN, its statements, COMMIT) and its raw queries", async () => {
    const a = await makeArticle(t, { headline: "Counted", section: "counted" });
    const res = await t.post(`/api/v1/admin/articles/${a.id}/publish`, undefined, { token: t.editor.token });
    assert.equal(res.status, 200);
    // At least: session lookup, BEGIN, the update, the outbox lock ($executeRaw), the event row, COMMIT.
    assert.ok(statementsOf(res) >= 6, `publish sent ${statementsOf(res)} statements`);
  });

  it("attributes statements to their own request when requests overlap", async () => {
    const slugs: string[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await makeArticle(t, { headline: `Parallel ${i}`, section: "counted" });
      await publish(t, a.id);
      slugs.push(a.slug);
    }
    // A cold read of one article, alone.
    const alone = statementsOf(await t.get(`/api/v1/articles/${slugs[0]}/comments`));
    assert.ok(alone > 0);
    // The same kind of cold read for five others at once: each reports its own, the same count.
    const together = await Promise.all(slugs.slice(1).map((s) => t.get(`/api/v1/articles/${s}/comments`)));
    assert.deepEqual(together.map(statementsOf), together.map(() => alone));
  });
});

// Property: whatever the query text and parameters, /api/v1/search and
// /api/v1/admin/articles?q= answer 200 or a 400 problem, never a 5xx, and a
// snippet never carries an element other than <mark>. Fixed seed, bounded
// runs (FUZZ_SEED, FUZZ_RUNS override).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { parseSearch, snippetHtml } from "../src/search/query.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "news", undefined, "News");
  const bodies = [
    "<p>Floods close the harbour road &amp; the river bank.</p>",
    "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; tempest in a teapot</p>",
    "<p>北京 今天 下雨 — émeute à l'école, Straße, İstanbul 💥</p>",
  ];
  for (const [i, body] of bodies.entries()) {
    const a = await makeArticle(t, { headline: `Story ${i} harbour tempest`, section: "news", body });
    await publish(t, a.id);
  }
});
after(() => t.close());

// Pieces that mean something to websearch_to_tsquery, to_tsquery, SQL or HTML.
const PIECES = [
  '"', "'", "-", "OR", "or", "AND", "&", "|", "!", "<->", ":*", ":", "*", "(", ")", "\\", "\\\\", ";", "--", "/*", "*/",
  "' OR '1'='1", "\"; DROP TABLE \"Article\"; --", "$1", "%", "_", "<mark>", "</mark>", "<script>", "&amp;", "\uE000", "\uE001",
  "harbour", "harb", "floods", "tempest", "the", "a", "北京", "北", "école", "İ", "ß", "💥", "🇨🇳", "👩‍👩‍👧", "\u202e", "\u200b",
  "\t", "\n", " ", "  ", "x".repeat(300), "é".repeat(200), "1", "0x10", "1e3", "NaN",
];
const text = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 12 }).map((xs) => xs.join(" ")) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }).map((xs) => xs.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 60 }) },
  // No NUL: input hygiene rejects it before any route (its own tests).
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map((s) => s.replace(/\u0000/g, "")) },
  { weight: 1, arbitrary: fc.integer({ min: 490, max: 1000 }).map((n) => "w ".repeat(n).slice(0, n)) },
);
const param = (name: string, values: string[]) => fc.option(fc.constantFrom(...values).map((v) => [name, v] as const), { nil: undefined });
const params = fc.tuple(
  param("section", ["news", "nowhere", "NEWS", "a b"]),
  param("tag", ["weather", "x", "--"]),
  param("kind", ["STORY", "story", "X"]),
  param("language", ["en", "fr", "zh-Hans", "xx", "en-", "!"]),
  param("from", ["2026-11-01", "2026-11-01T00:00:00Z", "yesterday", "0000-01-01", "9999-12-31", "2026-02-30"]),
  param("to", ["2026-11-30", "2026-11-30T23:59:59+08:00", "1e3", "10000-01-01"]),
  param("sort", ["relevance", "newest", "best"]),
  param("limit", ["1", "50", "0", "51", "-1", "abc"]),
  param("cursor", ["eyJzIjoiciIsInIiOjEsImlkIjoxfQ", "eyJzIjoibiIsInQiOiIyMDI2LTExLTAxVDAwOjAwOjAwWiIsImlkIjoxfQ", "!!", "e30"]),
);

function checkSnippet(s: string) {
  assert.doesNotMatch(s.replace(/<\/?mark>/g, ""), /[<>]/, s);
  assert.equal((s.match(/<mark>/g) ?? []).length, (s.match(/<\/mark>/g) ?? []).length, s);
}

describe("search never fails on input", () => {
  it("public search: 200 or 400", async () => {
    await fc.assert(fc.asyncProperty(text, params, async (q, ps) => {
      const query = new URLSearchParams([["q", q], ...ps.filter((p) => p !== undefined)] as [string, string][]);
      const res = await t.get(`/api/v1/search?${query}`);
      assert.ok(res.status === 200 || res.status === 400 || res.status === 404, `${query}: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status === 404) assert.ok(query.get("section") !== "news", "404 only for an unknown section");
      if (res.status === 200) for (const hit of res.body.data) checkSnippet(hit.snippet);
      if (res.status === 400) assert.equal(res.headers["content-type"], "application/problem+json; charset=utf-8");
    }), { seed: SEED, numRuns: RUNS });
  });

  it("editor API ?q=: 200 or 400", async () => {
    await fc.assert(fc.asyncProperty(text, async (q) => {
      const res = await t.get(`/api/v1/admin/articles?${new URLSearchParams({ q })}`, { token: t.writer.token });
      assert.ok(res.status === 200 || res.status === 400, `${q}: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status === 200) for (const hit of res.body.meta.hits) checkSnippet(hit.snippet);
    }), { seed: SEED, numRuns: Math.round(RUNS / 2) });
  });

  it("parseSearch hands to_tsquery only letters, digits and marks", () => {
    fc.assert(fc.property(text, (q) => {
      const p = parseSearch(q);
      if (p.last !== null) assert.match(p.last, /^[\p{L}\p{M}\p{N}]+$/u);
    }), { seed: SEED, numRuns: 2000 });
  });

  it("snippetHtml leaves no element but <mark>", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), fc.array(fc.constantFrom("\uE000", "\uE001", "<", ">", "&", "<mark>")), (s, extra) => {
      checkSnippet(snippetHtml(s + extra.join("")));
    }), { seed: SEED, numRuns: 2000 });
  });
});

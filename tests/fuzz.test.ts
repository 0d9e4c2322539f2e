// Schema-driven fuzzing of every operation in openapi.yaml. Requests are
// built from the documented path, query, header and body schemas, with
// hostile values mixed in at every level (NUL, lone surrogates, long and
// exotic strings, SQL fragments, huge, negative and fractional numbers,
// wrong types, deep nesting, __proto__/constructor keys, malformed
// percent-encoding), and sent anonymously and as ADMIN. Any 5xx fails, and
// so does any response the spec does not describe (the harness checks every
// response against openapi.yaml). Fixed seed and bounded runs, so a failure
// reproduces: FUZZ_SEED and FUZZ_RUNS override them.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import sharp from "sharp";
import YAML from "yaml";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

const spec = YAML.parse(fs.readFileSync(path.resolve(import.meta.dirname, "..", "openapi.yaml"), "utf8"));
type Schema = Record<string, any>;

function deref<T = Schema>(node: any): T {
  let cur = node;
  for (let i = 0; cur && typeof cur.$ref === "string" && i < 20; i++) {
    cur = cur.$ref.replace(/^#\//, "").split("/").reduce((o: any, k: string) => o?.[k], spec);
  }
  return cur;
}

// ---------------------------------------------------------------- hostile values

/** JSON text emitted verbatim: numbers JavaScript cannot hold, duplicate keys. */
class RawJson {
  constructor(readonly text: string) {}
}

/** Own keys only (so "__proto__" made by JSON.parse is kept), RawJson as is. */
function toJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString("latin1"));
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${toJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const HOSTILE_STRINGS = [
  "\u0000", "a\u0000b", "\ud800", "x\udfffy", "\udbff\udbff", "", " ", "   \t\n", "x".repeat(1000), "é".repeat(1000),
  "💥🇨🇳👩‍👩‍👧", "\u202egnp.exe", "İıſK", "２０", "' OR '1'='1' --", "\"; DROP TABLE \"Article\"; --", "$1", "%00", "%s%n",
  "../../etc/passwd", "<script>alert(1)</script>", "javascript:alert(1)", "null", "undefined", "NaN", "Infinity",
  "-1", "0", "1.5", "1e3", "0x10", "2147483648", "9".repeat(40), "-0", "true", "__proto__", "constructor",
  "2024-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "9999-12-31T23:59:59-23:59",
  "a@b", "ADMIN", "PUBLISHED", "*", 'W/"1"', '"1"', '"99999999999"',
];
const hostileString = fc.constantFrom(...HOSTILE_STRINGS);
const hostileNumber = fc.constantFrom<unknown>(
  0, -1, -2147483648, 2147483647, 2147483648, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 1.5, 1e-7, -0,
  new RawJson("1e400"), new RawJson("-1e400"), new RawJson("123456789012345678901234567890"), new RawJson("1.0"),
);
const deepValue = (depth: number) => new RawJson(`${"[".repeat(depth)}1${"]".repeat(depth)}`);
const protoObject = fc.constantFrom<unknown>(
  JSON.parse('{"__proto__":{"polluted":true}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
  JSON.parse('{"__proto__":null,"toString":"x","hasOwnProperty":1,"valueOf":{}}'),
);
const hostile = (deepest: number): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { a: 1 }, [1, "1", [1]]) },
  { weight: 1, arbitrary: fc.constantFrom(deepValue(40), deepValue(deepest)) },
  { weight: 1, arbitrary: protoObject },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
);
/** In bodies: nesting deep enough to overflow any recursive walker. */
const hostileValue = hostile(10_000);
/** In URLs, which Node caps at 16 KiB of headers. */
const hostileUrlValue = hostile(100);

// ---------------------------------------------------------------- schema arbitraries

/** Ids and slugs of real rows, so that generated requests also reach them. */
const known: Fixtures = { ids: [], image: new Uint8Array(), slugs: [], tokens: [], etags: [] };

/** What the schema describes; with `hostile`, hostile values and extra keys at every level below. */
function baseFromSchema(raw: Schema | undefined, depth: number, hostile = false): fc.Arbitrary<unknown> {
  const child = (c: Schema | undefined) => (hostile ? fromSchema(c, depth + 1) : baseFromSchema(c, depth + 1));
  const s = deref(raw ?? {});
  if (!s || depth > 6) return fc.constant(null);
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  if (s.allOf) {
    // Request schemas use allOf to add or narrow properties: merge them.
    const parts = s.allOf.map((p: Schema) => deref(p));
    const merged: Schema = { ...s, allOf: undefined };
    for (const p of parts) {
      merged.type ??= p.type;
      merged.properties = { ...merged.properties, ...p.properties };
      merged.required = [...(merged.required ?? []), ...(p.required ?? [])];
      for (const k of ["enum", "const", "pattern", "format", "minimum", "maximum", "minLength", "maxLength", "items"]) {
        if (k in p) merged[k] ??= p[k];
      }
    }
    delete merged.allOf;
    return baseFromSchema(merged, depth, hostile);
  }
  const alts = s.oneOf ?? s.anyOf;
  if (alts) return fc.oneof(...alts.map((a: Schema) => child(a)));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ["object"] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => baseFromSchema({ ...s, type }, depth, hostile)));
  switch (types[0]) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer": {
      const range = fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 50, 2 ** 31 - 1) });
      return known.ids.length ? fc.oneof(range, fc.constantFrom(...known.ids)) : range;
    }
    case "number":
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case "string": {
      if (s.format === "date-time") {
        return fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
      }
      if (s.format === "email") return fc.emailAddress();
      if (s.format === "uri") return fc.webUrl();
      if (s.format === "binary") return fc.uint8Array({ maxLength: 64 });
      if (s.pattern) {
        const re = new RegExp(s.pattern);
        const real = known.slugs.filter((x) => re.test(x));
        return real.length ? fc.oneof(fc.stringMatching(re), fc.constantFrom(...real)) : fc.stringMatching(re);
      }
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
    }
    case "array":
      return fc.array(child(s.items), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) });
    case "object": {
      const props = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, child(v as Schema)]));
      const required = (s.required ?? []).filter((k: string) => k in props);
      if (!hostile) return fc.record(props, { requiredKeys: required });
      return fc.tuple(
        fc.record(props, { requiredKeys: required }),
        // Now and then an undocumented or dangerous extra key.
        fc.option(fc.tuple(fc.constantFrom("__proto__", "constructor", "prototype", "extra", "a\u0000", "\ud800"), hostileValue), { freq: 6 }),
      ).map(([obj, extra]) => {
        if (!extra) return obj;
        const out: Record<string, unknown> = { ...obj };
        Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, configurable: true, writable: true });
        return out;
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Mostly what the schema describes, sometimes hostile, at every level. */
function fromSchema(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: baseFromSchema(s, depth, true) }, { weight: 1, arbitrary: hostileValue });
}

// A valid request with one bad value slips past type checks to the code
// behind them: that is where NUL, surrogates and out-of-range numbers did harm.
const STRING_INJECTIONS = ["\u0000", "\ud800", "\udfff", "💥", "x".repeat(1000), "' OR 1=1 --", "\u202e"];
const NUMBER_INJECTIONS = [2147483648, -1, 0, 1e308, 1.5, 2 ** 53];

/** `value` with one string or number leaf spoiled (a copy; "__proto__" keys kept as own keys). */
function spoil(value: unknown, pick: number, cut: number, inj: number): unknown {
  const leaves: { parent: any; key: string | number; v: string | number }[] = [];
  const visit = (v: any, parent: any, key: string | number) => {
    if (typeof v === "string" || typeof v === "number") leaves.push({ parent, key, v });
    else if (v && typeof v === "object" && !(v instanceof RawJson) && !(v instanceof Uint8Array)) {
      for (const k of Object.keys(v)) visit(v[k], v, Array.isArray(v) ? Number(k) : k);
    }
  };
  const root = { v: structuredCopy(value) };
  visit(root.v, root, "v");
  if (!leaves.length) return value;
  const leaf = leaves[pick % leaves.length];
  const spoilt = typeof leaf.v === "string"
    ? leaf.v.slice(0, cut % (leaf.v.length + 1)) + STRING_INJECTIONS[inj % STRING_INJECTIONS.length] + leaf.v.slice(cut % (leaf.v.length + 1))
    : NUMBER_INJECTIONS[inj % NUMBER_INJECTIONS.length];
  Object.defineProperty(leaf.parent, leaf.key, { value: spoilt, enumerable: true, configurable: true, writable: true });
  return root.v;
}

function structuredCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structuredCopy);
  if (v && typeof v === "object" && !(v instanceof RawJson) && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(out, k, { value: structuredCopy((v as Record<string, unknown>)[k]), enumerable: true, configurable: true, writable: true });
    }
    return out;
  }
  return v;
}

/** Valid by the schema (only documented keys) but for one spoilt leaf. */
function spoiltFromSchema(s: Schema | undefined): fc.Arbitrary<unknown> {
  return fc.tuple(baseFromSchema(s, 0), fc.nat(), fc.nat(), fc.nat()).map(([v, pick, cut, inj]) => spoil(v, pick, cut, inj));
}

// ---------------------------------------------------------------- requests

interface Param {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  method: string;
  template: string;
  params: Param[];
  body?: { type: string; schema: Schema; required: boolean };
}

const operations: Operation[] = [];
for (const [template, item] of Object.entries<any>(spec.paths)) {
  for (const method of ["get", "post", "put", "patch", "delete"]) {
    const op = item[method];
    if (!op) continue;
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: any) => deref<Param>(p));
    const content = op.requestBody?.content ?? {};
    const type = Object.keys(content)[0];
    operations.push({
      method: method.toUpperCase(),
      template,
      params,
      body: type ? { type, schema: content[type].schema, required: Boolean(op.requestBody.required) } : undefined,
    });
  }
}

/** Percent-encodings no decoder accepts, and encoded NUL and dot segments. */
const BAD_ENCODINGS = ["%ff", "%E0%A4%A", "%ED%A0%80", "%C0%AF", "%", "%zz", "%00", "a%00b", "%2e%2e", "%2F", "..", "%20"];

function encode(v: unknown): string {
  const s = typeof v === "string" ? v : v instanceof RawJson ? v.text : v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : toJson(v);
  // A lone surrogate has no UTF-8 form: send its CESU bytes, as a broken client would.
  return s.isWellFormed() ? encodeURIComponent(s) : "%ED%A0%80";
}

/** Header values Node's client accepts (no control characters, Latin-1 only). */
function headerValue(v: unknown): string {
  const s = typeof v === "string" ? v : toJson(v);
  return s.replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
}

interface Fixtures {
  ids: number[];
  /** A small valid PNG. */
  image: Uint8Array;
  slugs: string[];
  tokens: string[];
  etags: string[];
}

interface Request {
  path: string;
  headers: Record<string, string>;
  raw?: { data: string | Buffer; type: string };
}

function requestArbitrary(op: Operation, fx: Fixtures): fc.Arbitrary<Request> {
  const pathParams = op.params.filter((p) => p.in === "path");
  const queryParams = op.params.filter((p) => p.in === "query");
  const headerParams = op.params.filter((p) => p.in === "header");

  const pathValue = (p: Param): fc.Arbitrary<string> => {
    const known = /id$/i.test(p.name) || p.name === "rev" ? fx.ids.map(String) : p.name === "token" ? fx.tokens : fx.slugs;
    // An empty segment would address another route (/articles/ is the list).
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...known).map(encode) },
      { weight: 3, arbitrary: baseFromSchema(p.schema, 0).map(encode) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...known), fc.nat(), fc.nat()).map(([v, cut, inj]) => encode(spoil(v, 0, cut, inj))) },
      { weight: 2, arbitrary: hostileUrlValue.map(encode) },
      { weight: 1, arbitrary: fc.constantFrom(...BAD_ENCODINGS) },
    ).map((segment) => segment || "%20");
  };
  const queryPart = (p: Param): fc.Arbitrary<string | null> =>
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: baseFromSchema(p.schema, 0).map((v) => `${p.name}=${encode(v)}`) },
        { weight: 2, arbitrary: spoiltFromSchema(p.schema).map((v) => `${p.name}=${encode(v)}`) },
        { weight: 2, arbitrary: hostileUrlValue.map((v) => `${p.name}=${encode(v)}`) },
        // Repeated keys arrive as arrays.
        { weight: 1, arbitrary: fc.tuple(baseFromSchema(p.schema, 0), hostileUrlValue).map(([a, b]) => `${p.name}=${encode(a)}&${p.name}=${encode(b)}`) },
        { weight: 1, arbitrary: fc.constantFrom(...BAD_ENCODINGS).map((bad) => `${p.name}=${bad}`) },
      ),
      { freq: 2 },
    );
  const extraQuery = fc.option(fc.constantFrom("limit=100000000000000000000", "cursor=%ff", "__proto__=1", "x%00=1", "a[b]=1", "=", "&&"), { freq: 5 });
  const headers = fc.tuple(
    ...headerParams.map((p) =>
      fc.option(fc.oneof(fc.constantFrom(...fx.etags, "*"), baseFromSchema(p.schema, 0), hostileUrlValue).map((v) => [p.name, headerValue(v)] as const), { freq: 3 }),
    ),
  );
  const body: fc.Arbitrary<Request["raw"] | undefined> = !op.body
    ? fc.constant(undefined)
    : op.body.type === "multipart/form-data"
      ? fc.tuple(
          fc.oneof(baseFromSchema(op.body.schema, 0), fromSchema(op.body.schema), spoiltFromSchema(op.body.schema)),
          fc.oneof(fc.constant(fx.image), fc.uint8Array({ minLength: 0, maxLength: 64 })),
        ).map(([fields, bytes]) => multipart(fields, bytes))
      : fc.oneof(
          { weight: 3, arbitrary: baseFromSchema(op.body.schema, 0).map((v) => ({ data: toJson(v), type: "application/json" })) },
          { weight: 4, arbitrary: fromSchema(op.body.schema).map((v) => ({ data: toJson(v), type: "application/json" })) },
          { weight: 5, arbitrary: spoiltFromSchema(op.body.schema).map((v) => ({ data: toJson(v), type: "application/json" })) },
          { weight: 1, arbitrary: fc.constantFrom('{"a":1,"a":2}', "[]", "null", '"\\u0000"', "{", "", '{"x":"\\ud800"}').map((data) => ({ data, type: "application/json" })) },
          { weight: 1, arbitrary: fc.constant({ data: "a=1", type: "text/plain" }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        );

  return fc
    .tuple(fc.tuple(...pathParams.map(pathValue)), fc.tuple(...queryParams.map(queryPart)), extraQuery, headers, body)
    .map(([pathValues, queryParts, extra, hdrs, raw]) => {
      let i = 0;
      const p = op.template.replace(/\{[^}]+\}/g, () => pathValues[i++]);
      const query = [...queryParts, extra].filter((q): q is string => q !== null);
      return {
        path: query.length ? `${p}?${query.join("&")}` : p,
        headers: Object.fromEntries(hdrs.filter((h) => h !== null)),
        raw,
      };
    });
}

/** A multipart body whose text fields are whatever was generated, plus a file part. */
function multipart(fields: unknown, bytes: Uint8Array): { data: Buffer; type: string } {
  const boundary = "----fuzz7e3";
  const parts: Buffer[] = [];
  const entries = fields && typeof fields === "object" && !Array.isArray(fields) ? Object.entries(fields as Record<string, unknown>) : [["caption", fields]];
  for (const [name, value] of entries) {
    if (name === "file") continue;
    const text = typeof value === "string" ? value : toJson(value);
    // Field names travel in a header: keep them printable.
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${headerValue(name).replace(/"/g, "")}"\r\n\r\n${text.toWellFormed()}\r\n`, "utf8"));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.png"\r\nContent-Type: image/png\r\n\r\n`));
  parts.push(Buffer.from(bytes), Buffer.from(`\r\n--${boundary}--\r\n`));
  return { data: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

// ---------------------------------------------------------------- the run

// Reads first, then writes, then deletes: fixtures survive as long as possible.
const ORDER: Record<string, number> = { GET: 0, POST: 1, PUT: 1, PATCH: 1, DELETE: 2 };
const ordered = [...operations].sort((a, b) => ORDER[a.method] - ORDER[b.method]);

describe("fuzzing every operation in openapi.yaml", () => {
  let t: TestApp;
  let fx: Fixtures;

  before(async () => {
    t = await startTestApp();
    await makeSection(t, "news");
    const a = await makeArticle(t, { headline: "Fuzz target", section: "news", tags: ["fuzz"] });
    await publish(t, a.id);
    const draft = await makeArticle(t, { headline: "Fuzz draft", section: "news" });
    const comment = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "First!" });
    assert.equal(comment.status, 202);
    const collection = await t.post("/api/v1/admin/collections", { slug: "picks", name: "Picks" }, { token: t.admin.token });
    assert.equal(collection.status, 201);
    const preview = await t.post(`/api/v1/admin/articles/${draft.id}/preview`, {}, { token: t.admin.token });
    assert.equal(preview.status, 201);
    const image = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#c00" } }).png().toBuffer();
    const media = await t.call("POST", "/api/v1/admin/media", { token: t.writer.token, raw: multipart({ caption: "Red" }, image) });
    assert.equal(media.status, 201, media.text);
    fx = Object.assign(known, {
      ids: [...new Set([a.id, draft.id, comment.body.id, collection.body.id, media.body.id, t.editor.id, t.writer.id, 1, 2])],
      image,
      slugs: [a.slug, draft.slug, "news", "picks", "fuzz"],
      tokens: [preview.body.token],
      etags: ['"1"', '"2"'],
    });
  });
  after(() => t?.close());

  it("covers every documented operation", () => {
    assert.equal(ordered.length, new Set(ordered.map((o) => `${o.method} ${o.template}`)).size);
    assert.ok(ordered.length >= 70, `only ${ordered.length} operations found`);
  });

  for (const who of ["anonymous", "ADMIN"] as const) {
    for (const op of ordered) {
      it(`${op.method} ${op.template} as ${who}`, async () => {
        await fc.assert(
          fc.asyncProperty(requestArbitrary(op, fx), async (req) => {
            const headers = { ...req.headers };
            // The ADMIN must stay signed in for the rest of the run: never deactivate or demote it here.
            if (who === "ADMIN" && op.template === "/api/v1/admin/editors/{id}" && req.path.split("?")[0].endsWith(`/${t.admin.id}`)) return;
            const res = await t.call(op.method, req.path, { token: who === "ADMIN" ? t.admin.token : undefined, headers, raw: req.raw });
            assert.ok(res.status < 500, `${op.method} ${req.path} -> ${res.status}: ${res.text.slice(0, 500)}`);
          }),
          { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
        );
      });
    }
  }

  it("left no trace on Object.prototype, and the ADMIN stayed signed in throughout", async () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(Object.prototype), []);
    assert.equal((await t.get("/api/v1/admin/me", { token: t.admin.token })).status, 200);
  });
});

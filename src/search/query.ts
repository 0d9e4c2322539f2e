// What the public search and the editor API's ?q= share: parsing the query
// text, the tsquery and ranking SQL, the opaque cursors, and turning
// ts_headline's output into safe HTML.
//
// Query syntax: websearch_to_tsquery's (never a syntax error, whatever the
// input): words are ANDed, "quoted phrases" match in order, -word excludes,
// OR between words. The last word, when it is a bare word still being typed
// (letters, digits and marks only; not in an open quote, not after a minus,
// and the text does not end in a space), also matches as a prefix
// (search-as-you-type): "harbour bri" finds "harbour bridge". The prefix is
// stemmed like any word, so a prefix that cuts into a stem ("floodi") finds
// only what its stem does ("flood...") once the word is complete.
import { z } from "zod";
import { Prisma } from "../generated/prisma/client.ts";
import { badRequest } from "../http/errors.ts";
import { bodyIdSchema, isoDateTimeSchema } from "../http/validate.ts";

/** Longest query text accepted (characters after trimming); longer is a 400. */
export const MAX_QUERY_CHARS = 500;

/**
 * The newest WINDOW matches of a search are counted (`meta.total`) and, for
 * sort=relevance, ranked; `totalIsEstimate` says the window was full (there
 * may be more). Ranking reads each candidate's whole tsvector and counting
 * walks the newest published rows testing each, so both cost in proportion
 * to the window, never to the archive: on the benchmark's 100,000 articles a
 * window of 1,000 counted and 500 ranked was two thirds of a search's
 * database time. Within the window the ranking is exact.
 */
export const WINDOW = 200;

/** ts_rank_cd weights, in the order {D, C, B, A}: headline 1.0, summary 0.4, body 0.2, dateline/byline/tags 0.1. */
const WEIGHTS = "{0.1, 0.2, 0.4, 1.0}";
/** ts_rank_cd normalization 1: rank / (1 + log(document length)), so long bodies do not win by length alone. */
const NORMALIZATION = 1;

/**
 * The query text: 1 to MAX_QUERY_CHARS characters once trimmed. Kept as sent:
 * a trailing space says the last word is finished (parseSearch).
 */
export const queryTextSchema = z
  .string()
  .refine((v) => v.trim().length > 0, "Must not be empty.")
  .refine((v) => v.trim().length <= MAX_QUERY_CHARS, `At most ${MAX_QUERY_CHARS} characters.`);

export interface ParsedSearch {
  /** The whole text, for websearch_to_tsquery. */
  text: string;
  /** The last word, matched whole or as a prefix; null when there is none. */
  last: string | null;
}

const BARE_WORD = /^[\p{L}\p{M}\p{N}]+$/u;

/** The text and its last bare word (see the header). */
export function parseSearch(raw: string): ParsedSearch {
  const text = raw.trim();
  // A finished word ("harbour ") is not a prefix.
  if (!text || /\s$/u.test(raw)) return { text, last: null };
  const m = /(?:^|\s)(\S+)$/u.exec(text);
  if (!m) return { text, last: null };
  const word = m[1];
  const quotesBefore = (text.slice(0, text.length - word.length).match(/"/g) ?? []).length;
  if (!BARE_WORD.test(word) || quotesBefore % 2 === 1 || word.toLowerCase() === "or") return { text, last: null };
  return { text, last: word };
}

/** pg_ts_config names are identifiers; anything else never reaches the SQL text. */
const CONFIG_NAME = /^[a-z_]{1,63}$/;

/** `'english'::regconfig` as a literal, so the planner sees the tsquery as a constant (statistics, one evaluation). */
export function configLiteral(config: string): Prisma.Sql {
  if (!CONFIG_NAME.test(config)) throw new Error(`invalid text search configuration ${config}`);
  return Prisma.raw(`'${config}'::regconfig`);
}

/**
 * The tsquery of `p` under `config`: websearch_to_tsquery of the whole text,
 * in which ts_rewrite replaces the last word's lexeme by "it or any word it
 * begins" (so OR, phrases and negations around it keep their meaning). Only
 * letters, digits and marks reach to_tsquery: no operator, no syntax error.
 */
export function tsquery(config: string, p: ParsedSearch): Prisma.Sql {
  const c = configLiteral(config);
  const all = Prisma.sql`websearch_to_tsquery(${c}, ${p.text})`;
  if (!p.last) return all;
  const word = Prisma.sql`websearch_to_tsquery(${c}, ${p.last})`;
  return Prisma.sql`ts_rewrite(${all}, ${word}, ${word} || to_tsquery(${c}, ${`${p.last}:*`}))`;
}

/** Matches the row `s` of "ArticleSearch" under its own configuration, one of `configs`. */
export function matchSql(configs: string[], p: ParsedSearch, s = "s"): Prisma.Sql {
  const alias = Prisma.raw(s);
  return Prisma.sql`(${Prisma.join(
    configs.map((c) => Prisma.sql`(${alias}.config = ${c} AND ${alias}.document @@ ${tsquery(c, p)})`),
    " OR ",
  )})`;
}

/** Ranks are compared and carried in cursors as integers: millionths (exact, unlike floats through drivers). */
export const RANK_SCALE = 1_000_000;

/** The rank of the row `s`, in millionths (int4). */
export function rankSql(configs: string[], p: ParsedSearch, s = "s"): Prisma.Sql {
  const alias = Prisma.raw(s);
  const one = (c: string) => Prisma.sql`ts_rank_cd(${Prisma.raw(`'${WEIGHTS}'`)}::float4[], ${alias}.document, ${tsquery(c, p)}, ${Prisma.raw(String(NORMALIZATION))})`;
  const rank = configs.length === 1
    ? one(configs[0])
    : Prisma.sql`CASE ${alias}.config ${Prisma.join(configs.map((c) => Prisma.sql`WHEN ${c} THEN ${one(c)}`), " ")} END`;
  return Prisma.sql`round(${rank} * ${Prisma.raw(String(RANK_SCALE))})::int`;
}

// Markers ts_headline puts around matches: private-use characters, removed
// from the text first, so every marker in its output is one it put there.
const OPEN = "\uE000";
const CLOSE = "\uE001";
const HEADLINE_OPTIONS = `StartSel=${OPEN}, StopSel=${CLOSE}, MaxFragments=2, MaxWords=30, MinWords=12, ShortWord=3, FragmentDelimiter=" … "`;
/**
 * Characters of the body's opening kept for snippets ("snippetSource" in the
 * search row, cut back to a whole word). ts_headline parses all the text it
 * is given (about 0.2 ms per 1,000 characters on the benchmark machine), for
 * each hit on the page, so the snippet source is kept short: a match further
 * into the body is found, but not shown; the snippet then shows the body's
 * opening, where news puts what matters (600 characters: the lede, about a
 * hundred words). Migrations 20261128010000_search_snippet_source (1,200) and
 * 20261128140000_search_snippet_source_600 filled existing rows by this rule.
 */
export const SNIPPET_SOURCE_CHARS = 600;

/** The snippet source of the body text `body` (SQL): its first SNIPPET_SOURCE_CHARS characters, a whole word, no marker characters. */
export function snippetSourceSql(body: Prisma.Sql): Prisma.Sql {
  const n = Prisma.raw(String(SNIPPET_SOURCE_CHARS));
  return Prisma.sql`translate(CASE WHEN length(${body}) > ${n} THEN regexp_replace(left(${body}, ${n}), '\\s+\\S*$', '') ELSE ${body} END, ${OPEN + CLOSE}, '')`;
}

/** The snippet of the row `s` (of "ArticleSearch": its configuration and snippet source), with markers. */
export function headlineSql(configs: string[], p: ParsedSearch, s = "s"): Prisma.Sql {
  const alias = Prisma.raw(s);
  const source = Prisma.sql`${alias}."snippetSource"`;
  const one = (c: string) => Prisma.sql`ts_headline(${configLiteral(c)}, ${source}, ${tsquery(c, p)}, ${HEADLINE_OPTIONS})`;
  if (configs.length === 1) return one(configs[0]);
  return Prisma.sql`(CASE ${alias}.config ${Prisma.join(configs.map((c) => Prisma.sql`WHEN ${c} THEN ${one(c)}`), " ")} END)`;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * ts_headline's output as HTML: the text escaped, each marked match in
 * <mark>…</mark> (balanced, never nested). No other element can appear.
 */
export function snippetHtml(raw: string | null): string {
  if (!raw) return "";
  let out = "";
  let open = false;
  for (const ch of raw) {
    if (ch === OPEN) {
      if (!open) out += "<mark>";
      open = true;
    } else if (ch === CLOSE) {
      if (open) out += "</mark>";
      open = false;
    } else {
      out += ESCAPES[ch] ?? ch;
    }
  }
  return open ? `${out}</mark>` : out;
}

// ---- cursors ----

export type SearchCursor = { s: "r"; r: number; id: number } | { s: "n"; t: string; id: number };

const cursorSchema = z.discriminatedUnion("s", [
  z.object({ s: z.literal("r"), r: z.number().int().min(0).max(2147483647), id: bodyIdSchema }),
  z.object({ s: z.literal("n"), t: isoDateTimeSchema, id: bodyIdSchema }),
]);

export function encodeSearchCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

const invalidCursor = () => badRequest("The request is invalid.", [{ path: "query.cursor", message: "Invalid cursor." }]);

/** A cursor of this sort order, or a 400. */
export function decodeSearchCursor<S extends SearchCursor["s"]>(raw: string | undefined, sort: S): Extract<SearchCursor, { s: S }> | undefined {
  if (raw === undefined) return undefined;
  let parsed: SearchCursor;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
  } catch {
    throw invalidCursor();
  }
  if (parsed.s !== sort) throw invalidCursor();
  return parsed as Extract<SearchCursor, { s: S }>;
}

// Article bodies are stored as sanitized HTML (allow-list): anything not
// listed here, including scripts, event handlers and javascript: URLs, is
// removed before it reaches the database.
//
// sanitize-html (and htmlparser2 under it) costs time proportional to the
// input size times the element nesting depth, so a body of a few hundred KB
// of unclosed inline tags took seconds to tens of seconds. Callers outside
// trusted seed code go through sanitize-pool.ts, which checks
// structureProblem first and runs both in a worker thread with a time limit.
import { Parser } from "htmlparser2";
import sanitizeHtml from "sanitize-html";

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "blockquote", "q", "cite", "code", "pre", "ul", "ol", "li", "a", "figure", "figcaption", "img",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "span", "abbr", "time",
  ],
  allowedAttributes: {
    a: ["href", "title", "rel", "target"],
    img: ["src", "alt", "title", "width", "height"],
    abbr: ["title"],
    time: ["datetime"],
    th: ["colspan", "rowspan", "scope"],
    td: ["colspan", "rowspan"],
  },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: { img: ["http", "https"] },
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  transformTags: {
    // Links that open a new window must not hand it window.opener.
    a: (tagName, attribs) =>
      attribs.target === "_blank"
        ? { tagName, attribs: { ...attribs, rel: "noopener noreferrer" } }
        : { tagName, attribs },
  },
};

export interface StructureLimits {
  maxDepth: number;
  maxElements: number;
}

/**
 * Why a body is refused before it is sanitized, or undefined. One pass of the
 * parser sanitize-html uses, with its options, so depth is counted as the
 * sanitizer would see it (implied closes included); it stops at the first
 * element past a limit, which keeps the parser's own stack, and so this pass,
 * linear.
 */
export function structureProblem(html: string, limits: StructureLimits): string | undefined {
  let depth = 0;
  let elements = 0;
  let problem: string | undefined;
  const parser = new Parser(
    {
      onopentagname() {
        depth += 1;
        elements += 1;
        if (depth > limits.maxDepth) problem = `Elements may be nested at most ${limits.maxDepth} deep.`;
        else if (elements > limits.maxElements) problem = `At most ${limits.maxElements} elements are allowed.`;
        if (problem) parser.pause();
      },
      onclosetag() {
        depth -= 1;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  if (!problem) parser.end();
  return problem;
}

export function sanitizeBody(html: string): string {
  return sanitizeHtml(html, OPTIONS).trim();
}

const BLOCK_END = /<\/(p|h[1-6]|li|blockquote|figcaption|tr|pre)>|<br\s*\/?>/gi;

/** Plain text of a sanitized body: paragraphs separated by blank lines. */
export function plainText(html: string): string {
  const withBreaks = html.replace(BLOCK_END, (m) => `${m}\n\n`);
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {} });
  return decodeEntities(text)
    .split(/\n{2,}/)
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .join("\n\n");
}

function decodeEntities(s: string): string {
  return s
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, "&");
}

export function slugify(text: string, max = 80): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max)
    .replace(/-+$/g, "");
  return s;
}

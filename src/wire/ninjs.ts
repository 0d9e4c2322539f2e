// IPTC ninjs (News in JSON): reading an agency's item (1.x, 2.x and 3.x
// spellings: 2.x writes `versioncreated`, 3.x `versionCreated`; 1.x has a
// single `headline` and `body_html`) into what an article needs, and writing a
// published article as a ninjs 3.1 item for partners.
// Unknown properties are allowed in: the raw item is kept as received (src/wire/ingest.ts).
import { z } from "zod";
import { languageSchema } from "../i18n/schema.ts";
import { slugify } from "../articles/sanitize.ts";
import type { RenderedArticle } from "../delivery/render.ts";

const text = (max: number) => z.string().max(max);
const dateTime = z.iso.datetime({ offset: true, local: false });

/** A headline, body or description: 2.x `contenttype`, 3.x `contentType`. */
const part = z.looseObject({
  role: text(200).optional(),
  contentType: text(200).optional(),
  contenttype: text(200).optional(),
  value: z.string(),
});
// Names of people, subjects, sources: only `name` is read; everything else stays in the raw copy.
const named = z.looseObject({ name: text(500).optional(), role: text(200).optional(), by: text(500).optional() });

/** The properties Dateline reads, in every spelling it accepts; anything else passes through. */
export const ninjsItemSchema = z.looseObject({
  uri: z.string().trim().min(1).max(1000),
  version: z.union([text(100), z.number().int().nonnegative()]).optional(),
  type: text(50).optional(),
  firstcreated: dateTime.optional(),
  firstCreated: dateTime.optional(),
  versioncreated: dateTime.optional(),
  versionCreated: dateTime.optional(),
  embargoed: dateTime.optional(),
  embargoedUntil: dateTime.optional(),
  pubstatus: z.enum(["usable", "withheld", "canceled"]).optional(),
  pubStatus: z.enum(["usable", "withheld", "canceled"]).optional(),
  headline: text(2000).optional(),
  headlines: z.array(part).max(50).optional(),
  body_html: z.string().optional(),
  body_text: z.string().optional(),
  bodies: z.array(part).max(50).optional(),
  description_text: text(10_000).optional(),
  description_html: text(10_000).optional(),
  descriptions: z.array(part).max(50).optional(),
  located: z.union([text(500), named]).optional(),
  by: text(500).optional(),
  byline: text(500).optional(),
  bylines: z.array(named).max(50).optional(),
  copyrightholder: text(500).optional(),
  copyrightHolder: text(500).optional(),
  source: text(500).optional(),
  provider: z.union([text(500), named]).optional(),
  infoSources: z.array(named).max(50).optional(),
  language: text(35).optional(),
  subject: z.array(named).max(200).optional(),
  subjects: z.array(named).max(200).optional(),
  associations: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
});

export type NinjsItem = z.infer<typeof ninjsItemSchema>;

/** What an article is made of, read from an item. Text lengths are checked by the caller (field paths). */
export interface WireContent {
  uri: string;
  version: string | null;
  firstCreated: Date | null;
  versionCreated: Date | null;
  embargoedUntil: Date | null;
  pubStatus: "usable" | "withheld" | "canceled";
  headline: string | null;
  /** Which property the headline came from, for error paths. */
  headlinePath: string;
  summary: string;
  /** HTML, still to be sanitized like any article body. */
  body: string;
  bodyPath: string;
  dateline: string | null;
  byline: string | null;
  source: string | null;
  language: string | null;
  /** From the subjects: slug, and the agency's name for a tag not known yet. */
  tags: { slug: string; name: string }[];
  /** Pictures named in `associations` (not fetched: kept in the raw copy, listed in the answer). */
  pictures: { name: string; uri: string | null; headline: string | null }[];
}

const clean = (s: string | undefined | null) => {
  const t = s?.replace(/\s+/g, " ").trim();
  return t ? t : null;
};
const ctypeOf = (p: z.infer<typeof part>) => (p.contentType ?? p.contenttype ?? "").toLowerCase();
const isHtml = (p: z.infer<typeof part>) =>
  /html/.test(ctypeOf(p)) || (!ctypeOf(p) && /^(html|richtext|body_html|body_xhtml)$/i.test(p.role ?? ""));

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Plain text as paragraphs: a blank line (or, without any, a line break) separates them. */
export function textToHtml(t: string): string {
  const blocks = /\n\s*\n/.test(t) ? t.split(/\n\s*\n/) : t.split(/\n/);
  return blocks.map((b) => b.trim()).filter(Boolean).map((b) => `<p>${escapeHtml(b).replace(/\n/g, "<br>")}</p>`).join("");
}

/** The main one of several headlines or bodies: role `main` first, else the first. */
function pick<T extends z.infer<typeof part>>(list: T[], prefer: (p: T) => boolean): { p: T; i: number } | undefined {
  const ranked = list.map((p, i) => ({ p, i }));
  return ranked.find((x) => prefer(x.p) && (x.p.role ?? "main") === "main")
    ?? ranked.find((x) => prefer(x.p))
    ?? ranked.find((x) => (x.p.role ?? "main") === "main")
    ?? ranked[0];
}

const nameOf = (v: string | z.infer<typeof named> | undefined) => (typeof v === "string" ? clean(v) : clean(v?.name));

export function readItem(item: NinjsItem): WireContent {
  let headline = clean(item.headline);
  let headlinePath = "body.headline";
  if (item.headlines?.length) {
    const h = pick(item.headlines, () => true)!;
    headline = clean(h.p.value);
    headlinePath = `body.headlines.${h.i}.value`;
  }

  let body = "";
  let bodyPath = "body.body_html";
  if (item.bodies?.length) {
    // Markup when the agency sends it, else the plain text as paragraphs.
    const b = pick(item.bodies, isHtml)!;
    body = isHtml(b.p) ? b.p.value : textToHtml(b.p.value);
    bodyPath = `body.bodies.${b.i}.value`;
  } else if (item.body_html !== undefined) {
    body = item.body_html;
  } else if (item.body_text !== undefined) {
    body = textToHtml(item.body_text);
    bodyPath = "body.body_text";
  }

  let summary = clean(item.description_text) ?? "";
  if (!summary && item.description_html) summary = clean(item.description_html.replace(/<[^>]*>/g, " ")) ?? "";
  const d = item.descriptions?.find((x) => /summary|abstract|teaser|main/i.test(x.role ?? "main")) ?? item.descriptions?.[0];
  if (d) summary = clean(/html/.test(ctypeOf(d)) ? d.value.replace(/<[^>]*>/g, " ") : d.value) ?? "";

  const byline = clean(item.by) ?? clean(item.byline)
    ?? clean((item.bylines ?? []).map((b) => b.by ?? b.name ?? "").filter(Boolean).join(", "));

  // The agency: who holds the copyright, else who supplied it.
  const supplier = (item.infoSources ?? []).find((s) => /provider|source|originat|distribut|supplier/i.test(s.role ?? ""))
    ?? item.infoSources?.[0];
  const source = clean(item.copyrightHolder) ?? clean(item.copyrightholder) ?? nameOf(item.provider)
    ?? clean(item.source) ?? clean(supplier?.name);

  // An unreadable language tag is kept in the raw copy, not refused: the section's language applies.
  const lang = item.language === undefined ? undefined : languageSchema.safeParse(item.language);
  const language = lang?.success ? lang.data : null;

  const tags = new Map<string, string>();
  for (const s of [...(item.subjects ?? []), ...(item.subject ?? [])]) {
    const name = clean(s.name);
    const slug = name ? slugify(name, 120) : "";
    if (slug && !tags.has(slug) && tags.size < 30) tags.set(slug, name!.slice(0, 200));
  }

  const pictures: WireContent["pictures"] = [];
  const assoc = item.associations;
  const entries: [string, unknown][] = Array.isArray(assoc)
    ? assoc.map((a, i) => [String((a as { name?: unknown })?.name ?? i), a])
    : Object.entries(assoc ?? {});
  for (const [name, a] of entries) {
    if (!a || typeof a !== "object") continue;
    const o = a as Record<string, unknown>;
    if (o.type !== undefined && o.type !== "picture" && o.type !== "graphic") continue;
    const hl = typeof o.headline === "string" ? o.headline
      : Array.isArray(o.headlines) && typeof (o.headlines[0] as { value?: unknown })?.value === "string"
        ? (o.headlines[0] as { value: string }).value : null;
    pictures.push({ name, uri: typeof o.uri === "string" ? o.uri : null, headline: hl });
  }

  const date = (s: string | undefined) => (s ? new Date(s) : null);
  return {
    uri: item.uri,
    version: item.version === undefined ? null : String(item.version),
    firstCreated: date(item.firstCreated ?? item.firstcreated),
    versionCreated: date(item.versionCreated ?? item.versioncreated),
    embargoedUntil: date(item.embargoedUntil ?? item.embargoed),
    pubStatus: item.pubStatus ?? item.pubstatus ?? "usable",
    headline,
    headlinePath,
    summary,
    body,
    bodyPath,
    dateline: typeof item.located === "string" ? clean(item.located) : nameOf(item.located),
    byline,
    source,
    language,
    tags: [...tags].map(([slug, name]) => ({ slug, name })),
    pictures,
  };
}

/**
 * Whether `incoming` is older than what was last ingested for the same uri:
 * by version when both are whole numbers, else by versionCreated. Equal: 0.
 */
export function compareVersions(
  incoming: { version: string | null; versionCreated: Date | null },
  stored: { version: string | null; versionCreated: Date | null },
): number {
  const num = (v: string | null) => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined);
  const a = num(incoming.version);
  const b = num(stored.version);
  if (a !== undefined && b !== undefined && a !== b) return a - b;
  if (incoming.versionCreated && stored.versionCreated) {
    const d = incoming.versionCreated.getTime() - stored.versionCreated.getTime();
    if (d !== 0) return d;
  }
  if (a !== undefined && b !== undefined) return 0;
  return incoming.version === stored.version ? 0 : 1;
}

// ---- out: a published article as ninjs 3.1 ----

export const NINJS_SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#";

const absolute = (u: string | null | undefined) => (u && URL.canParse(u) && /^https?:/i.test(u) ? u : undefined);

/**
 * The public article as a ninjs 3.1 item. Its `uri` is Dateline's own (the
 * permalink): an edited copy is a news object of its own. The agency item it
 * came from, if any, is named in `altIds` (role `agency-uri`) with the
 * agency's version, and the agency is the copyright holder.
 */
export function toNinjs(a: RenderedArticle, wire: { uri: string; version: string | null } | null, publicationName: string) {
  const image = a.leadImage;
  const href = absolute(image?.url);
  const picture = image && href
    ? {
      name: "featureimage",
      rel: "featureimage",
      uri: href,
      type: "picture" as const,
      ...(image.caption ? { descriptions: [{ role: "caption", contentType: "text/plain", value: image.caption }] } : {}),
      ...(image.credit ? { by: image.credit } : {}),
      renditions: [{
        name: "original", href, contentType: image.mimeType,
        ...(image.width ? { width: image.width } : {}), ...(image.height ? { height: image.height } : {}),
      }],
    }
    : undefined;
  return {
    uri: a.links.canonical,
    standard: { name: "ninjs", version: "3.1", schema: NINJS_SCHEMA_URI },
    type: "text" as const,
    representationType: "full" as const,
    ...(a.publishedAt ? { firstCreated: a.publishedAt } : {}),
    versionCreated: a.updatedAt,
    pubStatus: "usable" as const,
    language: a.language,
    headlines: [{ role: "main", contentType: "text/plain", value: a.headline }],
    ...(a.summary ? { descriptions: [{ role: "summary", contentType: "text/plain", value: a.summary }] } : {}),
    bodies: [
      { role: "main", contentType: "text/html", value: a.body },
      { role: "text", contentType: "text/plain", value: a.bodyText },
    ],
    ...(a.byline ? { by: a.byline } : {}),
    ...(a.dateline ? { located: a.dateline } : {}),
    copyrightHolder: a.source ?? publicationName,
    infoSources: [
      { name: publicationName, role: "publisher" },
      ...(a.source ? [{ name: a.source, role: "source" }] : []),
    ],
    ...(a.tags.length ? { subjects: a.tags.map((t) => ({ name: t.name, literal: t.slug })) } : {}),
    ...(wire ? { altIds: [{ role: "agency-uri", value: wire.uri }, ...(wire.version ? [{ role: "agency-version", value: wire.version }] : [])] } : {}),
    ...(picture ? { associations: [picture] } : {}),
  };
}

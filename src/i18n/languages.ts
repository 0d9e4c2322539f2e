// Languages (BCP 47 tags) and what PostgreSQL's full-text search makes of
// them. Every article has an effective language: its own, else its
// section's, else the site's (SITE_LANGUAGE).

/**
 * A well-formed BCP 47 tag as newsrooms use them: a 2–3 letter language,
 * optional 4-letter script and 2-letter or 3-digit region, optional variants
 * (en, zh-Hans, pt-BR, es-419, sr-Latn-RS). Case is normalized by
 * normalizeLanguage.
 */
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?(-([A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*$/;

/** Canonical case: language lower, script title, region upper (zh-hans-cn -> zh-Hans-CN). */
export function normalizeLanguage(tag: string): string {
  return tag
    .split("-")
    .map((part, i) => {
      if (i === 0) return part.toLowerCase();
      if (/^[A-Za-z]{4}$/.test(part)) return part[0].toUpperCase() + part.slice(1).toLowerCase();
      if (/^[A-Za-z]{2}$/.test(part)) return part.toUpperCase();
      return part.toLowerCase();
    })
    .join("-");
}

/** The effective language of an article. */
export function effectiveLanguage(article: string | null | undefined, section: string | null | undefined, site: string): string {
  return article || section || site;
}

// PostgreSQL text search configurations present on both PostgreSQL 15+ and
// PGlite, by ISO 639-1 language.
const SEARCH_CONFIGS: Record<string, string> = {
  ar: "arabic", hy: "armenian", eu: "basque", ca: "catalan", da: "danish", nl: "dutch", en: "english",
  fi: "finnish", fr: "french", de: "german", el: "greek", hi: "hindi", hu: "hungarian", id: "indonesian",
  ga: "irish", it: "italian", lt: "lithuanian", ne: "nepali", nb: "norwegian", nn: "norwegian", no: "norwegian",
  pt: "portuguese", ro: "romanian", ru: "russian", sr: "serbian", es: "spanish", sv: "swedish", ta: "tamil",
  tr: "turkish", yi: "yiddish",
};

/**
 * The text search configuration (stemming, stop words) for a language tag;
 * `simple` (lower-casing only) where PostgreSQL has no dictionary (zh, ja...).
 */
export function searchConfigFor(tag: string): string {
  return SEARCH_CONFIGS[tag.split("-")[0].toLowerCase()] ?? "simple";
}

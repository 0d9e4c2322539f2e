// The one @dateline/client instance of the desk, and the session it keeps.
// The API hands out an access token (short-lived JWT) and an opaque refresh token
// (30 days, single use, rotated on every refresh) in the JSON body, no cookie: the
// desk keeps the pair in localStorage so a reload or a second tab stays signed in,
// and follows other tabs' refreshes through the `storage` event (a refresh token
// presented after it was rotated ends the whole session on the server).
import { createDatelineClient, DatelineProblem, toProblem, unwrap, type Schemas, type TokenPair } from "@dateline/client";

export type Article = Schemas["AdminArticle"];
export type Section = Schemas["AdminSection"];
export type Editor = Schemas["Editor"];
export type ArticleStatus = Schemas["ArticleStatus"];
export type ArticleKind = Schemas["ArticleKind"];
export type LockedBy = Schemas["LockedBy"];
export type DirectoryEntry = Schemas["EditorDirectory"]["data"][number];
export { DatelineProblem };

const STORAGE_KEY = "dateline.desk.session";

function loadTokens(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const t = JSON.parse(raw) as TokenPair;
    return typeof t?.accessToken === "string" && typeof t?.refreshToken === "string" ? t : null;
  } catch {
    return null;
  }
}

let fromOtherTab = false;
const listeners = new Set<(signedIn: boolean) => void>();

export const dateline = createDatelineClient({
  baseUrl: location.origin,
  tokens: loadTokens(),
  onTokens(tokens) {
    if (!fromOtherTab) {
      try {
        if (tokens) localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
        else localStorage.removeItem(STORAGE_KEY);
      } catch { /* private mode: the session lasts as long as the tab */ }
    }
    if (!tokens) dateline.clearCache();
    for (const l of listeners) l(tokens !== null);
  },
});

addEventListener("storage", (e) => {
  if (e.key !== STORAGE_KEY) return;
  fromOtherTab = true;
  try {
    dateline.setTokens(loadTokens());
  } finally {
    fromOtherTab = false;
  }
});

/** Told when the session starts or ends (here or in another tab). */
export function onSession(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** The data and ETag of a successful call; throws DatelineProblem otherwise. */
export async function withEtag<D extends { version?: number }>(p: Promise<Result<D>>): Promise<{ data: D; etag: string }> {
  const r = await p;
  if (r.error !== undefined || !r.response.ok || r.data === undefined) {
    throw toProblem(r.error, r.response);
  }
  const etag = r.response.headers.get("etag") ?? `"${r.data.version}"`;
  return { data: r.data, etag };
}

/** A short, human message for any error thrown by a call. */
export function describe(err: unknown): string {
  if (err instanceof DatelineProblem) {
    const fields = err.errors.map((e) => `${e.path.replace(/^body\./, "")}: ${e.message}`).join("; ");
    return `${err.detail ?? err.title}${fields ? ` (${fields})` : ""}`;
  }
  if (err instanceof TypeError) return "The server could not be reached. Check the connection and try again.";
  return err instanceof Error ? err.message : String(err);
}

export const STATUS_LABELS: Record<ArticleStatus, string> = {
  DRAFT: "Draft",
  IN_REVIEW: "In review",
  SCHEDULED: "Scheduled",
  PUBLISHED: "Published",
  ARCHIVED: "Archived",
  WITHDRAWN: "Withdrawn",
};

export const KIND_LABELS: Record<ArticleKind, string> = {
  STORY: "Story",
  ANALYSIS: "Analysis",
  OPINION: "Opinion",
  PHOTO_STORY: "Photo story",
  LIVE: "Live",
};

/** Sections as a tree, flattened in display order with their depth. */
export function sectionTree(sections: Section[]): { section: Section; depth: number }[] {
  const children = new Map<number | null, Section[]>();
  for (const s of sections) {
    const key = s.parent?.id ?? null;
    if (!children.has(key)) children.set(key, []);
    children.get(key)!.push(s);
  }
  for (const list of children.values()) list.sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
  const out: { section: Section; depth: number }[] = [];
  const seen = new Set<number>();
  const walk = (parent: number | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      out.push({ section: s, depth });
      walk(s.id, depth + 1);
    }
  };
  walk(null, 0);
  // Anything whose parent is not in the list still shows, at the top level.
  for (const s of sections) if (!seen.has(s.id)) out.push({ section: s, depth: 0 });
  return out;
}

let sectionsPromise: Promise<Section[]> | null = null;
export function loadSections(): Promise<Section[]> {
  sectionsPromise ??= dateline.api.GET("/api/v1/admin/sections").then((r) => {
    if (!r.data) { sectionsPromise = null; throw new Error("Could not load the sections."); }
    return r.data.data;
  });
  return sectionsPromise;
}
/** After a section is created, changed or deleted: the next loadSections() reads them again. */
export function forgetSections(): void {
  sectionsPromise = null;
}

let directory: Promise<DirectoryEntry[]> | null = null;
/** Every active desk editor (GET /admin/editor-directory, open to every role), read once per page load. */
export function loadDirectory(): Promise<DirectoryEntry[]> {
  directory ??= (async () => {
    const all: DirectoryEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/editor-directory", { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
      all.push(...page.data);
      cursor = page.meta.nextCursor ?? undefined;
    } while (cursor);
    return all.sort((a, b) => a.name.localeCompare(b.name));
  })().catch((err) => { directory = null; throw err; });
  return directory;
}

export { formatTime } from "./time.ts";

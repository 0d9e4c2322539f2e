import { useEffect, useRef, useState } from "preact/hooks";
import {
  dateline, describe, formatTime, KIND_LABELS, loadDirectory, loadSections, sectionTree, STATUS_LABELS,
  type Article, type ArticleKind, type ArticleStatus, type DirectoryEntry, type Editor, type Section,
} from "../api.ts";
import { href } from "../router.ts";

type Tab = { id: string; label: string; status?: ArticleStatus; trashed?: boolean };
const TABS: Tab[] = [
  { id: "all", label: "All" },
  { id: "drafts", label: "Drafts", status: "DRAFT" },
  { id: "review", label: "In review", status: "IN_REVIEW" },
  { id: "scheduled", label: "Scheduled", status: "SCHEDULED" },
  { id: "published", label: "Published", status: "PUBLISHED" },
  { id: "archived", label: "Archived", status: "ARCHIVED" },
  { id: "trash", label: "Trash", trashed: true },
];

interface Filters { tab: string; q: string; section: string; kind: string; mine: boolean; author: string }

// The list's filters survive a visit to an article and back (same tab of the browser).
let remembered: Filters | null = null;

export function ArticleList({ me }: { me: Editor }) {
  const [filters, setFilters] = useState<Filters>(() => remembered ?? { tab: "all", q: "", section: "", kind: "", mine: me.role === "WRITER", author: "" });
  const [query, setQuery] = useState(filters.q);
  const [items, setItems] = useState<Article[]>([]);
  const [snippets, setSnippets] = useState<Map<number, string>>(new Map());
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [sections, setSections] = useState<Section[]>([]);
  const generation = useRef(0);

  const [people, setPeople] = useState<DirectoryEntry[]>([]);
  useEffect(() => {
    loadSections().then(setSections, () => {});
    loadDirectory().then(setPeople, () => {});
  }, []);

  const fetchPage = async (f: Filters, after: string | null) => {
    const tab = TABS.find((t) => t.id === f.tab) ?? TABS[0];
    const r = await dateline.api.GET("/api/v1/admin/articles", {
      params: {
        query: {
          limit: 25,
          ...(tab.status ? { status: tab.status } : {}),
          ...(tab.trashed ? { trashed: true } : {}),
          ...(f.q.trim() ? { q: f.q.trim() } : {}),
          ...(f.section ? { section: f.section } : {}),
          ...(f.kind ? { kind: f.kind as ArticleKind } : {}),
          ...(f.mine ? { author: me.id } : f.author ? { author: Number(f.author) } : {}),
          ...(after ? { cursor: after } : {}),
        },
      },
    });
    if (!r.data) throw Object.assign(new Error((r.error as { detail?: string } | undefined)?.detail ?? `HTTP ${r.response.status}`));
    return r.data;
  };

  const load = async (f: Filters, after: string | null) => {
    const gen = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await fetchPage(f, after);
      if (gen !== generation.current) return;
      setItems((prev) => (after ? [...prev, ...page.data] : page.data));
      const hits = "hits" in page.meta ? page.meta.hits : undefined;
      setSnippets((prev) => {
        const next = after ? new Map(prev) : new Map<number, string>();
        hits?.forEach((h: { id?: number; snippet?: string }, i: number) => {
          const id = h.id ?? page.data[i]?.id;
          if (id !== undefined && h.snippet) next.set(id, h.snippet);
        });
        return next;
      });
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      if (gen === generation.current) setError(describe(err));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    remembered = filters;
    void load(filters, null);
  }, [filters]);

  // Busy at once (same render as the new filters): nothing reads the old list as the new one's.
  const update = (patch: Partial<Filters>) => { setLoading(true); setFilters((f) => ({ ...f, ...patch })); };
  const tree = sectionTree(sections);

  return (
    <section>
      <div class="heading-row">
        <h1 tabIndex={-1}>Articles</h1>
        <a class="button primary" href={href("/articles/new")}>New article</a>
      </div>

      <div class="tabs" role="group" aria-label="Status">
        {TABS.map((t) => (
          <button type="button" key={t.id} aria-pressed={filters.tab === t.id} onClick={() => update({ tab: t.id })}>{t.label}</button>
        ))}
      </div>

      <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); update({ q: query }); }}>
        <div class="field">
          <label for="f-q">Search</label>
          <input id="f-q" type="search" value={query} maxLength={500} placeholder="Words, phrases, -word"
            onInput={(e) => setQuery(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="f-section">Section</label>
          <select id="f-section" value={filters.section} onChange={(e) => update({ section: e.currentTarget.value })}>
            <option value="">All sections</option>
            {tree.map(({ section, depth }) => (
              <option key={section.id} value={section.slug}>{"\u2003".repeat(depth)}{section.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-kind">Kind</label>
          <select id="f-kind" value={filters.kind} onChange={(e) => update({ kind: e.currentTarget.value })}>
            <option value="">All kinds</option>
            {Object.entries(KIND_LABELS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-author">Author</label>
          <select id="f-author" value={filters.mine ? String(me.id) : filters.author} disabled={filters.mine}
            onChange={(e) => update({ author: e.currentTarget.value })}>
            <option value="">Anyone</option>
            {people.map((p) => <option key={p.id} value={String(p.id)}>{p.name}</option>)}
          </select>
        </div>
        <div class="field check">
          <input id="f-mine" type="checkbox" checked={filters.mine} onChange={(e) => update({ mine: e.currentTarget.checked })} />
          <label for="f-mine">Mine only</label>
        </div>
        <button type="submit">Search</button>
      </form>

      {error && <p class="error" role="alert">{error}</p>}
      <p class="sr-only" role="status">{loading ? "Loading articles…" : `${items.length} articles shown${cursor ? ", more available" : ""}.`}</p>

      <table class="articles" aria-busy={loading ? "true" : "false"}>
        <caption class="sr-only">Articles</caption>
        <thead>
          <tr><th scope="col">Headline</th><th scope="col">Status</th><th scope="col">Section</th><th scope="col">Author</th><th scope="col">Updated</th></tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id}>
              <td>
                <a href={href(`/articles/${a.id}`)}>{a.headline}</a>
                {a.kind !== "STORY" && <span class="tag">{KIND_LABELS[a.kind]}</span>}
                {a.lockedBy && <span class="tag lock" title={`Being edited by ${a.lockedBy.name}`}>Editing: {a.lockedBy.name}</span>}
                {snippets.get(a.id) && <p class="snippet">{highlight(snippets.get(a.id)!)}</p>}
              </td>
              <td><span class={`status s-${a.status.toLowerCase()}`}>{a.deletedAt ? "In trash" : STATUS_LABELS[a.status]}</span>
                {a.status === "SCHEDULED" && a.scheduledAt && <div class="muted small">{formatTime(a.scheduledAt)}</div>}</td>
              <td>{a.section.name}</td>
              <td>{a.author.name}</td>
              <td><time dateTime={a.updatedAt}>{formatTime(a.updatedAt)}</time></td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && items.length === 0 && !error && <p class="empty">No articles here.</p>}
      {cursor && (
        <p><button type="button" onClick={() => load(filters, cursor)} disabled={loading}>{loading ? "Loading…" : "Load more"}</button></p>
      )}
    </section>
  );
}

/** The search snippet's <mark>s as elements; everything else stays text (never parsed as HTML). */
function highlight(snippet: string) {
  const parts = snippet.split(/(<mark>.*?<\/mark>)/g);
  return parts.map((p, i) => {
    const m = /^<mark>(.*)<\/mark>$/.exec(p);
    return m ? <mark key={i}>{decode(m[1])}</mark> : decode(p);
  });
}

function decode(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e] ?? _);
}

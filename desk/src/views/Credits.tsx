import "./editor-extras.css";
import { useEffect, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, loadDirectory, type Article, type DirectoryEntry } from "../api.ts";
import { OrderedList } from "./OrderedList.tsx";

type AuthorRole = Schemas["AuthorRole"];
type Author = Schemas["Author"];
type Credit = Article["authors"][number];

const ROLE_LABELS: Record<string, string> = { ADMIN: "Admin", EDITOR: "Editor", WRITER: "Writer" };

export const AUTHOR_ROLES: AuthorRole[] = [
  "writer", "reporter", "correspondent", "columnist", "photographer", "videographer",
  "illustrator", "graphics", "editor", "translator", "researcher", "contributor",
];
const roleLabel = (r: string) => r.charAt(0).toUpperCase() + r.slice(1);


/**
 * The desk editors credited on the article ("Editor: Liu Fang, Zhao Min" on the page), in credit order:
 * added from the active editors, reordered (OrderedList: drag, Alt+arrows, Up/Down) and removed; each
 * change is saved at once, like the related stories.
 */
export function EditorCredits(props: { article: Article; editable: boolean; save: (editors: number[]) => Promise<boolean> }) {
  const credited = props.article.editors;
  const ids = credited.map((e) => e.id);
  const [people, setPeople] = useState<DirectoryEntry[] | null>(null);
  const [choice, setChoice] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => { loadDirectory().then(setPeople, (err) => setError(`The desk editors could not be listed: ${describe(err)}`)); }, []);

  const change = async (next: number[]) => {
    setBusy(true);
    await props.save(next);
    setBusy(false);
  };
  const available = (people ?? []).filter((p) => !ids.includes(p.id));
  const off = !props.editable || busy;

  return (
    <fieldset class="credits" disabled={off} data-testid="editor-credits">
      <legend>Desk editors credited</legend>
      <p class="hint">Shown on the story as “Editor: …”, in this order.</p>
      {credited.length === 0 ? <p class="muted small">None.</p> : (
        <OrderedList items={credited} keyOf={(e) => e.id} labelOf={(e) => e.name} label="Credited desk editors, in order"
          testId="editor-credit-list" disabled={off}
          render={(e) => <span>{e.name}</span>}
          // A move is saved without disabling the list, so the moved item's handle keeps the focus.
          onMove={(next) => props.save(next.map((e) => e.id))}
          actions={(e) => <button type="button" aria-label={`Remove credit: ${e.name}`} onClick={() => change(ids.filter((x) => x !== e.id))}>Remove</button>} />
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <form class="add-row" onSubmit={(e) => {
        e.preventDefault();
        const id = Number(choice);
        if (id && !ids.includes(id)) { setChoice(""); void change([...ids, id]); }
      }}>
        <div class="field">
          <label for="cr-editor">Credit a desk editor</label>
          <select id="cr-editor" value={choice} onChange={(e) => setChoice(e.currentTarget.value)} required>
            <option value="">{people === null ? "Loading…" : available.length ? "Choose an editor" : "Everyone is credited"}</option>
            {available.map((p) => <option key={p.id} value={String(p.id)}>{p.name} ({ROLE_LABELS[p.role] ?? p.role})</option>)}
          </select>
        </div>
        <button type="submit" disabled={off || !choice}>Add credit</button>
      </form>
    </fieldset>
  );
}

/**
 * The author profiles credited on the byline, in order, each with a role: found by name, added,
 * reordered, re-roled and removed; each change saved at once.
 */
export function AuthorCredits(props: { article: Article; editable: boolean; save: (authors: { slug: string; role: AuthorRole }[]) => Promise<boolean> }) {
  const credits = props.article.authors;
  const [q, setQ] = useState("");
  const [role, setRole] = useState<AuthorRole>("writer");
  const [results, setResults] = useState<Author[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const asInput = (list: readonly Credit[]) => list.map((c) => ({ slug: c.slug, role: c.role }));
  const change = async (next: { slug: string; role: AuthorRole }[]) => {
    setBusy(true);
    await props.save(next);
    setBusy(false);
  };
  const search = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/authors", { params: { query: { limit: 10, ...(q.trim() ? { q: q.trim() } : {}) } } }));
      setResults(page.data);
    } catch (err) {
      setError(describe(err));
    }
  };
  const slugs = credits.map((c) => c.slug);
  const off = !props.editable || busy;

  return (
    <fieldset class="credits" disabled={off} data-testid="author-credits">
      <legend>Author profiles on the byline</legend>
      {credits.length === 0 ? <p class="muted small">None.</p> : (
        <OrderedList items={credits} keyOf={(c) => c.slug} labelOf={(c) => c.name} label="Credited authors, in byline order"
          testId="author-credit-list" disabled={off}
          render={(c) => (
            <span class="credit-line">
              <span>{c.name}</span>
              <label class="sr-only" for={`cr-role-${c.id}`}>Role of {c.name}</label>
              <select id={`cr-role-${c.id}`} class="inline-select" value={c.role} disabled={off}
                onChange={(e) => change(asInput(credits).map((x) => (x.slug === c.slug ? { ...x, role: e.currentTarget.value as AuthorRole } : x)))}>
                {AUTHOR_ROLES.map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
              </select>
            </span>
          )}
          onMove={(next) => props.save(asInput(next))}
          actions={(c) => <button type="button" aria-label={`Remove author: ${c.name}`} onClick={() => change(asInput(credits).filter((x) => x.slug !== c.slug))}>Remove</button>} />
      )}
      <form onSubmit={search} class="inline-search" role="search" aria-label="Author profiles">
        <div class="row">
          <div class="field">
            <label for="cr-author-q">Find an author profile</label>
            <input id="cr-author-q" type="search" value={q} maxLength={200} onInput={(e) => setQ(e.currentTarget.value)} />
          </div>
          <div class="field narrow-field">
            <label for="cr-author-role">Credit as</label>
            <select id="cr-author-role" value={role} onChange={(e) => setRole(e.currentTarget.value as AuthorRole)}>
              {AUTHOR_ROLES.map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
            </select>
          </div>
          <button type="submit" class="align-end">Find profiles</button>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {results && (results.length === 0 ? <p class="muted small" role="status">No profiles found. An editor adds them on the Authors page.</p> : (
        <ul class="results" aria-label="Author profiles found">
          {results.map((a) => (
            <li key={a.id}>
              <span>{a.name}</span> <span class="muted small">({a.slug})</span>
              {slugs.includes(a.slug) ? <span class="muted small"> · credited</span>
                : <button type="button" aria-label={`Credit author: ${a.name}`} onClick={() => change([...asInput(credits), { slug: a.slug, role }])}>Add</button>}
            </li>
          ))}
        </ul>
      ))}
    </fieldset>
  );
}

// Live coverage entries of a LIVE article (issue 14): the list (every entry, drafts' included, from the
// editor API), posting, editing, pinning and deleting. The body is typed as plain text and sent as
// paragraphs; the server sanitizes it like an article body.
import { useEffect, useRef, useState } from "preact/hooks";
import { toProblem, type Schemas } from "@dateline/client";
import { dateline, describe, DatelineProblem, formatTime, withEtag, type Article, type Editor } from "../api.ts";
import "./live-entries.css";

type Entry = Schemas["AdminLiveEntry"];

const POLL_MS = 15_000;
const PAGE = 50;

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Plain text to the HTML the API takes: a blank line starts a paragraph, a line break stays one. */
export function textToHtml(text: string): string {
  return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean)
    .map((p) => `<p>${p.split("\n").map((l) => escapeHtml(l.trim())).join("<br>")}</p>`).join("");
}

/** An entry's sanitized HTML as paragraphs of text (line breaks kept). */
export function paragraphsOf(html: string): string[] {
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const br of Array.from(doc.body.querySelectorAll("br"))) br.replaceWith("\n");
  const blocks = Array.from(doc.body.children).map((el) => (el.textContent ?? "").trim()).filter(Boolean);
  return blocks.length ? blocks : [(doc.body.textContent ?? "").trim()].filter(Boolean);
}

const hasFormatting = (html: string) => /<(?!\/?(p|br)\b)[a-z]/i.test(html);
const shortName = (e: Entry) => {
  const s = e.title ?? paragraphsOf(e.body)[0] ?? "";
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

interface Draft { title: string; text: string; keyEvent: boolean; pinned: boolean }
const emptyDraft: Draft = { title: "", text: "", keyEvent: false, pinned: false };

function EntryFields(props: { idPrefix: string; draft: Draft; set: (d: Draft) => void; onSubmitKey: () => void; hint?: string }) {
  const { idPrefix: p, draft, set } = props;
  return (
    <>
      <label for={`${p}-title`}>Entry headline <span class="muted small">(optional)</span></label>
      <input id={`${p}-title`} value={draft.title} maxLength={300} onInput={(e) => set({ ...draft, title: e.currentTarget.value })} />
      <label for={`${p}-text`}>Entry text</label>
      <textarea id={`${p}-text`} rows={4} required value={draft.text} aria-describedby={`${p}-hint`}
        onInput={(e) => set({ ...draft, text: e.currentTarget.value })}
        onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); props.onSubmitKey(); } }} />
      <p id={`${p}-hint`} class="hint">A blank line starts a new paragraph; Ctrl+Enter (⌘+Enter) sends.{props.hint ? ` ${props.hint}` : ""}</p>
      <div class="live-flags">
        <div class="field check">
          <input id={`${p}-key`} type="checkbox" checked={draft.keyEvent} onChange={(e) => set({ ...draft, keyEvent: e.currentTarget.checked })} />
          <label for={`${p}-key`}>Key event</label>
        </div>
        <div class="field check">
          <input id={`${p}-pin`} type="checkbox" checked={draft.pinned} onChange={(e) => set({ ...draft, pinned: e.currentTarget.checked })} />
          <label for={`${p}-pin`}>Pinned to the top</label>
        </div>
      </div>
    </>
  );
}

export function LiveEntries({ article, me }: { article: Article; me: Editor }) {
  const id = article.id;
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [older, setOlder] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [editing, setEditing] = useState<{ id: number; draft: Draft; original: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const editForm = useRef<HTMLFormElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  // Once older pages are loaded, a refresh keeps them and their cursor.
  const extended = useRef(false);

  const isLive = article.kind === "LIVE";
  // As the API decides (src/live/service.ts): EDITOR+ any live article, a WRITER one they wrote or are credited on.
  const mayPost = me.role !== "WRITER" || article.author.id === me.id || article.editors.some((e) => e.id === me.id);
  const canPost = mayPost && !article.deletedAt;
  const canDelete = (e: Entry) => canPost && (me.role !== "WRITER" || e.author?.id === me.id);

  const fetchPage = async (cursor?: string) => {
    const r = await dateline.api.GET("/api/v1/admin/articles/{id}/entries", {
      params: { path: { id }, query: { deleted: "exclude", limit: PAGE, ...(cursor ? { cursor } : {}) } },
    });
    if (!r.data) throw new Error(`Could not load the entries (HTTP ${r.response.status}).`);
    return r.data;
  };

  // The newest page again; older pages already loaded are kept below it.
  const refresh = async () => {
    try {
      const page = await fetchPage();
      setLoadError(null);
      setEntries((prev) => {
        const lowest = page.data.length ? page.data[page.data.length - 1].id : Infinity;
        const kept = page.meta.nextCursor ? (prev ?? []).filter((e) => e.id < lowest) : [];
        return [...page.data, ...kept];
      });
      if (!extended.current || !page.meta.nextCursor) {
        extended.current = false;
        setOlder(page.meta.nextCursor);
      }
    } catch (err) {
      setLoadError(describe(err));
    }
  };

  useEffect(() => {
    if (!isLive) return;
    void refresh();
    // Others post too (a reporter in the field, a second editor): the list follows every 15 s while visible.
    const timer = setInterval(() => { if (document.visibilityState === "visible") void refresh(); }, POLL_MS);
    return () => clearInterval(timer);
  }, [id, isLive]);

  if (!isLive) return null;

  const loadOlder = async () => {
    if (!older) return;
    try {
      const page = await fetchPage(older);
      setEntries((prev) => [...(prev ?? []), ...page.data.filter((e) => !(prev ?? []).some((p) => p.id === e.id))]);
      setOlder(page.meta.nextCursor);
      extended.current = true;
    } catch (err) {
      setNotice({ ok: false, text: describe(err) });
    }
  };

  const failed = async (err: unknown) => {
    if (err instanceof DatelineProblem && err.status === 412) {
      setNotice({ ok: false, text: "That entry changed meanwhile (someone else saved it); the list is reloaded, try again." });
      setEditing(null);
      await refresh();
    } else if (err instanceof DatelineProblem && err.status === 404) {
      setNotice({ ok: false, text: "That entry is gone (deleted meanwhile); the list is reloaded." });
      setEditing(null);
      await refresh();
    } else {
      setNotice({ ok: false, text: describe(err) });
    }
  };

  const post = async (e?: Event) => {
    e?.preventDefault();
    const body = textToHtml(draft.text);
    if (!body) { setNotice({ ok: false, text: "Write the entry's text first." }); return; }
    setBusy(true);
    setNotice(null);
    try {
      await withEtag(dateline.api.POST("/api/v1/admin/articles/{id}/entries", {
        params: { path: { id } },
        body: { title: draft.title.trim() || null, body, keyEvent: draft.keyEvent, pinned: draft.pinned },
      }));
      setDraft(emptyDraft);
      await refresh();
      setNotice({ ok: true, text: "Entry posted." });
    } catch (err) {
      await failed(err);
    } finally {
      setBusy(false);
    }
  };

  const patch = async (entry: Entry, body: Schemas["LiveEntryUpdate"], done: string) => {
    setBusy(true);
    setNotice(null);
    try {
      await withEtag(dateline.api.PATCH("/api/v1/admin/articles/{id}/entries/{entryId}", {
        params: { path: { id, entryId: entry.id }, header: { "If-Match": `"${entry.version}"` } }, body,
      }));
      await refresh();
      setNotice({ ok: true, text: done });
      return true;
    } catch (err) {
      await failed(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const startEdit = (entry: Entry) => {
    const text = paragraphsOf(entry.body).join("\n\n");
    setEditing({ id: entry.id, original: text, draft: { title: entry.title ?? "", text, keyEvent: entry.keyEvent, pinned: entry.pinned } });
    setNotice(null);
    requestAnimationFrame(() => document.getElementById(`le-edit-${entry.id}-text`)?.focus());
  };

  const saveEdit = async (entry: Entry, e?: Event) => {
    e?.preventDefault();
    if (!editing) return;
    const d = editing.draft;
    // The body is sent only when its text changed, so an entry's formatting survives a pin or a new headline.
    const textChanged = d.text.trim() !== editing.original.trim();
    const body = textToHtml(d.text);
    if (textChanged && !body) { setNotice({ ok: false, text: "An entry needs some text." }); return; }
    const ok = await patch(entry, {
      title: d.title.trim() || null, keyEvent: d.keyEvent, pinned: d.pinned, ...(textChanged ? { body } : {}),
    }, "Entry saved.");
    if (ok) {
      setEditing(null);
      requestAnimationFrame(() => document.getElementById(`le-${entry.id}-edit`)?.focus());
    }
  };

  const remove = async (entry: Entry) => {
    if (!confirm(`Delete this entry${entry.title ? ` (“${entry.title}”)` : ""}? Readers polling the page see it go.`)) return;
    setBusy(true);
    setNotice(null);
    try {
      const r = await dateline.api.DELETE("/api/v1/admin/articles/{id}/entries/{entryId}", {
        params: { path: { id, entryId: entry.id }, header: { "If-Match": `"${entry.version}"` } },
      });
      if (!r.response.ok) throw toProblem(r.error, r.response);
      await refresh();
      setNotice({ ok: true, text: "Entry deleted." });
      // The focus would be lost with the entry's buttons: it goes to the list.
      requestAnimationFrame(() => listRef.current?.focus());
    } catch (err) {
      await failed(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="live-entries" aria-labelledby="live-title" data-testid="live-entries">
      <h2 id="live-title">Live entries</h2>
      <p class="hint">
        {article.status === "PUBLISHED" ? "Readers see a new entry within seconds." : "Readers see the entries once the article is published; you can prepare them now."}
      </p>
      {canPost ? (
        <form ref={form} class="live-new" onSubmit={post} aria-labelledby="live-new-title">
          <h3 id="live-new-title">New entry</h3>
          <EntryFields idPrefix="le-new" draft={draft} set={setDraft} onSubmitKey={() => void post()} />
          <button type="submit" class="primary" disabled={busy}>Post entry</button>
        </form>
      ) : (
        <p class="muted small">{article.deletedAt ? "The article is in the trash: restore it to post entries." : "Only editors, and the writers of this article, post entries to it."}</p>
      )}
      <div aria-live="polite" class="live-notice">
        {notice?.ok && <p class="ok small" role="status">{notice.text}</p>}
      </div>
      {notice && !notice.ok && <p class="error small" role="alert">{notice.text}</p>}
      {loadError && <p class="error small" role="alert">{loadError}</p>}
      <h3 id="live-list-title">Posted entries{entries ? ` (${entries.length}${older ? "+" : ""})` : ""}</h3>
      {!entries && !loadError && <p role="status" class="small">Loading the entries…</p>}
      {entries && entries.length === 0 && <p class="empty">No entries yet.</p>}
      {entries && entries.length > 0 && (
        <ol class="entries" ref={listRef} tabIndex={-1} aria-labelledby="live-list-title">
          {entries.map((e) => (
            <li key={e.id} class={`entry${e.pinned ? " pinned" : ""}`} data-testid={`entry-${e.id}`}>
              {editing?.id === e.id ? (
                <form ref={editForm} class="live-edit" onSubmit={(ev) => void saveEdit(e, ev)} aria-label={`Edit entry “${shortName(e)}”`}>
                  <EntryFields idPrefix={`le-edit-${e.id}`} draft={editing.draft} set={(d) => setEditing({ ...editing, draft: d })}
                    onSubmitKey={() => void saveEdit(e)}
                    hint={hasFormatting(e.body) ? "Changing the text replaces its formatting (links, bold) with plain paragraphs." : undefined} />
                  <div class="entry-actions">
                    <button type="submit" class="primary" disabled={busy}>Save entry</button>
                    <button type="button" onClick={() => { setEditing(null); requestAnimationFrame(() => document.getElementById(`le-${e.id}-edit`)?.focus()); }}>Cancel</button>
                  </div>
                </form>
              ) : (
                <article aria-labelledby={`le-${e.id}-meta`}>
                  <p class="entry-meta small" id={`le-${e.id}-meta`}>
                    <time dateTime={e.createdAt}>{formatTime(e.createdAt)}</time>
                    {" · "}{e.author?.name ?? "unknown"}
                    {e.version > 1 && <span class="muted">{" · "}edited {formatTime(e.updatedAt)}</span>}
                    {e.pinned && <span class="tag">Pinned</span>}
                    {e.keyEvent && <span class="tag key">Key event</span>}
                  </p>
                  {e.title && <h4 class="entry-title">{e.title}</h4>}
                  <div class="entry-body">{paragraphsOf(e.body).map((p, i) => <p key={i}>{p}</p>)}</div>
                  {canPost && (
                    <div class="entry-actions">
                      <button type="button" id={`le-${e.id}-edit`} disabled={busy || editing !== null} aria-label={`Edit entry “${shortName(e)}”`} onClick={() => startEdit(e)}>Edit</button>
                      <button type="button" disabled={busy} aria-label={`${e.pinned ? "Unpin" : "Pin"} entry “${shortName(e)}”`}
                        onClick={() => void patch(e, { pinned: !e.pinned }, e.pinned ? "Entry unpinned." : "Entry pinned to the top.")}>{e.pinned ? "Unpin" : "Pin"}</button>
                      {canDelete(e) && (
                        <button type="button" class="danger" disabled={busy} aria-label={`Delete entry “${shortName(e)}”`} onClick={() => void remove(e)}>Delete</button>
                      )}
                    </div>
                  )}
                </article>
              )}
            </li>
          ))}
        </ol>
      )}
      {older && <button type="button" onClick={() => void loadOlder()}>Load older entries</button>}
    </section>
  );
}

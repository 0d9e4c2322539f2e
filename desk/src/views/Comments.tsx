import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime } from "../api.ts";
import { href } from "../router.ts";
import "./admin.css";

type Comment = Schemas["AdminComment"];
type Status = Schemas["CommentStatus"];
type Decision = Schemas["CommentModeration"]["status"];

const TABS: { status: Status; label: string }[] = [
  { status: "PENDING", label: "Waiting" },
  { status: "APPROVED", label: "Approved" },
  { status: "REJECTED", label: "Rejected" },
  { status: "SPAM", label: "Spam" },
];
const DECISIONS: { status: Decision; label: string; done: string }[] = [
  { status: "APPROVED", label: "Approve", done: "Approved" },
  { status: "REJECTED", label: "Reject", done: "Rejected" },
  { status: "SPAM", label: "Spam", done: "Marked as spam" },
];
const STATUS_WORDS: Record<Status, string> = { PENDING: "waiting", APPROVED: "approved", REJECTED: "rejected", SPAM: "spam" };
// The bulk endpoint takes at most 100 ids; a page is 25, "Load more" can make the list longer.
const BULK_MAX = 100;

const excerpt = (text: string, max = 280) => (text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text);

/** The moderation queue: readers' comments by status, one at a time or in bulk, replies with what they answer. EDITOR and ADMIN. */
export function Comments() {
  const [status, setStatus] = useState<Status>("PENDING");
  const [items, setItems] = useState<Comment[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [busy, setBusy] = useState(false);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const generation = useRef(0);
  const selectAll = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  // The focused button goes away with its comment: keep the keyboard in the queue (next comment, else the heading).
  const refocus = (nextId: number | undefined) => setTimeout(() => {
    const next = nextId !== undefined ? document.getElementById(`sel-${nextId}`) : null;
    (next ?? selectAll.current ?? heading.current)?.focus();
  }, 0);

  const load = async (after: string | null) => {
    const gen = ++generation.current;
    setLoading(true);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/comments", { params: { query: { status, limit: 25, ...(after ? { cursor: after } : {}) } } }));
      if (gen !== generation.current) return;
      setItems((prev) => (after ? [...prev, ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      if (gen === generation.current) setMessage({ ok: false, text: describe(err) });
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };
  useEffect(() => { setMessage(null); setSelected(new Set()); void load(null); }, [status]);

  const allSelected = items.length > 0 && items.every((c) => selected.has(c.id));
  const someSelected = !allSelected && items.some((c) => selected.has(c.id));
  useEffect(() => { if (selectAll.current) selectAll.current.indeterminate = someSelected; }, [someSelected]);

  const toggle = (id: number, on: boolean) => setSelected((prev) => {
    const next = new Set(prev);
    if (on) next.add(id); else next.delete(id);
    return next;
  });

  const decide = async (c: Comment, d: (typeof DECISIONS)[number]) => {
    setBusy(true);
    try {
      await unwrap(dateline.api.PATCH("/api/v1/admin/comments/{id}", { params: { path: { id: c.id } }, body: { status: d.status } }));
      const at = items.findIndex((x) => x.id === c.id);
      setItems((prev) => prev.filter((x) => x.id !== c.id));
      toggle(c.id, false);
      refocus((items[at + 1] ?? items[at - 1])?.id);
      setMessage({ ok: true, text: `${d.done}: the comment by ${c.name} on “${c.article.headline}”.` });
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    } finally {
      setBusy(false);
    }
  };

  const decideSelected = async (d: (typeof DECISIONS)[number]) => {
    const ids = items.filter((c) => selected.has(c.id)).map((c) => c.id);
    if (!ids.length) return;
    setBusy(true);
    setMessage(null);
    try {
      let updated = 0;
      // All or nothing per call; more than 100 selected (after "Load more") goes in several calls.
      for (let i = 0; i < ids.length; i += BULK_MAX) {
        const r = await unwrap(dateline.api.POST("/api/v1/admin/comments/bulk", { body: { ids: ids.slice(i, i + BULK_MAX), status: d.status } }));
        updated += r.updated;
      }
      const done = new Set(ids);
      setItems((prev) => prev.filter((x) => !done.has(x.id)));
      setSelected(new Set());
      setMessage({ ok: true, text: `${d.done}: ${updated} ${updated === 1 ? "comment" : "comments"}.` });
      refocus(items.find((x) => !done.has(x.id))?.id);
    } catch (err) {
      // A comment deleted meanwhile fails the whole call (404 naming it): show the queue as it is now.
      setMessage({ ok: false, text: describe(err) });
      setSelected(new Set());
      void load(null);
    } finally {
      setBusy(false);
    }
  };

  const count = items.filter((c) => selected.has(c.id)).length;
  const offered = DECISIONS.filter((d) => d.status !== status);

  return (
    <section class="admin">
      <h1 tabIndex={-1} ref={heading}>Comments</h1>
      <div class="tabs" role="group" aria-label="Comment status">
        {TABS.map((t) => (
          <button type="button" key={t.status} aria-pressed={status === t.status} onClick={() => { setLoading(true); setStatus(t.status); }}>{t.label}</button>
        ))}
      </div>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {items.length > 0 && (
        <div class="bulkbar" role="group" aria-label="Selected comments">
          <span class="field check">
            <input type="checkbox" id="select-all" ref={selectAll} checked={allSelected}
              onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((c) => c.id)) : new Set())} />
            <label for="select-all">Select all {items.length} shown</label>
          </span>
          <span class="small" aria-live="polite" data-testid="selected-count">{count} selected</span>
          {offered.map((d) => (
            <button type="button" key={d.status} class={d.status === "APPROVED" ? "primary" : undefined} disabled={busy || count === 0}
              onClick={() => decideSelected(d)}>{d.label} selected</button>
          ))}
        </div>
      )}
      <ul class="comments" aria-busy={loading ? "true" : "false"}>
        {items.map((c) => (
          <li key={c.id} class={`comment card${selected.has(c.id) ? " selected" : ""}`} data-testid="comment">
            <div class="comment-head">
              <input type="checkbox" id={`sel-${c.id}`} checked={selected.has(c.id)} onChange={(e) => toggle(c.id, e.currentTarget.checked)} />
              <label for={`sel-${c.id}`} class="sr-only">Select the comment by {c.name} ({formatTime(c.createdAt)})</label>
              <p class="small muted">
                <strong class="name">{c.name}</strong> on <a href={href(`/articles/${c.article.id}`)}>{c.article.headline}</a>
                {" · "}<time dateTime={c.createdAt}>{formatTime(c.createdAt)}</time>{c.parentId ? " · a reply" : ""}
              </p>
            </div>
            {c.parent && (
              <blockquote class="in-reply-to" data-testid="parent">
                <p class="small muted">
                  In reply to <strong>{c.parent.name}</strong>, <time dateTime={c.parent.createdAt}>{formatTime(c.parent.createdAt)}</time>
                  {c.parent.status !== "APPROVED" ? ` (${STATUS_WORDS[c.parent.status]})` : ""}:
                </p>
                <p class="comment-body">{excerpt(c.parent.body)}</p>
              </blockquote>
            )}
            <p class="comment-body">{c.body}</p>
            <div class="actions" role="group" aria-label={`Moderate the comment by ${c.name}`}>
              {DECISIONS.filter((d) => d.status !== c.status).map((d) => (
                <button type="button" key={d.status} class={d.status === "APPROVED" ? "primary" : undefined} disabled={busy} onClick={() => decide(c, d)}>{d.label}</button>
              ))}
            </div>
          </li>
        ))}
      </ul>
      {!loading && items.length === 0 && <p class="empty">No comments here.</p>}
      {cursor && <p><button type="button" disabled={loading} onClick={() => load(cursor)}>Load more</button></p>}
    </section>
  );
}

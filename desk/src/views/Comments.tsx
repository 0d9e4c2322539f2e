import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime } from "../api.ts";
import { href } from "../router.ts";

type Comment = Schemas["AdminComment"];
type Status = Schemas["CommentStatus"];
type Decision = Schemas["CommentModeration"]["status"];

const TABS: { status: Status; label: string }[] = [
  { status: "PENDING", label: "Waiting" },
  { status: "APPROVED", label: "Approved" },
  { status: "REJECTED", label: "Rejected" },
  { status: "SPAM", label: "Spam" },
];
const DECISIONS: { status: Decision; label: string }[] = [
  { status: "APPROVED", label: "Approve" },
  { status: "REJECTED", label: "Reject" },
  { status: "SPAM", label: "Spam" },
];

/** The moderation queue: readers' comments waiting, oldest decisions one click away. EDITOR and ADMIN. */
export function Comments() {
  const [status, setStatus] = useState<Status>("PENDING");
  const [items, setItems] = useState<Comment[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const generation = useRef(0);

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
  useEffect(() => { setMessage(null); void load(null); }, [status]);

  const decide = async (c: Comment, decision: Decision, label: string) => {
    try {
      await unwrap(dateline.api.PATCH("/api/v1/admin/comments/{id}", { params: { path: { id: c.id } }, body: { status: decision } }));
      setItems((prev) => prev.filter((x) => x.id !== c.id));
      setMessage({ ok: true, text: `${label}: the comment by ${c.name} on “${c.article.headline}”.` });
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Comments</h1>
      <div class="tabs" role="group" aria-label="Comment status">
        {TABS.map((t) => (
          <button type="button" key={t.status} aria-pressed={status === t.status} onClick={() => { setLoading(true); setStatus(t.status); }}>{t.label}</button>
        ))}
      </div>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <ul class="comments" aria-busy={loading ? "true" : "false"}>
        {items.map((c) => (
          <li key={c.id} class="comment card" data-testid="comment">
            <p class="small muted">
              <strong class="name">{c.name}</strong> on <a href={href(`/articles/${c.article.id}`)}>{c.article.headline}</a>
              {" · "}<time dateTime={c.createdAt}>{formatTime(c.createdAt)}</time>{c.parentId ? " · a reply" : ""}
            </p>
            <p class="comment-body">{c.body}</p>
            <div class="actions" role="group" aria-label={`Moderate the comment by ${c.name}`}>
              {DECISIONS.filter((d) => d.status !== c.status).map((d) => (
                <button type="button" key={d.status} class={d.status === "APPROVED" ? "primary" : undefined} onClick={() => decide(c, d.status, d.label === "Spam" ? "Marked as spam" : `${d.label}d`)}>{d.label}</button>
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

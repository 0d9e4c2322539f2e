import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type operations, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, type Editor } from "../api.ts";
import { fromSiteLocal, SITE_TIME_ZONE } from "../time.ts";
import { href } from "../router.ts";
import "./admin.css";

type Entry = Schemas["AuditEntry"];
type Query = NonNullable<operations["listAuditEntries"]["parameters"]["query"]>;
type TargetType = NonNullable<Query["targetType"]>;

const TARGET_TYPES: { type: TargetType; label: string }[] = [
  { type: "article", label: "Article" },
  { type: "section", label: "Section" },
  { type: "comment", label: "Comment" },
  { type: "editor", label: "Editor" },
  { type: "media", label: "Media" },
  { type: "collection", label: "Collection" },
  { type: "author", label: "Author" },
  { type: "live-entry", label: "Live entry" },
];
// Suggestions for the action filter (openapi.yaml lists them); a prefix ending in "." matches a family.
const ACTIONS = [
  "auth.", "auth.login", "auth.login-failed", "auth.logout", "auth.refresh-reuse", "auth.password-change",
  "article.", "article.create", "article.update", "article.submit", "article.publish", "article.unpublish", "article.trash", "article.restore", "article.purge",
  "section.", "comment.", "comment.moderate", "editor.", "collection.", "webhook.", "webhook.create", "webhook.update", "webhook.delete",
  "webhook.rotate-secret", "webhook.ping", "webhook.redeliver", "cdn.purge",
];
const ACTION = /^[a-z.-]{1,60}$/;

type Filters = { action: string; actor: string; targetType: string; targetId: string; since: string; until: string };
const EMPTY: Filters = { action: "", actor: "", targetType: "", targetId: "", since: "", until: "" };

/** The audit log (ADMIN): who did what to which entity and when, filtered, newest first, details on demand. */
export function Audit({ me }: { me: Editor }) {
  void me;
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<Entry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [editors, setEditors] = useState<Editor[]>([]);
  const [error, setError] = useState("");
  const [open, setOpen] = useState<Set<number>>(new Set());
  const generation = useRef(0);

  useEffect(() => {
    (async () => {
      const all: Editor[] = [];
      for await (const e of dateline.paginate((c) => dateline.api.GET("/api/v1/admin/editors", { params: { query: { limit: 100, cursor: c } } }))) all.push(e);
      setEditors(all);
    })().catch(() => { /* the actor filter then takes no names; the log still loads */ });
  }, []);

  const query = (f: Filters): Query => {
    const q: Query = { limit: 50 };
    if (f.action.trim()) q.action = f.action.trim();
    if (f.actor) q.actor = Number(f.actor);
    if (f.targetType) q.targetType = f.targetType as TargetType;
    if (f.targetId) q.targetId = Number(f.targetId);
    if (f.since) q.since = fromSiteLocal(f.since).toISOString();
    if (f.until) q.until = fromSiteLocal(f.until).toISOString();
    return q;
  };

  const load = async (f: Filters, after: string | null) => {
    const gen = ++generation.current;
    setLoading(true);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/audit", { params: { query: { ...query(f), ...(after ? { cursor: after } : {}) } } }));
      if (gen !== generation.current) return;
      setItems((prev) => (after ? [...(prev ?? []), ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
      setError("");
    } catch (err) {
      if (gen === generation.current) setError(describe(err));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };
  useEffect(() => { setOpen(new Set()); void load(applied, null); }, [applied]);

  const submit = (ev: Event) => {
    ev.preventDefault();
    if (form.action.trim() && !ACTION.test(form.action.trim())) {
      setError("Action: lower-case letters, dots and hyphens only, such as article.publish or article.");
      return;
    }
    if (form.since && form.until && fromSiteLocal(form.since) >= fromSiteLocal(form.until)) {
      setError("“From” must be before “Before”.");
      return;
    }
    setApplied({ ...form });
  };
  const clear = () => { setForm(EMPTY); setApplied(EMPTY); };

  const toggle = (id: number) => setOpen((prev) => {
    const next = new Set(prev);
    if (next.has(id)) next.delete(id); else next.add(id);
    return next;
  });

  const field = (k: keyof Filters) => ({ value: form[k], onInput: (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value }) });
  const filtered = Object.values(applied).some(Boolean);

  return (
    <section class="admin">
      <h1 tabIndex={-1}>Audit log</h1>
      <p class="hint">Sign-ins and every write, newest first. Times are the site's ({SITE_TIME_ZONE}).</p>
      <form class="filters" onSubmit={submit} aria-label="Filter the audit log">
        <div class="field">
          <label for="au-action">Action</label>
          <input id="au-action" list="au-actions" placeholder="article.publish or article." autocomplete="off" {...field("action")} />
          <datalist id="au-actions">{ACTIONS.map((a) => <option key={a} value={a} />)}</datalist>
        </div>
        <div class="field">
          <label for="au-actor">Who</label>
          <select id="au-actor" value={form.actor} onChange={(e) => setForm({ ...form, actor: e.currentTarget.value })}>
            <option value="">Anyone</option>
            {editors.map((e) => <option key={e.id} value={String(e.id)}>{e.name}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="au-type">Entity</label>
          <select id="au-type" value={form.targetType} onChange={(e) => setForm({ ...form, targetType: e.currentTarget.value })}>
            <option value="">Any</option>
            {TARGET_TYPES.map((t) => <option key={t.type} value={t.type}>{t.label}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="au-id">Entity id</label>
          <input id="au-id" type="number" min={1} step={1} inputMode="numeric" {...field("targetId")} />
        </div>
        <div class="field">
          <label for="au-since">From</label>
          <input id="au-since" type="datetime-local" {...field("since")} />
        </div>
        <div class="field">
          <label for="au-until">Before</label>
          <input id="au-until" type="datetime-local" {...field("until")} />
        </div>
        <button type="submit" class="primary">Filter</button>
        <button type="button" onClick={clear} disabled={!filtered && !Object.values(form).some(Boolean)}>Clear</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <p class="small muted" role="status">{loading ? "Loading…" : items ? `${items.length}${cursor ? "+" : ""} ${items.length === 1 ? "entry" : "entries"}${filtered ? " matching" : ""}` : ""}</p>
      <div class="table-wrap">
        <table class="log" aria-busy={loading ? "true" : "false"}>
          <caption class="sr-only">Audit entries, newest first</caption>
          <thead>
            <tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Entity</th><th scope="col">Address</th><th scope="col"><span class="sr-only">Details</span></th></tr>
          </thead>
          <tbody>
            {(items ?? []).map((a) => (
              <Fragment key={a.id}>
                <tr data-testid="audit-entry">
                  <td class="small"><time dateTime={a.createdAt}>{formatTime(a.createdAt)}</time></td>
                  <td>{a.actor ? a.actor.name : <span class="muted">{a.action.startsWith("auth.") ? "Nobody signed in" : "The system"}</span>}</td>
                  <td><code>{a.action}</code></td>
                  <td>{entity(a)}</td>
                  <td class="small">{a.ip ?? ""}</td>
                  <td>
                    <button type="button" aria-expanded={open.has(a.id)} aria-controls={`au-details-${a.id}`} aria-label={`Details of entry ${a.id}, ${a.action}`}
                      onClick={() => toggle(a.id)}>Details</button>
                  </td>
                </tr>
                {open.has(a.id) && (
                  <tr id={`au-details-${a.id}`} data-testid="audit-details">
                    <td colSpan={6}>
                      <dl class="small">
                        <dt>Entry</dt><dd>#{a.id} at {a.createdAt}</dd>
                        {a.email && <><dt>Email tried</dt><dd>{a.email}</dd></>}
                      </dl>
                      {a.details ? <pre class="details">{JSON.stringify(a.details, null, 2)}</pre> : <p class="small muted">No further details.</p>}
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      {!loading && items?.length === 0 && <p class="empty">No entries{filtered ? " match these filters" : ""}.</p>}
      {cursor && <p><button type="button" disabled={loading} onClick={() => load(applied, cursor)}>Load more</button></p>}
    </section>
  );
}

function entity(a: Entry) {
  if (!a.targetType) return <span class="muted">—</span>;
  const label = `${a.targetType} ${a.targetId ?? ""}`.trim();
  if (a.targetType === "article" && a.targetId) return <a href={href(`/articles/${a.targetId}`)}>{label}</a>;
  if (a.targetType === "collection" && a.targetId) return <a href={href(`/collections/${a.targetId}`)}>{label}</a>;
  return label;
}

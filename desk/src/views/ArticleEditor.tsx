import { useEffect, useRef, useState } from "preact/hooks";
import { toProblem, unwrap } from "@dateline/client";
import {
  dateline, DatelineProblem, describe, formatTime, KIND_LABELS, loadSections, STATUS_LABELS, withEtag,
  type Article, type ArticleKind, type Editor, type LockedBy, type Section,
} from "../api.ts";
import { href, setLeaveGuard } from "../router.ts";
import { SectionSelect } from "./NewArticle.tsx";
import { RichTextField, type RichTextHandle } from "./RichTextField.tsx";
import { ConflictScreen } from "./ConflictScreen.tsx";
import { FIELD_KEYS, fieldsOf, tagSlugs, type Fields } from "../fields.ts";
import { History } from "./History.tsx";
import { Corrections } from "./Corrections.tsx";
import { LeadImage } from "./LeadImage.tsx";
import { Related } from "./Related.tsx";
import { LiveEntries } from "./LiveEntries.tsx";
import { AuthorCredits, EditorCredits } from "./Credits.tsx";
import { Gallery } from "./Gallery.tsx";
import { Embargo } from "./Embargo.tsx";
import type { Schemas } from "@dateline/client";
import { fromSiteLocal, SITE_TIME_ZONE, toSiteLocal } from "../time.ts";

const changedKeys = (form: Fields, base: Fields) => FIELD_KEYS.filter((k) => k === "tags" ? tagSlugs(form.tags).join() !== tagSlugs(base.tags).join() : form[k] !== base[k]);

/** The PATCH body for some fields of the form: empty optional texts are null. */
function patchBody(form: Fields, keys: (keyof Fields)[]) {
  const body: Record<string, string | string[] | boolean | null> = {};
  for (const k of keys) {
    const v = form[k];
    if (k === "tags") body.tags = tagSlugs(form.tags);
    else if (typeof v === "string" && (k === "dateline" || k === "source" || k === "byline") && v.trim() === "") body[k] = null;
    else body[k] = v;
  }
  return body;
}

type LockState = { state: "pending" | "mine" | "none" | "readonly" } | { state: "other" | "lost"; holder: LockedBy | null };
type SaveState = { state: "idle" | "saving" } | { state: "saved"; at: Date } | { state: "error"; message: string };

const HEARTBEAT_MS = 60_000;
const AUTOSAVE_MS = 1500;

/** As the server's LOCKED_FOR_WRITERS (src/articles/service.ts). */
const LOCKED_FOR_WRITERS: readonly string[] = ["SCHEDULED", "PUBLISHED", "ARCHIVED", "WITHDRAWN"];

export function ArticleEditor({ id, me }: { id: number; me: Editor }) {
  const [article, setArticle] = useState<Article | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<Fields | null>(null);
  const [base, setBase] = useState<Fields | null>(null);
  const [sections, setSections] = useState<Section[]>([]);
  const [save, setSave] = useState<SaveState>({ state: "idle" });
  const [conflict, setConflict] = useState<{ theirs: Article; etag: string } | null>(null);
  const [lock, setLock] = useState<LockState>({ state: "pending" });
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [returnNote, setReturnNote] = useState("");
  const [scheduleAt, setScheduleAt] = useState("");
  const [preview, setPreview] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const copyPreview = async (url: string) => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
    } catch {
      // No clipboard permission (an insecure origin, say): the field is selected for Ctrl/Cmd+C instead.
      document.getElementById("wf-preview-url")?.focus();
    }
  };
  const [withdrawReason, setWithdrawReason] = useState("");
  const rich = useRef<RichTextHandle>(null);
  // The latest values for timers and async callbacks.
  const live = useRef({ form, base, etag: "", saving: null as Promise<boolean> | null, article, conflict });
  live.current.form = form;
  live.current.base = base;
  live.current.article = article;
  live.current.conflict = conflict;

  const isEditorPlus = me.role === "EDITOR" || me.role === "ADMIN";
  const dirty = form !== null && base !== null && changedKeys(form, base).length > 0;
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  // --- load ---
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const { data, etag } = await withEtag(dateline.api.GET("/api/v1/admin/articles/{id}", { params: { path: { id } } }));
        if (gone) return;
        live.current.etag = etag;
        setArticle(data);
        const f = fieldsOf(data);
        setForm(f);
        setBase(f);
      } catch (err) {
        if (!gone) setLoadError(err instanceof DatelineProblem && err.status === 404 ? "No such article, or you may not open it." : describe(err));
      }
    })();
    loadSections().then(setSections, () => {});
    return () => { gone = true; };
  }, [id]);

  // --- the edit lock: taken on open, renewed every minute, released on leaving ---
  const readOnlyForMe = (a: Article) => me.role === "WRITER" && (a.author.id !== me.id || LOCKED_FOR_WRITERS.includes(a.status));
  const takeLock = async (force = false): Promise<void> => {
    const r = await dateline.api.POST("/api/v1/admin/articles/{id}/lock", {
      params: { path: { id }, ...(force ? { query: { force: "true" as const } } : {}) },
    });
    if (r.data) {
      setLock({ state: "mine" });
      // Taken over: the previous holder may have saved since this screen read the article.
      if (force && !dirtyRef.current) void reread();
      return;
    }
    const problem = (r.error ?? {}) as { lockedBy?: LockedBy | null };
    if (r.response.status === 423) setLock((prev) => ({ state: prev.state === "mine" ? "lost" : "other", holder: problem.lockedBy ?? null }));
    else if (r.response.status === 403) setLock({ state: "readonly" });
    else if (r.response.status === 409) setLock({ state: "readonly" });
    else setLock({ state: "none" });
  };
  const trashed = !!article?.deletedAt;
  useEffect(() => {
    if (!article || trashed || readOnlyForMe(article)) return;
    void takeLock();
    return () => {
      void dateline.api.DELETE("/api/v1/admin/articles/{id}/lock", { params: { path: { id } } }).catch(() => {});
    };
  }, [article?.id, trashed, article ? readOnlyForMe(article) : true]);
  useEffect(() => {
    if (lock.state !== "mine") return;
    const timer = setInterval(() => { void takeLock(); }, HEARTBEAT_MS);
    // Closing the tab or leaving the site releases the lock too (keepalive: the request outlives the page).
    const release = () => {
      void dateline.api.DELETE("/api/v1/admin/articles/{id}/lock", { params: { path: { id } }, keepalive: true }).catch(() => {});
    };
    addEventListener("pagehide", release);
    return () => { clearInterval(timer); removeEventListener("pagehide", release); };
  }, [lock.state]);

  // --- unsaved changes: warn before leaving the page or the screen ---
  useEffect(() => {
    if (!dirty) { setLeaveGuard(null); return; }
    const onBeforeUnload = (e: BeforeUnloadEvent) => { e.preventDefault(); e.returnValue = ""; };
    addEventListener("beforeunload", onBeforeUnload);
    setLeaveGuard(() => confirm("This article has unsaved changes. Leave without saving them?"));
    return () => { removeEventListener("beforeunload", onBeforeUnload); setLeaveGuard(null); };
  }, [dirty]);

  // The server's rule (assertCanEdit): a WRITER changes only their own articles, and only until they are
  // scheduled or published. Such an article opens read-only and asks for no edit lock.
  const writerLocked = me.role === "WRITER" && article !== null && LOCKED_FOR_WRITERS.includes(article.status);
  const notTheirs = me.role === "WRITER" && article !== null && article.author.id !== me.id;
  const editable = !!article && !trashed && !writerLocked && !notTheirs && lock.state !== "other" && lock.state !== "lost" && lock.state !== "readonly" && !conflict;

  // --- saving ---
  const doSave = async (): Promise<boolean> => {
    const cur = live.current;
    if (cur.saving) { await cur.saving; }
    const { form: f, base: b } = live.current;
    if (!f || !b || live.current.conflict) return false;
    const keys = changedKeys(f, b);
    if (!keys.length) return true;
    const sent = { ...f };
    const run = (async () => {
      setSave({ state: "saving" });
      try {
        const { data, etag } = await withEtag(dateline.api.PATCH("/api/v1/admin/articles/{id}", {
          params: { path: { id }, header: { "If-Match": live.current.etag } },
          body: patchBody(sent, keys),
        }));
        live.current.etag = etag;
        setArticle(data);
        // What was sent is now the saved state (the server may have tidied the body: keep the editor's own HTML).
        setBase((prev) => (prev ? { ...prev, ...Object.fromEntries(keys.map((k) => [k, sent[k]])) } : prev));
        setSave({ state: "saved", at: new Date() });
        return true;
      } catch (err) {
        if (err instanceof DatelineProblem && err.status === 412 && err.problem.current) {
          setConflict({ theirs: err.problem.current as unknown as Article, etag: String(err.problem.currentEtag ?? `"${(err.problem.current as unknown as Article).version}"`) });
          setSave({ state: "idle" });
        } else if (err instanceof DatelineProblem && err.status === 423) {
          setLock({ state: "lost", holder: (err.problem.lockedBy as LockedBy | undefined) ?? null });
          setSave({ state: "error", message: describe(err) });
        } else {
          setSave({ state: "error", message: describe(err) });
        }
        return false;
      } finally {
        live.current.saving = null;
      }
    })();
    live.current.saving = run;
    return run;
  };

  // Drafts save themselves a moment after the last change.
  useEffect(() => {
    if (!dirty || !editable || article?.status !== "DRAFT" || save.state === "error") return;
    const timer = setTimeout(() => { void doSave(); }, AUTOSAVE_MS);
    return () => clearTimeout(timer);
  }, [form, dirty, editable, article?.status, save.state]);

  // Ctrl/Cmd+S saves.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); if (editable) void doSave(); }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [editable]);

  const set = <K extends keyof Fields>(k: K, v: Fields[K]) => {
    setForm((f) => (f ? { ...f, [k]: v } : f));
    if (save.state === "error") setSave({ state: "idle" });
  };

  // --- the conflict screen's two ways out ---
  const keepMine = async () => {
    if (!conflict || !form) return;
    live.current.etag = conflict.etag;
    setArticle(conflict.theirs);
    // Everything of mine that differs from theirs is sent: my version wins, field by field.
    const theirs = fieldsOf(conflict.theirs);
    live.current.base = theirs;
    live.current.conflict = null;
    setBase(theirs);
    setConflict(null);
    await doSave();
  };
  const takeTheirs = () => {
    if (!conflict) return;
    adopt(conflict.theirs, conflict.etag);
    setConflict(null);
  };

  /** Takes a version the server answered as the screen's (a restore): fields, body and baseline. */
  const adopt = (a: Article, etag: string) => {
    live.current.etag = etag;
    const f = fieldsOf(a);
    setArticle(a);
    rich.current?.setHtml(a.body);
    const body = rich.current?.html() ?? f.body;
    setForm({ ...f, body });
    setBase({ ...f, body });
    setSave({ state: "idle" });
  };

  const trash = async () => {
    if (!confirm("Move this article to the trash? An editor can restore it for 30 days.")) return;
    setBusy(true);
    setNotice(null);
    try {
      const r = await dateline.api.DELETE("/api/v1/admin/articles/{id}", { params: { path: { id }, header: { "If-Match": live.current.etag } } });
      if (!r.response.ok) throw toProblem(r.error, r.response);
      const { data, etag } = await withEtag(dateline.api.GET("/api/v1/admin/articles/{id}", { params: { path: { id } } }));
      adopt(data, etag);
      setNotice({ ok: true, text: "Moved to the trash." });
    } catch (err) {
      setNotice({ ok: false, text: `Moving to the trash failed: ${describe(err)}` });
    } finally {
      setBusy(false);
    }
  };

  // --- workflow ---
  const act = async (label: string, call: (etag: string) => Promise<{ data?: Article; error?: unknown; response: Response }>) => {
    setBusy(true);
    setNotice(null);
    try {
      if (dirty && editable && !(await doSave())) { setBusy(false); return; }
      const { data, etag } = await withEtag(call(live.current.etag));
      live.current.etag = etag;
      setArticle(data);
      setNotice({ ok: true, text: `${label}: now ${STATUS_LABELS[data.status].toLowerCase()}.` });
      if (data.status !== "SCHEDULED") setScheduleAt("");
      setReturnNote("");
    } catch (err) {
      if (err instanceof DatelineProblem && err.status === 412 && err.problem.current) {
        setConflict({ theirs: err.problem.current as unknown as Article, etag: String(err.problem.currentEtag) });
      } else {
        setNotice({ ok: false, text: `${label} failed: ${describe(err)}` });
      }
    } finally {
      setBusy(false);
    }
  };
  const p = (etag: string) => ({ params: { path: { id }, header: { "If-Match": etag } } });

  const makePreview = async () => {
    try {
      const link = await unwrap(dateline.api.POST("/api/v1/admin/articles/{id}/preview", { params: { path: { id } } }));
      setPreview(new URL(link.url, location.origin).href);
      setCopied(false);
    } catch (err) {
      setNotice({ ok: false, text: `Preview link failed: ${describe(err)}` });
    }
  };

  if (loadError) return <section><h1 tabIndex={-1}>Article</h1><p class="error" role="alert">{loadError}</p><p><a href={href("/")}>Back to the articles</a></p></section>;
  if (!article || !form) return <section><h1 tabIndex={-1}>Article</h1><p role="status">Loading…</p></section>;

  const status = article.status;
  const isAuthor = article.author.id === me.id;
  const can = {
    submit: status === "DRAFT" && (isAuthor || isEditorPlus),
    return: isEditorPlus && (status === "IN_REVIEW" || status === "SCHEDULED"),
    schedule: isEditorPlus && ["DRAFT", "IN_REVIEW", "SCHEDULED"].includes(status),
    publish: isEditorPlus && ["DRAFT", "IN_REVIEW", "SCHEDULED", "ARCHIVED"].includes(status),
    unpublish: isEditorPlus && status === "PUBLISHED",
    archive: isEditorPlus && !["ARCHIVED", "WITHDRAWN"].includes(status),
    trash: !trashed && (isEditorPlus || (isAuthor && ["DRAFT", "IN_REVIEW"].includes(status))),
    restore: trashed && isEditorPlus,
    withdraw: isEditorPlus && !trashed && (status === "PUBLISHED" || status === "ARCHIVED"),
    reinstate: me.role === "ADMIN" && status === "WITHDRAWN",
    correct: isEditorPlus && !trashed && (status === "PUBLISHED" || status === "ARCHIVED"),
  };
  const actionsOff = busy || trashed || lock.state === "other" || lock.state === "lost" || !!conflict;
  // A correction moves the article's version: re-read it, or the next save would meet a 412.
  const reread = async () => {
    try {
      const { data, etag } = await withEtag(dateline.api.GET("/api/v1/admin/articles/{id}", { params: { path: { id } } }));
      // A save may have answered meanwhile: an older version read here must not replace it.
      if (live.current.article && data.version < live.current.article.version) return;
      if (dirtyRef.current || live.current.saving) { live.current.etag = etag; setArticle(data); } else adopt(data, etag);
    } catch { /* the next save says what is wrong */ }
  };
  /** Saves one list-like part alone (lead image, related stories); the form's other changes stay as they are. */
  const savePart = async (body: Pick<Schemas["ArticleUpdate"], "leadImage" | "related" | "editors" | "authors" | "gallery" | "embargoedUntil">, what: string): Promise<boolean> => {
    try {
      const { data, etag } = await withEtag(dateline.api.PATCH("/api/v1/admin/articles/{id}", {
        params: { path: { id }, header: { "If-Match": live.current.etag } },
        body,
      }));
      live.current.etag = etag;
      setArticle(data);
      return true;
    } catch (err) {
      if (err instanceof DatelineProblem && err.status === 412 && err.problem.current) {
        setConflict({ theirs: err.problem.current as unknown as Article, etag: String(err.problem.currentEtag) });
      } else {
        setNotice({ ok: false, text: `${what} not saved: ${describe(err)}` });
      }
      return false;
    }
  };
  const restoreFromTrash = () => act("Restored from the trash", () => dateline.api.POST("/api/v1/admin/articles/{id}/restore", { params: { path: { id } } }));

  return (
    <section class="editor-screen">
      <div class="heading-row">
        <h1 tabIndex={-1}>{article.headline || "Untitled"}</h1>
        <span class={`status s-${status.toLowerCase()}`} data-testid="article-status">{trashed ? "In trash" : STATUS_LABELS[status]}</span>
        {article.embargoedUntil && <span class="status s-embargoed" data-testid="embargo-badge">Embargoed until {formatTime(article.embargoedUntil)}</span>}
      </div>
      <p class="meta muted">
        By {article.author.name} · {article.section.name} · version {article.version}
        {article.status === "SCHEDULED" && article.scheduledAt && <> · publishes {formatTime(article.scheduledAt)}</>}
        {article.publishedAt && <> · first published {formatTime(article.publishedAt)}</>}
      </p>

      {lock.state === "other" && (
        <div class="banner warn" role="alert" data-testid="lock-banner">
          {lock.holder ? <>{lock.holder.name} has been editing this article since {formatTime(lock.holder.since)}.</> : <>Someone else is editing this article.</>}
          {" "}You can read it; saving waits until they are done.
          {isEditorPlus && <button type="button" onClick={() => takeLock(true)}>Take over editing</button>}
        </div>
      )}
      {lock.state === "lost" && (
        <div class="banner warn" role="alert" data-testid="lock-banner">
          {lock.holder ? `${lock.holder.name} took over editing this article.` : "Someone else took over editing this article."} Your unsaved changes are kept on this screen; copy what you need.
          {isEditorPlus && <button type="button" onClick={() => takeLock(true)}>Take it back</button>}
        </div>
      )}
      {article.reviewNote && status === "DRAFT" && <div class="banner info"><strong>Returned with a note:</strong> {article.reviewNote}</div>}
      {notTheirs && !writerLocked && <div class="banner info">This article is {article.author.name}'s: you can read it; its writer or an editor can change it.</div>}
      {writerLocked && <div class="banner info">This article is {STATUS_LABELS[status].toLowerCase()}: an editor can change it.</div>}
      {article.warnings.length > 0 && <ul class="banner info">{article.warnings.map((w) => <li key={w.code}>{w.message}</li>)}</ul>}

      {conflict && <ConflictScreen theirs={conflict.theirs} mine={form} onKeepMine={keepMine} onTakeTheirs={takeTheirs} />}

      <div class="editor-layout" hidden={!!conflict}>
        <div class="main-col">
        <form class="fields" onSubmit={(e) => { e.preventDefault(); void doSave(); }} aria-label="Article">
          <fieldset disabled={!editable}>
            <legend class="sr-only">Article fields</legend>
            <label for="ed-headline">Headline</label>
            <input id="ed-headline" required maxLength={300} value={form.headline} onInput={(e) => set("headline", e.currentTarget.value)} />
            <label for="ed-summary">Summary</label>
            <textarea id="ed-summary" rows={3} value={form.summary} onInput={(e) => set("summary", e.currentTarget.value)} />
            <div class="row">
              <div class="field">
                <label for="ed-section">Section</label>
                <SectionSelect id="ed-section" sections={sections.length ? sections : [sectionStub(article)]} value={form.section} onChange={(v) => set("section", v)} required />
              </div>
              <div class="field">
                <label for="ed-kind">Kind</label>
                <select id="ed-kind" value={form.kind} onChange={(e) => set("kind", e.currentTarget.value as ArticleKind)}>
                  {Object.entries(KIND_LABELS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
                </select>
              </div>
            </div>
            <div class="row">
              <div class="field">
                <label for="ed-dateline">Dateline</label>
                <input id="ed-dateline" value={form.dateline} placeholder="CHENGDU" onInput={(e) => set("dateline", e.currentTarget.value)} />
              </div>
              <div class="field">
                <label for="ed-source">Source</label>
                <input id="ed-source" value={form.source} placeholder="Agency" onInput={(e) => set("source", e.currentTarget.value)} />
              </div>
            </div>
            <label for="ed-byline">Byline</label>
            <input id="ed-byline" value={form.byline} onInput={(e) => set("byline", e.currentTarget.value)} />
            <label for="ed-tags">Tags</label>
            <input id="ed-tags" value={form.tags} aria-describedby="ed-tags-hint" onInput={(e) => set("tags", e.currentTarget.value)} />
            <p id="ed-tags-hint" class="hint">Separated by commas; new tags are created.</p>
            <div class="field check">
              <input id="ed-comments-closed" type="checkbox" checked={form.commentsClosed} onChange={(e) => set("commentsClosed", e.currentTarget.checked)} />
              <label for="ed-comments-closed">Close to new reader comments</label>
            </div>
            <label for="ed-slug">Slug</label>
            <input id="ed-slug" value={form.slug} pattern="[a-z0-9]+(-[a-z0-9]+)*" aria-describedby="ed-slug-hint"
              onInput={(e) => set("slug", e.currentTarget.value)} />
            <p id="ed-slug-hint" class="hint">Lower-case letters, digits and hyphens: the public address of the article.</p>
          </fieldset>
          <div class="body-field">
            <span class="label" id="ed-body-label">Body</span>
            <RichTextField handle={rich} html={article.body} editable={editable} labelledBy="ed-body-label"
              onReady={(html) => { setForm((f) => (f ? { ...f, body: html } : f)); setBase((b) => (b ? { ...b, body: html } : b)); }}
              onChange={(html) => set("body", html)} />
          </div>
          <div class="savebar">
            <button type="submit" class="primary" disabled={!editable || !dirty || save.state === "saving"}>Save</button>
            <span role="status" data-testid="save-state" class={save.state === "error" ? "error-text" : "muted"}>
              {save.state === "saving" ? "Saving…"
                : save.state === "error" ? `Not saved: ${save.message}`
                : dirty ? (status === "DRAFT" && editable ? "Unsaved changes (saving shortly)" : "Unsaved changes")
                : save.state === "saved" ? `Saved at ${save.at.toLocaleTimeString()}` : "No changes"}
            </span>
          </div>
        </form>
        <LeadImage article={article} editable={editable} save={(leadImage) => savePart({ leadImage }, "The lead image was")} />
        <Gallery article={article} kind={form.kind} editable={editable} save={(gallery) => savePart({ gallery }, "The gallery was")} />
        <EditorCredits article={article} editable={editable} save={(editors) => savePart({ editors }, "The editor credits were")} />
        <AuthorCredits article={article} editable={editable} save={(authors) => savePart({ authors }, "The author credits were")} />
        <Related article={article} editable={editable} save={(related) => savePart({ related }, "The related stories were")} />
        <LiveEntries article={article} me={me} />
        </div>

        <aside class="workflow" aria-labelledby="wf-title">
          <h2 id="wf-title">Workflow</h2>
          {notice && <p class={notice.ok ? "ok" : "error"} role={notice.ok ? "status" : "alert"}>{notice.text}</p>}
          {lock.state === "mine" && <p class="muted small" data-testid="lock-state">You hold the edit lock.</p>}
          <div class="actions">
            {can.submit && <button type="button" class="primary" disabled={actionsOff} onClick={() => act("Submitted", (e) => dateline.api.POST("/api/v1/admin/articles/{id}/submit", p(e)))}>Submit for review</button>}
            {can.publish && <button type="button" class="primary" disabled={actionsOff} onClick={() => act("Published", (e) => dateline.api.POST("/api/v1/admin/articles/{id}/publish", p(e)))}>Publish now</button>}
            {can.unpublish && <button type="button" disabled={actionsOff} onClick={() => act("Unpublished", (e) => dateline.api.POST("/api/v1/admin/articles/{id}/unpublish", p(e)))}>Unpublish</button>}
            {can.archive && <button type="button" disabled={actionsOff} onClick={() => act("Archived", (e) => dateline.api.POST("/api/v1/admin/articles/{id}/archive", p(e)))}>Archive</button>}
          </div>
          {can.schedule && (
            <form class="sub" onSubmit={(e) => { e.preventDefault(); if (scheduleAt) void act("Scheduled", (et) => dateline.api.POST("/api/v1/admin/articles/{id}/schedule", { ...p(et), body: { scheduledAt: fromSiteLocal(scheduleAt).toISOString() } })); }}>
              <label for="wf-schedule">Publish at <span class="muted small">(site time, {SITE_TIME_ZONE})</span></label>
              <input id="wf-schedule" type="datetime-local" required value={scheduleAt} min={toSiteLocal(new Date())}
                onInput={(e) => setScheduleAt(e.currentTarget.value)} />
              <button type="submit" disabled={actionsOff}>Schedule</button>
            </form>
          )}
          {!trashed && <Embargo article={article} editable={editable && !busy} save={(embargoedUntil) => savePart({ embargoedUntil }, "The embargo was")} />}
          {can.return && (
            <form class="sub" onSubmit={(e) => { e.preventDefault(); void act("Returned", (et) => dateline.api.POST("/api/v1/admin/articles/{id}/return", { ...p(et), body: { note: returnNote } })); }}>
              <label for="wf-note">Note to the writer</label>
              <textarea id="wf-note" rows={2} required value={returnNote} onInput={(e) => setReturnNote(e.currentTarget.value)} />
              <button type="submit" disabled={actionsOff}>Return to writer</button>
            </form>
          )}
          {can.reinstate && <button type="button" class="primary" disabled={busy} onClick={() => act("Reinstated", (e) => dateline.api.POST("/api/v1/admin/articles/{id}/reinstate", { ...p(e), body: {} }))}>Reinstate</button>}
          {status === "WITHDRAWN" && article.withdrawalReason && <p class="banner info">Withdrawn {formatTime(article.withdrawnAt)}: {article.withdrawalReason}</p>}
          {trashed && <p class="banner info" data-testid="trashed">In the trash since {formatTime(article.deletedAt)}.</p>}
          {can.restore && <button type="button" class="primary" disabled={busy} onClick={restoreFromTrash}>Restore from the trash</button>}
          <div class="sub">
            <button type="button" onClick={makePreview} disabled={trashed}>Preview link</button>
            {preview && (
              <div class="small preview-link">
                <label for="wf-preview-url">Preview link (valid 24 hours)</label>
                <div class="row">
                  <input id="wf-preview-url" type="url" readOnly value={preview} onFocus={(e) => e.currentTarget.select()} />
                  <button type="button" onClick={() => copyPreview(preview)}>Copy</button>
                </div>
                <a href={preview} target="_blank" rel="noopener noreferrer">Open the preview</a>
                {copied && <span role="status" class="muted"> Copied.</span>}
              </div>
            )}
          </div>
          {(can.correct || status === "PUBLISHED" || status === "ARCHIVED" || status === "WITHDRAWN") && <Corrections id={id} canAdd={can.correct} onAdded={reread} />}
          {can.withdraw && (
            <details class="sub">
              <summary>Withdraw</summary>
              <form onSubmit={(e) => {
                e.preventDefault();
                if (confirm("Withdraw this story? Its page answers 410 Gone with the reason, and only an admin can reinstate it.")) {
                  void act("Withdrawn", (et) => dateline.api.POST("/api/v1/admin/articles/{id}/withdraw", { ...p(et), body: { reason: withdrawReason } }));
                }
              }}>
                <p class="hint">A legal or ethical kill: the page answers 410 Gone with this reason, public.</p>
                <label for="wf-withdraw">Reason (shown to readers)</label>
                <textarea id="wf-withdraw" rows={2} required value={withdrawReason} onInput={(e) => setWithdrawReason(e.currentTarget.value)} />
                <button type="submit" class="danger" disabled={busy || trashed || !!conflict}>Withdraw story</button>
              </form>
            </details>
          )}
          <History id={id} version={article.version} canRestore={editable} etag={() => live.current.etag} onRestored={(a, e) => { adopt(a, e); setNotice({ ok: true, text: "Restored: the content of that version is saved as a new one." }); }} />
          {can.trash && (
            <div class="sub">
              <button type="button" class="danger" disabled={actionsOff} onClick={trash}>Move to trash</button>
            </div>
          )}
        </aside>
      </div>
    </section>
  );
}

function sectionStub(a: Article): Section {
  return { ...a.section, description: "", position: 0, parent: null, leadArticleId: null, language: null, version: 0, createdAt: a.createdAt, updatedAt: a.createdAt };
}

// Sections and their fronts (EDITOR+ sees the tree and pins leads; ADMIN also creates, edits, moves
// and deletes sections). The tree is nested lists, indented by depth. Each section's front panel shows
// the pinned lead story and finds published stories of the section (and its sub-sections) to pin;
// edits and deletes send If-Match, and a 412 reloads the tree and says so, keeping what was typed.
import "./collections.css";
import { useEffect, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, DatelineProblem, forgetSections, sectionTree, STATUS_LABELS, type Article, type Editor, type Section } from "../api.ts";
import { href } from "../router.ts";
import { focusSoon, slugify, SLUG_PATTERN } from "./Collections.tsx";

type Message = { ok: boolean; text: string } | null;
type Panel = { id: number; kind: "front" | "edit" } | null;
/** A pinned lead's article; null when it could not be read (purged). */
type Leads = Record<number, Article | null>;

function Status({ message }: { message: Message }) {
  if (!message) return null;
  return <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>;
}

export function Sections({ me }: { me: Editor }) {
  const isAdmin = me.role === "ADMIN";
  const [sections, setSections] = useState<Section[] | null>(null);
  const [leads, setLeads] = useState<Leads>({});
  const [panel, setPanel] = useState<Panel>(null);
  const [message, setMessage] = useState<Message>(null);

  const readLeads = async (list: Section[], known: Leads) => {
    const missing = [...new Set(list.map((s) => s.leadArticleId).filter((id): id is number => id !== null && !(id in known)))];
    if (!missing.length) return;
    const found = await Promise.all(missing.map(async (id) => {
      const r = await dateline.api.GET("/api/v1/admin/articles/{id}", { params: { path: { id } } });
      return [id, r.data ?? null] as const;
    }));
    setLeads((l) => ({ ...l, ...Object.fromEntries(found) }));
  };

  const load = async (): Promise<Section[] | null> => {
    try {
      const list = (await unwrap(dateline.api.GET("/api/v1/admin/sections"))).data;
      setSections(list);
      forgetSections();
      void readLeads(list, leads);
      return list;
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
      return null;
    }
  };
  useEffect(() => { void load(); }, []);

  if (!sections) {
    return <section class="sections"><h1 tabIndex={-1}>Sections</h1><Status message={message} />{!message && <p role="status">Loading the sections…</p>}</section>;
  }

  const flat = sectionTree(sections);
  const ids = new Set(sections.map((s) => s.id));
  const children = new Map<number | null, Section[]>();
  for (const { section } of flat) {
    const key = section.parent && ids.has(section.parent.id) ? section.parent.id : null;
    if (!children.has(key)) children.set(key, []);
    children.get(key)!.push(section);
  }
  const descendants = (id: number): Set<number> => {
    const out = new Set<number>([id]);
    const walk = (p: number) => { for (const c of children.get(p) ?? []) { out.add(c.id); walk(c.id); } };
    walk(id);
    return out;
  };

  const replace = (s: Section) => {
    setSections((list) => list?.map((x) => (x.id === s.id ? s : x)) ?? null);
    forgetSections();
  };

  const toggle = (id: number, kind: "front" | "edit") => {
    setMessage(null);
    setPanel((p) => (p?.id === id && p.kind === kind ? null : { id, kind }));
  };

  const remove = async (s: Section) => {
    setMessage(null);
    if (!confirm(`Delete the section “${s.name}”? Only an empty section (no sub-sections, no articles) can be deleted.`)) return;
    try {
      await unwrap(dateline.api.DELETE("/api/v1/admin/sections/{id}", { params: { path: { id: s.id }, header: { "If-Match": `"${s.version}"` } } }));
      if (panel?.id === s.id) setPanel(null);
      await load();
      setMessage({ ok: true, text: `Deleted the section ${s.name}.` });
      focusSoon(() => document.querySelector<HTMLElement>("main h1"));
    } catch (err) {
      if (err instanceof DatelineProblem && err.status === 412) {
        await load();
        setMessage({ ok: false, text: `${s.name} was changed by someone else meanwhile; the tree was reloaded. Check it and delete again if still wanted.` });
      } else {
        setMessage({ ok: false, text: `${s.name}: ${describe(err)}` });
      }
    }
  };

  const renderList = (parent: number | null, depth: number) => {
    const list = children.get(parent);
    if (!list?.length) return null;
    return (
      <ul class={depth === 0 ? "section-tree" : "section-children"} aria-label={depth === 0 ? "Section tree" : undefined} data-testid={depth === 0 ? "section-tree" : undefined}>
        {list.map((s) => {
          const lead = s.leadArticleId === null ? undefined : leads[s.leadArticleId];
          const frontOpen = panel?.id === s.id && panel.kind === "front";
          const editOpen = panel?.id === s.id && panel.kind === "edit";
          return (
            <li key={s.id} data-testid={`section-${s.slug}`}>
              <div class="section-row">
                <span class="section-name">{s.name}</span>
                <code class="muted small">{s.slug}</code>
                <span class="lead-summary small" data-testid={`lead-${s.slug}`}>
                  {s.leadArticleId === null ? <span class="muted">Lead chosen automatically</span>
                    : lead === undefined ? "Lead pinned"
                    : lead === null ? "Lead pinned (the story is gone)"
                    : <>Lead pinned: {lead.headline}</>}
                </span>
                <span class="row-actions">
                  <button type="button" aria-expanded={frontOpen} aria-controls={`panel-${s.id}`} aria-label={`Front of ${s.name}`}
                    onClick={() => toggle(s.id, "front")}>Front</button>
                  {isAdmin && <button type="button" class="edit-button" aria-expanded={editOpen} aria-controls={`panel-${s.id}`} aria-label={`Edit ${s.name}`}
                    onClick={() => toggle(s.id, "edit")}>Edit</button>}
                  {isAdmin && <button type="button" class="danger" aria-label={`Delete ${s.name}`} onClick={() => remove(s)}>Delete</button>}
                </span>
              </div>
              {frontOpen && <FrontPanel key={`f${s.id}`} section={s} lead={lead}
                onChanged={(next, article) => { replace(next); if (article && next.leadArticleId) setLeads((l) => ({ ...l, [next.leadArticleId!]: article })); }} />}
              {editOpen && <EditPanel key={`e${s.id}`} section={s} flat={flat} exclude={descendants(s.id)} reload={load}
                onSaved={async (next) => {
                  await load(); setPanel(null); setMessage({ ok: true, text: `Saved the section ${next.name}.` });
                  focusSoon(() => document.querySelector<HTMLElement>(`[data-testid="section-${next.slug}"] .edit-button`));
                }}
                onCancel={() => { setPanel(null); focusSoon(() => document.querySelector<HTMLElement>(`[data-testid="section-${s.slug}"] .edit-button`)); }} />}
              {renderList(s.id, depth + 1)}
            </li>
          );
        })}
      </ul>
    );
  };

  return (
    <section class="sections">
      <h1 tabIndex={-1}>Sections</h1>
      <p class="muted">{isAdmin
        ? "The site's sections. Open a section's front to pin its lead story; edit to rename or move it."
        : "The site's sections. Open a section's front to pin its lead story. Only an admin changes the sections themselves."}</p>
      <Status message={message} />
      {sections.length === 0 ? <p class="empty">No sections yet.</p> : renderList(null, 0)}
      {isAdmin && <NewSection flat={flat} onCreated={async (s) => { await load(); setMessage({ ok: true, text: `Created the section ${s.name}.` }); }} />}
    </section>
  );
}

function FrontPanel(props: { section: Section; lead: Article | null | undefined; onChanged: (s: Section, article?: Article) => void }) {
  const { section, lead } = props;
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Article[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);

  const find = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      const query = { status: "PUBLISHED" as const, section: section.slug, limit: 10, ...(q.trim() ? { q: q.trim() } : {}) };
      setResults((await unwrap(dateline.api.GET("/api/v1/admin/articles", { params: { query } }))).data);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  const pin = async (a: Article) => {
    setMessage(null);
    setBusy(true);
    try {
      const s = await unwrap(dateline.api.PUT("/api/v1/admin/sections/{id}/lead", { params: { path: { id: section.id } }, body: { articleId: a.id } }));
      props.onChanged(s, a);
      setMessage({ ok: true, text: `Pinned as the lead of ${section.name}: ${a.headline}.` });
      focusSoon(() => document.querySelector<HTMLElement>(`#panel-${section.id} .unpin`));
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
    setBusy(false);
  };

  const unpin = async () => {
    setMessage(null);
    setBusy(true);
    try {
      const s = await unwrap(dateline.api.DELETE("/api/v1/admin/sections/{id}/lead", { params: { path: { id: section.id } } }));
      props.onChanged(s);
      setMessage({ ok: true, text: `Unpinned: the front of ${section.name} chooses its lead automatically again.` });
      focusSoon(() => document.getElementById(`front-q-${section.id}`));
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
    setBusy(false);
  };

  const qId = `front-q-${section.id}`;
  return (
    <div class="section-panel" id={`panel-${section.id}`} data-testid="front-panel">
      <h3>Front of {section.name}</h3>
      {section.leadArticleId === null ? (
        <p class="pinned">No lead pinned: the front leads with the newest story that has a lead image, else the newest story.</p>
      ) : (
        <p class="pinned" data-testid="pinned-lead">
          Pinned lead:{" "}
          {lead ? <><a href={href(`/articles/${lead.id}`)}>{lead.headline}</a>{" "}
            <span class={`status s-${lead.status.toLowerCase()}`}>{STATUS_LABELS[lead.status]}</span>
            {lead.status !== "PUBLISHED" && <span class="muted small"> (not shown until it is published again)</span>}</>
            : lead === null ? "a story that no longer exists" : "…"}
          {" "}<button type="button" class="unpin" disabled={busy} onClick={unpin}>Unpin</button>
        </p>
      )}
      <Status message={message} />
      <form onSubmit={find} class="inline-search" role="search" aria-label={`Find a story for the front of ${section.name}`}>
        <label for={qId}>Find a published story in {section.name} and its sub-sections</label>
        <div class="row">
          <input id={qId} type="search" value={q} maxLength={500} aria-describedby={`${qId}-hint`} onInput={(e) => setQ(e.currentTarget.value)} />
          <button type="submit">Find</button>
        </div>
        <p id={`${qId}-hint`} class="hint">Leave it empty for the newest published stories.</p>
      </form>
      {results && (results.length === 0 ? <p class="muted small" role="status">No published stories found.</p> : (
        <ul class="results" aria-label="Published stories found">
          {results.map((a) => (
            <li key={a.id}>
              <span>{a.headline}</span> <span class="muted small">({a.section.name})</span>
              {a.id === section.leadArticleId
                ? <span class="muted small"> the pinned lead</span>
                : <button type="button" disabled={busy} aria-label={`Pin as lead: ${a.headline}`} onClick={() => pin(a)}>Pin as lead</button>}
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}

type SectionForm = { name: string; slug: string; description: string; parent: string; position: string; language: string };

function formOf(s: Section): SectionForm {
  return { name: s.name, slug: s.slug, description: s.description, parent: s.parent?.slug ?? "", position: String(s.position), language: s.language ?? "" };
}

function SectionFields(props: { prefix: string; form: SectionForm; set: (f: SectionForm) => void; flat: { section: Section; depth: number }[]; exclude?: Set<number>; onName?: (v: string) => void }) {
  const { prefix: p, form, set } = props;
  return (
    <div class="section-fields">
      <div>
        <label for={`${p}-name`}>Name</label>
        <input id={`${p}-name`} required maxLength={120} value={form.name}
          onInput={(e) => (props.onName ? props.onName(e.currentTarget.value) : set({ ...form, name: e.currentTarget.value }))} />
      </div>
      <div>
        <label for={`${p}-slug`}>Slug</label>
        <input id={`${p}-slug`} required maxLength={120} pattern={SLUG_PATTERN} value={form.slug} onInput={(e) => set({ ...form, slug: e.currentTarget.value })} />
      </div>
      <div>
        <label for={`${p}-parent`}>Parent section</label>
        <select id={`${p}-parent`} value={form.parent} onChange={(e) => set({ ...form, parent: e.currentTarget.value })}>
          <option value="">None (top level)</option>
          {props.flat.filter(({ section }) => !props.exclude?.has(section.id)).map(({ section, depth }) => (
            <option key={section.id} value={section.slug}>{"\u2003".repeat(depth)}{section.name}</option>
          ))}
        </select>
      </div>
      <div>
        <label for={`${p}-position`}>Position</label>
        <input id={`${p}-position`} type="number" min={-100000} max={100000} step={1} aria-describedby={`${p}-position-hint`} value={form.position}
          onInput={(e) => set({ ...form, position: e.currentTarget.value })} />
        <p id={`${p}-position-hint`} class="hint">Lower numbers come first among sections with the same parent.</p>
      </div>
      <div>
        <label for={`${p}-language`}>Language</label>
        <input id={`${p}-language`} maxLength={35} aria-describedby={`${p}-language-hint`} value={form.language}
          onInput={(e) => set({ ...form, language: e.currentTarget.value })} />
        <p id={`${p}-language-hint`} class="hint">A language tag such as en or zh-Hans; empty: the parent's (else the site's).</p>
      </div>
      <div class="wide">
        <label for={`${p}-description`}>Description</label>
        <textarea id={`${p}-description`} rows={2} maxLength={1000} value={form.description} onInput={(e) => set({ ...form, description: e.currentTarget.value })} />
      </div>
    </div>
  );
}

function EditPanel(props: {
  section: Section; flat: { section: Section; depth: number }[]; exclude: Set<number>;
  reload: () => Promise<Section[] | null>; onSaved: (s: Section) => void | Promise<void>; onCancel: () => void;
}) {
  const { section } = props;
  const [form, setForm] = useState<SectionForm>(() => formOf(section));
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);

  const save = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    const body: Schemas["SectionUpdate"] = {};
    if (form.name.trim() !== section.name) body.name = form.name.trim();
    if (form.slug !== section.slug) body.slug = form.slug;
    if (form.description !== section.description) body.description = form.description;
    if (form.parent !== (section.parent?.slug ?? "")) body.parent = form.parent || null;
    if (form.position.trim() !== "" && Number(form.position) !== section.position) body.position = Number(form.position);
    if (form.language.trim() !== (section.language ?? "")) body.language = form.language.trim() || null;
    if (!Object.keys(body).length) { setMessage({ ok: true, text: "Nothing to save." }); return; }
    setBusy(true);
    try {
      const s = await unwrap(dateline.api.PATCH("/api/v1/admin/sections/{id}", {
        params: { path: { id: section.id }, header: { "If-Match": `"${section.version}"` } }, body,
      }));
      props.onSaved(s);
    } catch (err) {
      if (err instanceof DatelineProblem && err.status === 412) {
        await props.reload();
        setMessage({ ok: false, text: `Someone else changed ${section.name} after you opened it, and the tree was reloaded. What you typed is still here: save again to apply it over their change, or cancel.` });
      } else {
        setMessage({ ok: false, text: describe(err) });
      }
    }
    setBusy(false);
  };

  return (
    <form class="section-panel" id={`panel-${section.id}`} onSubmit={save} aria-label={`Edit ${section.name}`} data-testid="edit-panel">
      <h3>Edit {section.name}</h3>
      <Status message={message} />
      <SectionFields prefix={`es-${section.id}`} form={form} set={setForm} flat={props.flat} exclude={props.exclude} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>Save section</button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function NewSection(props: { flat: { section: Section; depth: number }[]; onCreated: (s: Section) => Promise<void> }) {
  const empty: SectionForm = { name: "", slug: "", description: "", parent: "", position: "0", language: "" };
  const [form, setForm] = useState<SectionForm>(empty);
  const [slugTouched, setSlugTouched] = useState(false);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setBusy(true);
    try {
      const body: Schemas["SectionCreate"] = {
        name: form.name.trim(), slug: form.slug, description: form.description,
        parent: form.parent || null, position: Number(form.position) || 0,
        ...(form.language.trim() ? { language: form.language.trim() } : {}),
      };
      const s = await unwrap(dateline.api.POST("/api/v1/admin/sections", { body }));
      setForm(empty);
      setSlugTouched(false);
      await props.onCreated(s);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
    setBusy(false);
  };

  return (
    <form class="card new-section" onSubmit={create}>
      <h2>New section</h2>
      <Status message={message} />
      <SectionFields prefix="ns" form={form} flat={props.flat}
        set={(f) => { if (f.slug !== form.slug) setSlugTouched(true); setForm(f); }}
        onName={(v) => setForm({ ...form, name: v, slug: slugTouched ? form.slug : slugify(v) })} />
      <button type="submit" class="primary" disabled={busy}>Create section</button>
    </form>
  );
}

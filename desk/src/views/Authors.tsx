import "./editor-extras.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { toProblem, unwrap, type Schemas } from "@dateline/client";
import { dateline, DatelineProblem, describe, type Editor } from "../api.ts";
import { MediaPicker } from "./MediaPicker.tsx";

type Author = Schemas["Author"];
type Link = Schemas["AuthorLink"];
interface Draft { slug: string; name: string; bio: string; photo: Author["photo"]; links: Link[] }

const empty: Draft = { slug: "", name: "", bio: "", photo: null, links: [] };
const slugOf = (name: string) => name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120);

/**
 * Author profiles (the people credited on bylines, with their public page): listed and searched by
 * every role; created, edited and deleted by an EDITOR or ADMIN (the server decides too).
 */
export function Authors({ me }: { me: Editor }) {
  const canEdit = me.role !== "WRITER";
  const [items, setItems] = useState<Author[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [q, setQ] = useState("");
  const [loading, setLoading] = useState(true);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [editing, setEditing] = useState<Author | "new" | null>(null);
  const gen = useRef(0);

  const load = async (after: string | null, query = q) => {
    const g = ++gen.current;
    setLoading(true);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/authors", {
        params: { query: { limit: 50, ...(query.trim() ? { q: query.trim() } : {}), ...(after ? { cursor: after } : {}) } },
      }));
      if (g !== gen.current) return;
      setItems((prev) => (after ? [...prev, ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      if (g === gen.current) setMessage({ ok: false, text: describe(err) });
    } finally {
      if (g === gen.current) setLoading(false);
    }
  };
  useEffect(() => { void load(null); }, []);

  const onSaved = (a: Author, created: boolean) => {
    setItems((prev) => (created ? [a, ...prev] : prev.map((x) => (x.id === a.id ? a : x))));
    setEditing(null);
    setMessage({ ok: true, text: created ? `Profile created: ${a.name}.` : `Profile saved: ${a.name}.` });
  };
  const remove = async (a: Author) => {
    if (!confirm(`Delete the profile of ${a.name}? Its credits are removed from articles.`)) return;
    setMessage(null);
    const r = await dateline.api.DELETE("/api/v1/admin/authors/{id}", { params: { path: { id: a.id }, header: { "If-Match": `"${a.version}"` } } });
    if (r.response.ok) {
      setItems((prev) => prev.filter((x) => x.id !== a.id));
      setMessage({ ok: true, text: `Profile deleted: ${a.name}.` });
    } else {
      setMessage({ ok: false, text: `Not deleted: ${describe(toProblem(r.error, r.response))}` });
    }
  };

  return (
    <section class="authors-page">
      <div class="heading-row">
        <h1 tabIndex={-1}>Authors</h1>
        {canEdit && editing === null && <button type="button" class="primary" onClick={() => { setEditing("new"); setMessage(null); }}>New profile</button>}
      </div>
      <p class="hint">The profiles credited on bylines, each with a public author page.{canEdit ? "" : " An editor creates and changes them."}</p>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {editing !== null && <AuthorForm author={editing === "new" ? null : editing} onSaved={onSaved} onCancel={() => setEditing(null)} />}
      <form class="filters" role="search" aria-label="Author profiles" onSubmit={(e) => { e.preventDefault(); void load(null); }}>
        <div class="field">
          <label for="au-q">Find a profile by name</label>
          <input id="au-q" type="search" value={q} maxLength={200} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
        <button type="submit">Search</button>
      </form>
      {!loading && items.length === 0 ? <p class="empty" role="status">No author profiles{q.trim() ? " found" : " yet"}.</p> : (
        <table data-testid="author-table">
          <caption class="sr-only">Author profiles</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Links</th>{canEdit && <th scope="col"><span class="sr-only">Actions</span></th>}</tr></thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id}>
                <td><strong>{a.name}</strong>{a.bio && <p class="snippet">{a.bio.length > 160 ? `${a.bio.slice(0, 160)}…` : a.bio}</p>}</td>
                <td>{a.slug}</td>
                <td>{a.links.length ? a.links.map((l) => l.label).join(", ") : <span class="muted">None</span>}</td>
                {canEdit && (
                  <td>
                    <button type="button" aria-label={`Edit profile: ${a.name}`} onClick={() => { setEditing(a); setMessage(null); }}>Edit</button>{" "}
                    <button type="button" class="danger" aria-label={`Delete profile: ${a.name}`} onClick={() => remove(a)}>Delete</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loading && <p class="muted" role="status">Loading…</p>}
      {cursor && !loading && <button type="button" onClick={() => load(cursor)}>Load more</button>}
    </section>
  );
}

function AuthorForm(props: { author: Author | null; onSaved: (a: Author, created: boolean) => void; onCancel: () => void }) {
  const a = props.author;
  const [d, setD] = useState<Draft>(a ? { slug: a.slug, name: a.name, bio: a.bio, photo: a.photo, links: a.links } : empty);
  const [slugTouched, setSlugTouched] = useState(!!a);
  const [picking, setPicking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => { heading.current?.focus(); }, []);

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const setLink = (i: number, patch: Partial<Link>) => set("links", d.links.map((l, j) => (j === i ? { ...l, ...patch } : l)));

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body = { slug: d.slug, name: d.name, bio: d.bio, photo: d.photo?.id ?? null, links: d.links.filter((l) => l.label.trim() || l.url.trim()) };
    try {
      if (a) {
        const saved = await unwrap(dateline.api.PATCH("/api/v1/admin/authors/{id}", { params: { path: { id: a.id }, header: { "If-Match": `"${a.version}"` } }, body }));
        props.onSaved(saved, false);
      } else {
        props.onSaved(await unwrap(dateline.api.POST("/api/v1/admin/authors", { body })), true);
      }
    } catch (err) {
      setError(err instanceof DatelineProblem && err.status === 412 ? "Someone changed this profile meanwhile: cancel and open it again." : describe(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card author-form" onSubmit={submit} aria-labelledby="au-form-title">
      <h2 id="au-form-title" ref={heading} tabIndex={-1}>{a ? `Edit profile: ${a.name}` : "New author profile"}</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <fieldset disabled={busy}>
        <legend class="sr-only">Profile</legend>
        <label for="au-name">Name</label>
        <input id="au-name" required maxLength={200} value={d.name}
          onInput={(e) => { const v = e.currentTarget.value; setD((x) => ({ ...x, name: v, ...(slugTouched ? {} : { slug: slugOf(v) }) })); }} />
        <label for="au-slug">Slug</label>
        <input id="au-slug" required maxLength={120} pattern="[a-z0-9]+(-[a-z0-9]+)*" aria-describedby="au-slug-hint" value={d.slug}
          onInput={(e) => { setSlugTouched(true); set("slug", e.currentTarget.value); }} />
        <p id="au-slug-hint" class="hint">Lower-case letters, digits and hyphens, with a letter: the author page's address.</p>
        <label for="au-bio">Biography</label>
        <textarea id="au-bio" rows={3} maxLength={5000} value={d.bio} onInput={(e) => set("bio", e.currentTarget.value)} />
        <span class="label" id="au-photo-label">Photo</span>
        <div role="group" aria-labelledby="au-photo-label">
          {d.photo ? (
            <p class="credit-line"><img src={d.photo.url} alt={d.photo.alt} width={64} height={64} class="author-photo" />
              <button type="button" onClick={() => set("photo", null)}>Remove photo</button></p>
          ) : <p class="muted small">None.</p>}
          <button type="button" aria-expanded={picking} onClick={() => setPicking((p) => !p)}>{picking ? "Close the media library" : "Choose a photo from the media library"}</button>
          {picking && <MediaPicker label="Photos" selected={d.photo?.id ?? null} onPick={(m) => { set("photo", { id: m.id, url: m.url, width: m.width, height: m.height, mimeType: m.mimeType, caption: m.caption, credit: m.credit, alt: m.alt }); setPicking(false); }} />}
        </div>
        <span class="label" id="au-links-label">Links</span>
        <ul class="link-rows" aria-labelledby="au-links-label">
          {d.links.map((l, i) => (
            <li key={i}>
              <div class="field"><label for={`au-link-label-${i}`}>Label of link {i + 1}</label>
                <input id={`au-link-label-${i}`} required maxLength={100} value={l.label} onInput={(e) => setLink(i, { label: e.currentTarget.value })} /></div>
              <div class="field"><label for={`au-link-url-${i}`}>Address of link {i + 1}</label>
                <input id={`au-link-url-${i}`} type="url" required maxLength={2000} placeholder="https://" value={l.url} onInput={(e) => setLink(i, { url: e.currentTarget.value })} /></div>
              <button type="button" aria-label={`Remove link ${i + 1}`} onClick={() => set("links", d.links.filter((_, j) => j !== i))}>Remove</button>
            </li>
          ))}
        </ul>
        {d.links.length < 20 && <button type="button" onClick={() => set("links", [...d.links, { label: "", url: "" }])}>Add a link</button>}
        <div class="actions">
          <button type="submit" class="primary">{a ? "Save profile" : "Create profile"}</button>
          <button type="button" onClick={props.onCancel}>Cancel</button>
        </div>
      </fieldset>
    </form>
  );
}

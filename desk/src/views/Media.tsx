import { useEffect, useRef, useState } from "preact/hooks";
import { toFormData, toProblem, unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, type Editor } from "../api.ts";
import "./media.css";

type Media = Schemas["AdminMedia"];

/**
 * An image's alt text, caption and credit, edited in place. The server shows the new text in every
 * published story using the image at once, so only EDITOR+ get the form (the server decides too).
 */
function EditMedia({ media, onSaved, onClose }: { media: Media; onSaved: (m: Media) => void; onClose: () => void }) {
  const [alt, setAlt] = useState(media.alt);
  const [caption, setCaption] = useState(media.caption);
  const [credit, setCredit] = useState(media.credit);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => { first.current?.focus(); }, []);
  const id = (f: string) => `md-edit-${media.id}-${f}`;

  const save = async (e: Event) => {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      onSaved(await unwrap(dateline.api.PATCH("/api/v1/admin/media/{id}", { params: { path: { id: media.id } }, body: { alt, caption, credit } })));
    } catch (err) {
      setError(`Not saved: ${describe(err)}`);
      setSaving(false);
    }
  };

  return (
    <form class="media-edit" aria-label={`Edit image: ${media.alt || media.id}`} onSubmit={save}
      onKeyDown={(e) => { if (e.key === "Escape") { e.preventDefault(); onClose(); } }}>
      <div class="field">
        <label for={id("alt")}>Alt text</label>
        <input ref={first} id={id("alt")} required maxLength={500} value={alt} onInput={(e) => setAlt(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id("caption")}>Caption</label>
        <textarea id={id("caption")} rows={2} maxLength={1000} value={caption} onInput={(e) => setCaption(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={id("credit")}>Credit</label>
        <input id={id("credit")} maxLength={200} value={credit} onInput={(e) => setCredit(e.currentTarget.value)} />
      </div>
      {error && <p class="error small" role="alert">{error}</p>}
      <div class="media-edit-actions">
        <button type="submit" class="primary" disabled={saving}>Save</button>
        <button type="button" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}

/** The media library: every uploaded image, newest first; upload one; an EDITOR+ edits its text or deletes one. */
export function MediaLibrary({ me }: { me: Editor }) {
  const canDelete = me.role !== "WRITER";
  const canEdit = canDelete;
  const [editing, setEditing] = useState<number | null>(null);
  const editButtons = useRef(new Map<number, HTMLButtonElement>());
  /** Closes the form and gives the keyboard back to the image's Edit button. */
  const closeEdit = (id: number) => {
    setEditing(null);
    setTimeout(() => editButtons.current.get(id)?.focus());
  };
  const [items, setItems] = useState<Media[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [alt, setAlt] = useState("");
  const [caption, setCaption] = useState("");
  const [credit, setCredit] = useState("");
  const [inputKey, setInputKey] = useState(0);
  const gen = useRef(0);

  const load = async (after: string | null) => {
    const g = ++gen.current;
    setLoading(true);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/media", { params: { query: { limit: 24, ...(after ? { cursor: after } : {}) } } }));
      if (g !== gen.current) return;
      setItems((prev) => (after ? [...prev, ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    } finally {
      if (g === gen.current) setLoading(false);
    }
  };
  useEffect(() => { void load(null); }, []);

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setMessage(null);
    try {
      const media = await unwrap(dateline.api.POST("/api/v1/admin/media", { body: { file, alt, caption, credit }, bodySerializer: toFormData }));
      setItems((prev) => [media, ...prev]);
      setMessage({ ok: true, text: `Uploaded: ${media.alt || "image"} (${media.width}×${media.height}).` });
      setFile(null); setAlt(""); setCaption(""); setCredit(""); setInputKey((k) => k + 1);
    } catch (err) {
      setMessage({ ok: false, text: `Upload failed: ${describe(err)}` });
    }
  };

  const remove = async (m: Media) => {
    if (!confirm("Delete this image? Its file stops being served.")) return;
    setMessage(null);
    const r = await dateline.api.DELETE("/api/v1/admin/media/{id}", { params: { path: { id: m.id } } });
    if (r.response.ok) {
      setItems((prev) => prev.filter((x) => x.id !== m.id));
      setMessage({ ok: true, text: "Image deleted." });
    } else {
      setMessage({ ok: false, text: `Not deleted: ${describe(toProblem(r.error, r.response))}` });
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Media</h1>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <form class="card upload-card" onSubmit={upload}>
        <h2>Upload an image</h2>
        <div class="row">
          <div class="field">
            <label for="md-file">Image file <span class="muted small">(JPEG, PNG, WebP or GIF)</span></label>
            <input key={inputKey} id="md-file" type="file" required accept="image/jpeg,image/png,image/webp,image/gif" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
          </div>
          <div class="field">
            <label for="md-alt">Alt text (what the image shows)</label>
            <input id="md-alt" required value={alt} onInput={(e) => setAlt(e.currentTarget.value)} />
          </div>
        </div>
        <div class="row">
          <div class="field">
            <label for="md-caption">Caption</label>
            <input id="md-caption" value={caption} onInput={(e) => setCaption(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label for="md-credit">Credit</label>
            <input id="md-credit" value={credit} onInput={(e) => setCredit(e.currentTarget.value)} />
          </div>
        </div>
        <button type="submit" class="primary">Upload</button>
      </form>
      <ul class="media-grid" aria-busy={loading ? "true" : "false"} aria-label="Images">
        {items.map((m) => (
          <li key={m.id} class="media-item" data-testid="media-item">
            <img src={m.url} alt={m.alt} width={m.width} height={m.height} loading="lazy" />
            <p class="small">{m.alt || <span class="muted">No alt text</span>}</p>
            {m.caption && <p class="small media-caption">{m.caption}</p>}
            <p class="small muted">{m.width}×{m.height}{m.credit ? ` · ${m.credit}` : ""} · {formatTime(m.createdAt)}</p>
            {canEdit && editing === m.id && (
              <EditMedia media={m} onClose={() => closeEdit(m.id)} onSaved={(saved) => {
                setItems((prev) => prev.map((x) => (x.id === saved.id ? saved : x)));
                setMessage({ ok: true, text: `Saved: ${saved.alt || "image"}. Published stories using it show the new text.` });
                closeEdit(saved.id);
              }} />
            )}
            {(canEdit || canDelete) && editing !== m.id && (
              <div class="media-item-actions">
                {canEdit && (
                  <button type="button" ref={(el) => { if (el) editButtons.current.set(m.id, el); else editButtons.current.delete(m.id); }}
                    aria-label={`Edit image: ${m.alt || m.id}`} onClick={() => { setMessage(null); setEditing(m.id); }}>Edit</button>
                )}
                {canDelete && <button type="button" class="danger" aria-label={`Delete image: ${m.alt || m.id}`} onClick={() => remove(m)}>Delete</button>}
              </div>
            )}
          </li>
        ))}
      </ul>
      {!loading && items.length === 0 && <p class="empty">No images yet.</p>}
      {cursor && <p><button type="button" disabled={loading} onClick={() => load(cursor)}>Load more</button></p>}
    </section>
  );
}

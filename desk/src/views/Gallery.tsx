import "./editor-extras.css";
import { useState } from "preact/hooks";
import { toFormData, unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, type Article } from "../api.ts";
import { OrderedList } from "./OrderedList.tsx";
import { MediaPicker } from "./MediaPicker.tsx";

type Item = Article["gallery"][number];
type GalleryInput = Schemas["GalleryItemInput"][];

const nameOf = (it: Item) => it.image.alt || `image ${it.image.id}`;

/**
 * The photo gallery of a PHOTO_STORY, in order: images added from the media library or uploaded here
 * (alt text, caption, credit), a caption per item, reordered (OrderedList) and removed; each change is
 * saved at once. Other kinds have no gallery (the server refuses one): the fieldset says so.
 */
export function Gallery(props: { article: Article; kind: Article["kind"]; editable: boolean; save: (gallery: GalleryInput) => Promise<boolean> }) {
  const items = props.article.gallery;
  const [captions, setCaptions] = useState<Record<number, string>>({});
  const [picking, setPicking] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [alt, setAlt] = useState("");
  const [caption, setCaption] = useState("");
  const [credit, setCredit] = useState("");
  const [inputKey, setInputKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  if (props.article.kind !== "PHOTO_STORY") {
    return (
      <section class="gallery panel-box" aria-labelledby="gal-title">
        <h2 id="gal-title" class="box-title">Photo gallery</h2>
        <p class="muted small" data-testid="gallery-off">
          {props.kind === "PHOTO_STORY"
            ? "Save the article as a photo story to add its gallery."
            : "Only photo stories have a gallery: set the kind to “Photo story” to add one."}
        </p>
      </section>
    );
  }

  const asInput = (list: readonly Item[]): GalleryInput => list.map((it) => ({ media: it.image.id, caption: captions[it.image.id] ?? it.caption }));
  const change = async (next: GalleryInput, ok?: string) => {
    setBusy(true);
    setMessage(null);
    if (await props.save(next)) {
      setCaptions({});
      if (ok) setMessage({ ok: true, text: ok });
    }
    setBusy(false);
  };
  const ids = items.map((it) => it.image.id);
  const off = !props.editable || busy;

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setMessage(null);
    try {
      const media = await unwrap(dateline.api.POST("/api/v1/admin/media", { body: { file, alt, caption, credit }, bodySerializer: toFormData }));
      setBusy(false);
      await change([...asInput(items), { media: media.id, caption: "" }], "Image uploaded and added to the gallery.");
      setFile(null); setAlt(""); setCaption(""); setCredit(""); setInputKey((k) => k + 1);
    } catch (err) {
      setMessage({ ok: false, text: `Upload failed: ${describe(err)}` });
      setBusy(false);
    }
  };

  return (
    <fieldset class="gallery panel-box" disabled={off} data-testid="gallery">
      <legend>Photo gallery</legend>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {items.length === 0 ? <p class="muted small">No images yet.</p> : (
        <OrderedList items={items} keyOf={(it) => it.image.id} labelOf={nameOf} label="Gallery images, in order"
          testId="gallery-list" disabled={off}
          render={(it) => (
            <span class="gallery-item">
              <img src={it.image.url} alt={it.image.alt} width={it.image.width} height={it.image.height} />
              <span class="gallery-caption">
                <label for={`gal-cap-${it.image.id}`} class="small">Caption for {nameOf(it)}</label>
                <input id={`gal-cap-${it.image.id}`} value={captions[it.image.id] ?? it.caption} maxLength={1000}
                  placeholder={it.image.caption || "The image's own caption"}
                  onInput={(e) => { const v = e.currentTarget.value; setCaptions((c) => ({ ...c, [it.image.id]: v })); }}
                  onChange={() => { if ((captions[it.image.id] ?? it.caption) !== it.caption) void change(asInput(items)); }} />
              </span>
            </span>
          )}
          // A move is saved without disabling the list, so the moved item's handle keeps the focus.
          onMove={(next) => props.save(asInput(next))}
          actions={(it) => <button type="button" aria-label={`Remove from gallery: ${nameOf(it)}`} onClick={() => change(asInput(items.filter((x) => x.image.id !== it.image.id)))}>Remove</button>} />
      )}
      <div class="gallery-add">
        <button type="button" aria-expanded={picking} onClick={() => setPicking((p) => !p)}>{picking ? "Close the media library" : "Add from the media library"}</button>
        {picking && <MediaPicker label="Media library images" exclude={ids} testId="gallery-picker"
          onPick={(m) => change([...asInput(items), { media: m.id, caption: "" }], `Added: ${m.alt || "image"}.`)} />}
      </div>
      <details class="gallery-upload">
        <summary>Upload a new image to the gallery</summary>
        <form onSubmit={upload} class="upload">
          <label for="gal-file">Image file <span class="muted small">(JPEG, PNG, WebP or GIF)</span></label>
          <input key={inputKey} id="gal-file" type="file" accept="image/jpeg,image/png,image/webp,image/gif" required
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
          <label for="gal-alt">Alt text for the gallery image</label>
          <input id="gal-alt" required value={alt} onInput={(e) => setAlt(e.currentTarget.value)} />
          <label for="gal-caption">Image caption</label>
          <input id="gal-caption" value={caption} onInput={(e) => setCaption(e.currentTarget.value)} />
          <label for="gal-credit">Image credit</label>
          <input id="gal-credit" value={credit} onInput={(e) => setCredit(e.currentTarget.value)} />
          <button type="submit">Upload and add</button>
        </form>
      </details>
    </fieldset>
  );
}

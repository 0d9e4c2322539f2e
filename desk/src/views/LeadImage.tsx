import { useState } from "preact/hooks";
import { toFormData, unwrap } from "@dateline/client";
import { dateline, describe, type Article } from "../api.ts";

/**
 * The article's lead image: shown, replaced by an upload (POST /admin/media, then the article's
 * `leadImage`), or removed. Saved at once with the article's current ETag, like a workflow action.
 */
export function LeadImage(props: { article: Article; editable: boolean; save: (leadImage: number | null) => Promise<boolean> }) {
  const image = props.article.leadImage;
  const [file, setFile] = useState<File | null>(null);
  const [alt, setAlt] = useState("");
  const [credit, setCredit] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [inputKey, setInputKey] = useState(0);

  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setMessage(null);
    try {
      const media = await unwrap(dateline.api.POST("/api/v1/admin/media", {
        body: { file, alt, credit },
        bodySerializer: toFormData,
      }));
      if (await props.save(media.id)) {
        setMessage({ ok: true, text: "Lead image set." });
        setFile(null);
        setAlt("");
        setCredit("");
        setInputKey((k) => k + 1);
      }
    } catch (err) {
      setMessage({ ok: false, text: `Upload failed: ${describe(err)}` });
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setMessage(null);
    if (await props.save(null)) setMessage({ ok: true, text: "Lead image removed." });
    setBusy(false);
  };

  return (
    <fieldset class="lead-image" disabled={!props.editable || busy}>
      <legend>Lead image</legend>
      {image ? (
        <figure>
          <img src={image.url} alt={image.alt} width={image.width} height={image.height} data-testid="lead-image" />
          <figcaption class="small muted">{image.alt ? `Alt text: ${image.alt}` : "No alt text"}{image.credit ? ` · ${image.credit}` : ""}</figcaption>
          <button type="button" onClick={remove}>Remove lead image</button>
        </figure>
      ) : <p class="muted small">None.</p>}
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <form onSubmit={upload} class="upload">
        <label for="li-file">{image ? "Replace with an image" : "Upload an image"} <span class="muted small">(JPEG, PNG, WebP or GIF)</span></label>
        <input key={inputKey} id="li-file" type="file" accept="image/jpeg,image/png,image/webp,image/gif" required
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <label for="li-alt">Alt text (what the image shows)</label>
        <input id="li-alt" required value={alt} onInput={(e) => setAlt(e.currentTarget.value)} />
        <label for="li-credit">Credit</label>
        <input id="li-credit" value={credit} onInput={(e) => setCredit(e.currentTarget.value)} />
        <button type="submit">Upload and use</button>
      </form>
    </fieldset>
  );
}

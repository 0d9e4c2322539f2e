import { useEffect, useRef, useState } from "preact/hooks";
import type { RichText } from "../richtext.ts";
import { MediaPicker, type Media } from "./MediaPicker.tsx";

export interface RichTextHandle {
  setHtml(html: string): void;
  html(): string;
}

interface Props {
  html: string;
  editable: boolean;
  labelledBy: string;
  handle: { current: RichTextHandle | null };
  onReady(html: string): void;
  onChange(html: string): void;
}

type Tool = { label: string; key: string; active: (rt: RichText) => boolean; run: (rt: RichText) => void };

const TOOLS: Tool[] = [
  { label: "Bold", key: "B", active: (r) => r.editor.isActive("bold"), run: (r) => r.editor.chain().focus().toggleBold().run() },
  { label: "Italic", key: "I", active: (r) => r.editor.isActive("italic"), run: (r) => r.editor.chain().focus().toggleItalic().run() },
  { label: "H2 heading", key: "H2", active: (r) => r.editor.isActive("heading", { level: 2 }), run: (r) => r.editor.chain().focus().toggleHeading({ level: 2 }).run() },
  { label: "H3 subheading", key: "H3", active: (r) => r.editor.isActive("heading", { level: 3 }), run: (r) => r.editor.chain().focus().toggleHeading({ level: 3 }).run() },
  { label: "Bulleted list", key: "• List", active: (r) => r.editor.isActive("bulletList"), run: (r) => r.editor.chain().focus().toggleBulletList().run() },
  { label: "1. List, numbered", key: "1. List", active: (r) => r.editor.isActive("orderedList"), run: (r) => r.editor.chain().focus().toggleOrderedList().run() },
  { label: "Quote", key: "“ Quote", active: (r) => r.editor.isActive("blockquote"), run: (r) => r.editor.chain().focus().toggleBlockquote().run() },
];

/** The body's rich-text editor (TipTap, loaded on first use) with its toolbar. */
export function RichTextField(props: Props) {
  const mount = useRef<HTMLDivElement>(null);
  const rt = useRef<RichText | null>(null);
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const [linkOpen, setLinkOpen] = useState(false);
  const [linkUrl, setLinkUrl] = useState("");
  const [imageOpen, setImageOpen] = useState(false);
  const [picked, setPicked] = useState<Media | null>(null);
  const [imageAlt, setImageAlt] = useState("");
  const cb = useRef(props);
  cb.current = props;

  useEffect(() => {
    let gone = false;
    import("../richtext.ts").then(({ createRichText }) => {
      if (gone || !mount.current) return;
      rt.current = createRichText(mount.current, props.html, {
        label: "Body",
        editable: props.editable,
        onChange: (html) => cb.current.onChange(html),
        onSelection: () => setTick((t) => t + 1),
      });
      props.handle.current = {
        setHtml: (html) => rt.current?.setHtml(html),
        html: () => rt.current?.html() ?? "",
      };
      setReady(true);
      cb.current.onReady(rt.current.html());
    }, (err) => { if (!gone) setFailed(`The body editor could not be loaded: ${String(err)}`); });
    return () => {
      gone = true;
      rt.current?.destroy();
      rt.current = null;
      props.handle.current = null;
    };
  }, []);

  useEffect(() => { rt.current?.editor.setEditable(props.editable, false); }, [props.editable]);

  const r = rt.current;
  const applyLink = (e: Event) => {
    e.preventDefault();
    if (!r) return;
    const url = linkUrl.trim();
    if (url) r.editor.chain().focus().extendMarkRange("link").setLink({ href: /^(https?:|mailto:)/i.test(url) ? url : `https://${url}` }).run();
    else r.editor.chain().focus().extendMarkRange("link").unsetLink().run();
    setLinkOpen(false);
  };

  // An image from the media library, at the cursor, with its alt text (the library's, editable here).
  const insertImage = (e: Event) => {
    e.preventDefault();
    if (!r || !picked) return;
    r.insertImage({ src: picked.url, alt: imageAlt.trim(), width: picked.width, height: picked.height });
    setImageOpen(false);
    setPicked(null);
    setImageAlt("");
  };

  return (
    <div class="richtext" aria-labelledby={props.labelledBy} role="group">
      <div class="toolbar" role="toolbar" aria-label="Formatting" aria-controls="ed-body">
        {TOOLS.map((t) => (
          <button type="button" key={t.label} aria-label={t.label} title={t.label} aria-pressed={r ? t.active(r) : false}
            disabled={!ready || !props.editable} onMouseDown={(e) => e.preventDefault()} onClick={() => r && t.run(r)}>{t.key}</button>
        ))}
        <button type="button" aria-label="Link" title="Link" aria-pressed={r ? r.editor.isActive("link") : false} aria-expanded={linkOpen}
          disabled={!ready || !props.editable}
          onClick={() => { setLinkUrl(r?.editor.getAttributes("link").href ?? ""); setLinkOpen((o) => !o); }}>Link</button>
        <button type="button" aria-label="Image from the media library" title="Image from the media library" aria-expanded={imageOpen}
          disabled={!ready || !props.editable} onMouseDown={(e) => e.preventDefault()}
          onClick={() => setImageOpen((o) => !o)}>Image</button>
      </div>
      {imageOpen && (
        <form class="imageform" onSubmit={insertImage} aria-label="Insert an image"
          onKeyDown={(e) => { if (e.key === "Escape") { setImageOpen(false); r?.editor.commands.focus(); } }}>
          <MediaPicker label="Images to insert" selected={picked?.id ?? null} testId="body-image-picker"
            onPick={(m) => { setPicked(m); setImageAlt(m.alt); }} />
          <div class="row">
            <div class="field">
              <label for="ed-image-alt">Alt text of the image in the body</label>
              <input id="ed-image-alt" required value={imageAlt} disabled={!picked} maxLength={500} onInput={(e) => setImageAlt(e.currentTarget.value)} />
            </div>
            <button type="submit" class="align-end" disabled={!picked}>Insert image</button>
            <button type="button" class="align-end" onClick={() => { setImageOpen(false); r?.editor.commands.focus(); }}>Cancel</button>
          </div>
        </form>
      )}
      {linkOpen && (
        <form class="linkform" onSubmit={applyLink}>
          <label for="ed-link-url">Link address (empty removes the link)</label>
          <input id="ed-link-url" type="url" value={linkUrl} autoFocus placeholder="https://" onInput={(e) => setLinkUrl(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === "Escape") { setLinkOpen(false); r?.editor.commands.focus(); } }} />
          <button type="submit">Apply</button>
        </form>
      )}
      {failed && <p class="error" role="alert">{failed}</p>}
      <div id="ed-body" class="editor-mount" ref={mount} data-testid="body-editor">{!ready && !failed && <p class="muted">Loading the editor…</p>}</div>
    </div>
  );
}

// The body editor: TipTap (ProseMirror) limited to what the API's sanitizer keeps
// and a newsroom body needs: paragraphs, h2/h3, bullet and numbered lists, quotes,
// bold, italic, links and images (TipTap's own Image node: a block <img src alt>, the
// src a media-library URL, which the sanitizer keeps). Loaded as its own chunk when an
// article is opened.
// TipTap's injected <style> is off (the desk's CSP allows no inline style): the
// few rules it needs are in desk.css.
import { Editor } from "@tiptap/core";
import { NodeSelection } from "@tiptap/pm/state";
import StarterKit from "@tiptap/starter-kit";
import Image from "@tiptap/extension-image";

export interface RichText {
  editor: Editor;
  html(): string;
  setHtml(html: string): void;
  insertImage(image: { src: string; alt: string; width?: number; height?: number }): void;
  destroy(): void;
}

export function createRichText(element: HTMLElement, html: string, opts: { label: string; onChange: (html: string) => void; onSelection?: () => void; editable: boolean }): RichText {
  const editor = new Editor({
    element,
    injectCSS: false,
    editable: opts.editable,
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3] },
        code: false,
        codeBlock: false,
        horizontalRule: false,
        strike: false,
        underline: false,
        // No empty paragraph kept at the end of every body.
        trailingNode: false,
        link: {
          openOnClick: false,
          autolink: true,
          protocols: ["http", "https", "mailto"],
          defaultProtocol: "https",
          HTMLAttributes: { rel: null, target: null },
          isAllowedUri: (url) => /^(https?:|mailto:)/i.test(url),
        },
      }),
      // No data: URLs (the sanitizer drops them): images come from the media library.
      Image.configure({ inline: false, allowBase64: false }),
    ],
    content: html || "",
    editorProps: {
      attributes: { "aria-label": opts.label, "aria-multiline": "true", role: "textbox", class: "prose", spellcheck: "true" },
    },
    onUpdate: ({ editor: e }) => opts.onChange(normalize(e.getHTML())),
    onSelectionUpdate: () => opts.onSelection?.(),
    onTransaction: () => opts.onSelection?.(),
  });
  return {
    editor,
    html: () => normalize(editor.getHTML()),
    insertImage: (image) => {
      editor.chain().focus().setImage(image).run();
      // The new image is left selected, and typing would replace it: the cursor goes to the text block
      // after it (a new paragraph when there is none), so writing goes on below the picture.
      const { selection, doc } = editor.state;
      if (!(selection instanceof NodeSelection)) return;
      const after = selection.to;
      if (doc.nodeAt(after)?.isTextblock) editor.chain().setTextSelection(after + 1).scrollIntoView().run();
      else editor.chain().insertContentAt(after, { type: "paragraph" }).setTextSelection(after + 1).scrollIntoView().run();
    },
    setHtml: (value) => { editor.commands.setContent(value || "", { emitUpdate: false }); },
    destroy: () => editor.destroy(),
  };
}

/** Empty paragraphs at the end are not content: an empty document is an empty body, not `<p></p>`. */
function normalize(html: string): string {
  return html.replace(/(<p><\/p>)+$/, "");
}

import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe } from "../api.ts";

export type Media = Schemas["AdminMedia"];

/**
 * Images of the media library (GET /admin/media, newest first, "More images" pages on) as a grid of
 * thumbnails; choosing one hands it to `onPick`. Images in `exclude` are shown as already used.
 * Used by the gallery and the body's image insert.
 */
export function MediaPicker(props: { label: string; onPick: (m: Media) => void; exclude?: number[]; selected?: number | null; testId?: string }) {
  const [items, setItems] = useState<Media[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const gen = useRef(0);

  const load = async (after: string | null) => {
    const g = ++gen.current;
    setLoading(true);
    setError(null);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/media", { params: { query: { limit: 12, ...(after ? { cursor: after } : {}) } } }));
      if (g !== gen.current) return;
      setItems((prev) => (after ? [...prev, ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      if (g === gen.current) setError(describe(err));
    } finally {
      if (g === gen.current) setLoading(false);
    }
  };
  useEffect(() => { void load(null); }, []);

  const exclude = props.exclude ?? [];
  return (
    <div class="media-picker" data-testid={props.testId}>
      {error && <p class="error" role="alert">{error}</p>}
      {!loading && !error && items.length === 0 && <p class="muted small">The media library is empty: upload an image first.</p>}
      <ul class="picker-grid" aria-label={props.label}>
        {items.map((m) => {
          const used = exclude.includes(m.id);
          const name = m.alt || m.originalName || `image ${m.id}`;
          return (
            <li key={m.id}>
              <button type="button" class="pick" disabled={used} aria-pressed={props.selected === m.id}
                aria-label={used ? `Already added: ${name}` : `Choose image: ${name}`} onClick={() => props.onPick(m)}>
                <img src={m.url} alt="" width={m.width} height={m.height} loading="lazy" />
                <span class="small">{name}</span>
              </button>
            </li>
          );
        })}
      </ul>
      {loading && <p class="muted small" role="status">Loading images…</p>}
      {cursor && !loading && <button type="button" onClick={() => load(cursor)}>More images</button>}
    </div>
  );
}

import { useState } from "preact/hooks";
import { unwrap } from "@dateline/client";
import { dateline, describe, STATUS_LABELS, type Article } from "../api.ts";
import { OrderedList } from "./OrderedList.tsx";

/**
 * "We Recommend": the article's related stories, in order. Found by full-text search over the
 * editor API; every change (add, reorder by drag or keyboard, remove) is saved at once, like the lead image.
 */
export function Related(props: { article: Article; editable: boolean; save: (related: number[]) => Promise<boolean> }) {
  const related = props.article.related;
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Article[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const search = async (e: Event) => {
    e.preventDefault();
    if (!q.trim()) return;
    setError(null);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/articles", { params: { query: { q: q.trim(), limit: 8 } } }));
      setResults(page.data.filter((a) => a.id !== props.article.id));
    } catch (err) {
      setError(describe(err));
    }
  };

  const change = async (ids: number[]) => {
    setBusy(true);
    await props.save(ids);
    setBusy(false);
  };
  const ids = related.map((r) => r.id);

  return (
    <fieldset class="related" disabled={!props.editable || busy}>
      <legend>Related stories (“We Recommend”)</legend>
      {related.length === 0 ? <p class="muted small">None.</p> : (
        <OrderedList items={related} keyOf={(r) => r.id} labelOf={(r) => r.headline} label="Related stories, in order"
          testId="related-list" disabled={!props.editable || busy}
          render={(r) => <><span>{r.headline}</span> <span class="muted small">({STATUS_LABELS[r.status]})</span></>}
          onMove={(next) => change(next.map((r) => r.id))}
          actions={(r) => <button type="button" aria-label={`Remove: ${r.headline}`} onClick={() => change(ids.filter((x) => x !== r.id))}>Remove</button>} />
      )}
      <form onSubmit={search} class="inline-search" role="search">
        <label for="rel-q">Find a story to add</label>
        <div class="row">
          <input id="rel-q" type="search" value={q} maxLength={500} onInput={(e) => setQ(e.currentTarget.value)} />
          <button type="submit">Find</button>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {results && (results.length === 0 ? <p class="muted small" role="status">No stories found.</p> : (
        <ul class="results" aria-label="Stories found">
          {results.map((a) => (
            <li key={a.id}>
              <span>{a.headline}</span> <span class="muted small">({STATUS_LABELS[a.status]})</span>
              {!ids.includes(a.id) && <button type="button" aria-label={`Add: ${a.headline}`} onClick={() => change([...ids, a.id])}>Add</button>}
            </li>
          ))}
        </ul>
      ))}
    </fieldset>
  );
}

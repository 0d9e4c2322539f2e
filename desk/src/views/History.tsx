import { useEffect, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, withEtag, type Article } from "../api.ts";
import { textOf } from "./ConflictScreen.tsx";

type Summary = Schemas["RevisionSummary"];
type Revision = Schemas["Revision"];

const show = (field: string, v: unknown): string => {
  if (v === null || v === undefined || v === "") return "(empty)";
  if (field === "body" && typeof v === "string") return textOf(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ") || "(none)";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
};

/** The article's revisions (newest first), one revision's changes, and restoring its content. */
export function History(props: { id: number; version: number; canRestore: boolean; etag: () => string; onRestored: (a: Article, etag: string) => void }) {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<Summary[] | null>(null);
  const [shown, setShown] = useState<Revision | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    dateline.api.GET("/api/v1/admin/articles/{id}/revisions", { params: { path: { id: props.id }, query: { limit: 50 } } })
      .then((r) => { if (r.data) setList(r.data.data); else setError(`Could not load the history (HTTP ${r.response.status}).`); },
        (err) => setError(describe(err)));
  }, [open, props.version]);

  const view = async (n: number) => {
    setError(null);
    try {
      setShown(await unwrap(dateline.api.GET("/api/v1/admin/articles/{id}/revisions/{rev}", { params: { path: { id: props.id, rev: n } } })));
    } catch (err) {
      setError(describe(err));
    }
  };

  const restore = async (n: number) => {
    setBusy(true);
    setError(null);
    try {
      const { data, etag } = await withEtag(dateline.api.POST("/api/v1/admin/articles/{id}/revisions/{rev}/restore", {
        params: { path: { id: props.id, rev: n }, header: { "If-Match": props.etag() } },
      }));
      setShown(null);
      props.onRestored(data, etag);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="sub history" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>History</summary>
      {error && <p class="error" role="alert">{error}</p>}
      {open && !list && !error && <p role="status" class="small">Loading…</p>}
      {list && (
        <ol class="revisions" reversed>
          {list.map((r) => (
            <li key={r.number}>
              <button type="button" class="link" aria-expanded={shown?.number === r.number}
                onClick={() => (shown?.number === r.number ? setShown(null) : view(r.number))}>
                #{r.number} {r.action}
              </button>
              <span class="small muted"> {r.editor?.name ?? "system"}, {formatTime(r.createdAt)}</span>
              {r.changedFields.length > 0 && <div class="small muted">{r.changedFields.join(", ")}</div>}
              {shown?.number === r.number && (
                <div class="revision" data-testid={`revision-${r.number}`}>
                  {shown.diff.length === 0 ? <p class="small">No content changes.</p> : (
                    <dl>
                      {shown.diff.map((d) => (
                        <div key={d.field}>
                          <dt>{d.field}</dt>
                          <dd><del>{show(d.field, d.before)}</del> <ins>{show(d.field, d.after)}</ins></dd>
                        </div>
                      ))}
                    </dl>
                  )}
                  {props.canRestore && (
                    <button type="button" disabled={busy} onClick={() => restore(r.number)}>Restore version #{r.number}</button>
                  )}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}

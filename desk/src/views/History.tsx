import { useEffect, useRef, useState } from "preact/hooks";
import { diffWords, type Change } from "diff";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, withEtag, type Article } from "../api.ts";
import "./history.css";

type Summary = Schemas["RevisionSummary"];
type Revision = Schemas["Revision"];
type Content = Schemas["RevisionContent"];

// The content fields compared, in the order an editor reads an article.
const FIELDS: { key: keyof Content; label: string }[] = [
  { key: "headline", label: "Headline" },
  { key: "summary", label: "Summary" },
  { key: "body", label: "Body" },
  { key: "dateline", label: "Dateline" },
  { key: "source", label: "Source" },
  { key: "byline", label: "Byline" },
  { key: "slug", label: "Slug" },
  { key: "section", label: "Section" },
  { key: "kind", label: "Kind" },
  { key: "tags", label: "Tags" },
  { key: "editors", label: "Credited editors (ids)" },
  { key: "related", label: "Related stories (ids)" },
  { key: "leadImage", label: "Lead image (id)" },
  { key: "gallery", label: "Gallery" },
  { key: "commentsClosed", label: "Comments closed" },
  { key: "language", label: "Language" },
  { key: "status", label: "Status" },
  { key: "publishedAt", label: "Published at" },
  { key: "scheduledAt", label: "Scheduled at" },
];

/** The body as text, one paragraph (or heading, list item, quote) per block, blank lines between them. */
export function bodyText(html: string): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const blocks: string[] = [];
  const walk = (el: Element) => {
    for (const child of Array.from(el.children)) {
      if (/^(UL|OL|BLOCKQUOTE|FIGURE|DIV|SECTION)$/.test(child.tagName) && child.children.length) walk(child);
      else {
        const text = (child.textContent ?? "").replace(/\s+/g, " ").trim();
        if (text) blocks.push(child.tagName === "LI" ? `• ${text}` : text);
      }
    }
  };
  walk(doc.body);
  return blocks.join("\n\n") || (doc.body.textContent ?? "").trim();
}

function asText(key: keyof Content, v: unknown): string {
  if (v === null || v === undefined) return "";
  if (key === "body" && typeof v === "string") return bodyText(v);
  if (key === "gallery" && Array.isArray(v)) return v.map((g: { media: number; caption: string }) => `#${g.media} ${g.caption}`.trim()).join("\n");
  if ((key === "publishedAt" || key === "scheduledAt") && typeof v === "string") return formatTime(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

interface FieldDiff { key: string; label: string; before: string; after: string; parts: Change[] }

/** The fields that differ between two contents, each with a word-level diff (older first). */
export function compare(older: Content | null, newer: Content): FieldDiff[] {
  const out: FieldDiff[] = [];
  for (const f of FIELDS) {
    const before = older ? asText(f.key, older[f.key]) : "";
    const after = asText(f.key, newer[f.key]);
    if (before === after) continue;
    // A bounded diff: two long, very different bodies give up after a while and show as replaced.
    const parts = diffWords(before, after, { timeout: 400 })
      ?? [{ value: before, removed: true, added: false, count: 1 }, { value: after, added: true, removed: false, count: 1 }];
    out.push({ key: f.key, label: f.label, before, after, parts });
  }
  return out;
}

// A change's surrounding spaces stay outside its mark: only the words are struck or underlined.
function part(p: Change, i: number) {
  if (!p.added && !p.removed) return <span key={i}>{p.value}</span>;
  const [, lead, words, trail] = /^(\s*)([\s\S]*?)(\s*)$/.exec(p.value)!;
  if (!words) return <span key={i}>{p.value}</span>;
  return <span key={i}>{lead}{p.removed ? <del>{words}</del> : <ins>{words}</ins>}{trail}</span>;
}

const Empty = () => <span class="muted">(empty)</span>;

/** One side of a comparison: the common words and this side's changes, marked. */
function Side({ parts, side }: { parts: Change[]; side: "old" | "new" }) {
  const shown = parts.filter((p) => (side === "old" ? !p.added : !p.removed));
  if (!shown.some((p) => p.value.trim())) return <Empty />;
  return (
    <div class="diff-text">{shown.map(part)}</div>
  );
}

/** Both sides in one flow (the narrow sidebar): deletions then insertions, in place. */
function Inline({ parts }: { parts: Change[] }) {
  if (!parts.some((p) => p.value.trim())) return <Empty />;
  return (
    <div class="diff-text">{parts.map(part)}</div>
  );
}

type Against = "current" | "previous";

/** The article's revisions (newest first), a revision compared word by word with the current version or the previous one, and restoring its content. */
export function History(props: { id: number; version: number; canRestore: boolean; etag: () => string; onRestored: (a: Article, etag: string) => void }) {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<Summary[] | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);
  const [against, setAgainst] = useState<Against>("previous");
  const [revs, setRevs] = useState<Map<number, Revision>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [wide, setWide] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    dateline.api.GET("/api/v1/admin/articles/{id}/revisions", { params: { path: { id: props.id }, query: { limit: 50 } } })
      .then((r) => { if (r.data) setList(r.data.data); else setError(`Could not load the history (HTTP ${r.response.status}).`); },
        (err) => setError(describe(err)));
  }, [open, props.version]);

  const latest = list?.[0]?.number ?? null;
  const otherOf = (n: number, mode: Against): number | null => (mode === "current" ? latest : n > 1 ? n - 1 : null);

  // Fetches the revisions a comparison needs (each once).
  const need = async (numbers: (number | null)[]) => {
    const missing = numbers.filter((n): n is number => n !== null && !revs.has(n));
    if (!missing.length) return;
    const got = await Promise.all(missing.map((n) => unwrap(dateline.api.GET("/api/v1/admin/articles/{id}/revisions/{rev}", { params: { path: { id: props.id, rev: n } } }))));
    setRevs((m) => { const next = new Map(m); for (const r of got) next.set(r.number, r); return next; });
  };

  const choose = async (n: number | null, mode?: Against) => {
    setError(null);
    if (n === null) { setChosen(null); return; }
    // The newest revision against the current version would be no change: it compares with its previous one.
    const m = mode ?? (n === latest ? "previous" : "current");
    try {
      await need([n, otherOf(n, m)]);
      setAgainst(m);
      setChosen(n);
    } catch (err) {
      setError(describe(err));
    }
  };

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (wide && !d.open) d.showModal();
    if (!wide && d.open) d.close();
  }, [wide]);

  const restore = async (n: number) => {
    setBusy(true);
    setError(null);
    try {
      const { data, etag } = await withEtag(dateline.api.POST("/api/v1/admin/articles/{id}/revisions/{rev}/restore", {
        params: { path: { id: props.id, rev: n }, header: { "If-Match": props.etag() } },
      }));
      setWide(false);
      setChosen(null);
      props.onRestored(data, etag);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  const rev = chosen !== null ? revs.get(chosen) : undefined;
  const otherN = chosen !== null ? otherOf(chosen, against) : null;
  const other = otherN !== null ? revs.get(otherN) ?? null : null;
  const pending = otherN !== null && !other;
  // A save or a restore makes a new current version: fetched for a comparison with "current".
  useEffect(() => {
    if (pending) need([otherN]).catch((err) => setError(describe(err)));
  }, [pending, otherN]);
  // Older on the left, newer on the right, whichever the chosen revision is.
  const [older, newer] = rev ? (otherN !== null && otherN > rev.number ? [rev, other] : [other, rev]) : [null, null];
  const diffs = newer ? compare(older?.content ?? null, newer.content) : [];
  const nameOf = (r: Revision | null) => (r === null ? "Nothing (before the first revision)" : r.number === latest ? `Current version (#${r.number})` : `Revision #${r.number}`);

  const againstChoice = (n: number, idPrefix: string) => (
    <fieldset class="compare-with">
      <legend>Compare #{n} with</legend>
      <div class="field check">
        <input type="radio" id={`${idPrefix}-current`} name={`${idPrefix}-against`} checked={against === "current"} disabled={n === latest}
          onChange={() => void choose(n, "current")} />
        <label for={`${idPrefix}-current`}>the current version{latest !== null ? ` (#${latest})` : ""}</label>
      </div>
      <div class="field check">
        <input type="radio" id={`${idPrefix}-previous`} name={`${idPrefix}-against`} checked={against === "previous"}
          onChange={() => void choose(n, "previous")} />
        <label for={`${idPrefix}-previous`}>the previous revision{n > 1 ? ` (#${n - 1})` : " (none: all of it is new)"}</label>
      </div>
    </fieldset>
  );

  return (
    <details class="sub history" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>History</summary>
      {error && <p class="error" role="alert">{error}</p>}
      {open && !list && !error && <p role="status" class="small">Loading…</p>}
      {list && (
        <ol class="revisions" reversed>
          {list.map((r) => (
            <li key={r.number}>
              <button type="button" class="link" aria-expanded={chosen === r.number}
                onClick={() => void choose(chosen === r.number ? null : r.number)}>
                #{r.number} {r.action}
              </button>
              <span class="small muted"> {r.editor?.name ?? "system"}, {formatTime(r.createdAt)}</span>
              {r.changedFields.length > 0 && <div class="small muted">{r.changedFields.join(", ")}</div>}
              {chosen === r.number && pending && <p role="status" class="small">Loading…</p>}
              {chosen === r.number && rev && newer && !pending && (
                <div class="revision" data-testid={`revision-${r.number}`}>
                  {againstChoice(r.number, "hist")}
                  <p class="small muted">{older ? (older.number === latest ? "Current version" : `#${older.number}`) : "Nothing"} → {newer.number === latest ? `current version (#${newer.number})` : `#${newer.number}`}: <span class="mark-del">removed</span> and <span class="mark-ins">added</span> words.</p>
                  {diffs.length === 0 ? <p class="small">No content changes.</p> : (
                    <dl>
                      {diffs.map((d) => (
                        <div key={d.key}>
                          <dt>{d.label}</dt>
                          <dd><Inline parts={d.parts} /></dd>
                        </div>
                      ))}
                    </dl>
                  )}
                  <div class="revision-actions">
                    {diffs.length > 0 && <button type="button" ref={opener} onClick={() => setWide(true)}>Side by side</button>}
                    {props.canRestore && r.number !== latest && (
                      <button type="button" disabled={busy} onClick={() => restore(r.number)}>Restore version #{r.number}</button>
                    )}
                  </div>
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
      <dialog ref={dialog} class="compare-dialog" aria-labelledby="compare-title"
        onClose={() => { setWide(false); opener.current?.focus(); }}>
        {wide && rev && newer && !pending && (
          <div data-testid="compare">
            <div class="compare-head">
              <h2 id="compare-title">Revision #{rev.number} compared</h2>
              <button type="button" onClick={() => setWide(false)}>Close</button>
            </div>
            {againstChoice(rev.number, "wide")}
            <p class="small">Words marked <span class="mark-del">removed</span> are only in the left column, words marked <span class="mark-ins">added</span> only in the right one.</p>
            {error && <p class="error" role="alert">{error}</p>}
            {diffs.length === 0 ? <p>No content changes.</p> : (
              <table class="compare">
                <caption class="sr-only">Changed fields, {nameOf(older)} on the left, {nameOf(newer)} on the right</caption>
                <thead>
                  <tr><th scope="col">Field</th><th scope="col">{nameOf(older)}</th><th scope="col">{nameOf(newer)}</th></tr>
                </thead>
                <tbody>
                  {diffs.map((d) => (
                    <tr key={d.key} data-field={d.key}>
                      <th scope="row">{d.label}</th>
                      <td><Side parts={d.parts} side="old" /></td>
                      <td><Side parts={d.parts} side="new" /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {props.canRestore && rev.number !== latest && (
              <p><button type="button" class="primary" disabled={busy} onClick={() => restore(rev.number)}>Restore version #{rev.number}</button></p>
            )}
          </div>
        )}
      </dialog>
    </details>
  );
}

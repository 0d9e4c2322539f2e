import { useEffect, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime } from "../api.ts";

type Correction = Schemas["Correction"];
type CorrectionType = Schemas["CorrectionType"];

const TYPES: { type: CorrectionType; label: string }[] = [
  { type: "correction", label: "Correction" },
  { type: "clarification", label: "Clarification" },
  { type: "retraction", label: "Retraction" },
];

/**
 * The article's corrections (appended, shown on the public article and the corrections page), and a
 * form to add one (EDITOR+). Adding one moves the article's version: `onAdded` re-reads it.
 */
export function Corrections(props: { id: number; canAdd: boolean; onAdded: () => Promise<void> }) {
  const [list, setList] = useState<Correction[] | null>(null);
  const [type, setType] = useState<CorrectionType>("correction");
  const [text, setText] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () => dateline.api.GET("/api/v1/admin/articles/{id}/corrections", { params: { path: { id: props.id } } })
    .then((r) => { if (r.data) setList(r.data.data); }, () => {});
  useEffect(() => { void load(); }, [props.id]);

  const add = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await unwrap(dateline.api.POST("/api/v1/admin/articles/{id}/corrections", { params: { path: { id: props.id } }, body: { type, text } }));
      setText("");
      // The article is re-read first: the message says the screen is up to date again.
      await Promise.all([load(), props.onAdded()]);
      setMessage({ ok: true, text: "Correction added: it shows on the article now." });
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="sub">
      <summary>Corrections{list?.length ? ` (${list.length})` : ""}</summary>
      {list && list.length > 0 && (
        <ul class="corrections">
          {list.map((c) => (
            <li key={c.id}><strong>{TYPES.find((t) => t.type === c.type)?.label ?? c.type}</strong>, {formatTime(c.at)}: {c.text}</li>
          ))}
        </ul>
      )}
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {props.canAdd && (
        <form onSubmit={add}>
          <label for="corr-type">Kind of correction</label>
          <select id="corr-type" value={type} onChange={(e) => setType(e.currentTarget.value as CorrectionType)}>
            {TYPES.map((t) => <option key={t.type} value={t.type}>{t.label}</option>)}
          </select>
          <label for="corr-text">What was wrong, and what is right</label>
          <textarea id="corr-text" rows={3} required value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <button type="submit" disabled={busy}>Add correction</button>
        </form>
      )}
    </details>
  );
}

import { useState } from "preact/hooks";
import { formatTime, type Article } from "../api.ts";
import { fromSiteLocal, SITE_TIME_ZONE, toSiteLocal } from "../time.ts";

/**
 * The embargo (`embargoedUntil`): until then no public surface shows the article, whatever its status;
 * the picker reads the site's time zone. Set, moved or lifted at once (saved like the lead image).
 */
export function Embargo(props: { article: Article; editable: boolean; save: (embargoedUntil: string | null) => Promise<boolean> }) {
  const until = props.article.embargoedUntil;
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const off = !props.editable || busy;

  const run = async (next: string | null, ok: string) => {
    setBusy(true);
    setMessage(null);
    if (await props.save(next)) { setMessage(ok); setValue(""); }
    setBusy(false);
  };

  return (
    <div class="sub embargo" data-testid="embargo">
      <h3 class="box-title">Embargo</h3>
      {until
        ? <p class="banner warn small">Embargoed until <strong>{formatTime(until)}</strong> ({SITE_TIME_ZONE}): readers see nothing of it before then, whatever its status.</p>
        : <p class="muted small">None: the story shows as soon as it is published.</p>}
      {message && <p class="ok small" role="status">{message}</p>}
      <form onSubmit={(e) => {
        e.preventDefault();
        const at = fromSiteLocal(value);
        if (!Number.isNaN(at.getTime())) void run(at.toISOString(), `Embargoed until ${formatTime(at.toISOString())}.`);
      }}>
        <label for="wf-embargo">{until ? "Move the embargo to" : "Hold from readers until"} <span class="muted small">(site time, {SITE_TIME_ZONE})</span></label>
        <input id="wf-embargo" type="datetime-local" required value={value} min={toSiteLocal(new Date())} disabled={off}
          onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" disabled={off || !value}>{until ? "Move embargo" : "Set embargo"}</button>
      </form>
      {until && <button type="button" disabled={off} onClick={() => run(null, "Embargo lifted.")}>Lift embargo now</button>}
    </div>
  );
}

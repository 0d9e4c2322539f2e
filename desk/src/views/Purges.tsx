import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, type Editor } from "../api.ts";
import "./admin.css";

type Purge = Schemas["PurgeRequest"];
type Provider = Schemas["PurgeRequestList"]["meta"]["provider"];
type State = Purge["status"];

const STATES: { status: State | ""; label: string }[] = [
  { status: "", label: "All" },
  { status: "pending", label: "Pending" },
  { status: "done", label: "Done" },
  { status: "failed", label: "Failed" },
];
const PROVIDERS: Record<Provider, string> = {
  none: "none (purging is off)",
  log: "log (dry run: keys are logged, nothing is sent)",
  fastly: "Fastly",
  cloudflare: "Cloudflare",
  varnish: "Varnish",
  http: "HTTP endpoint",
};
// openapi.yaml: each key matches this, at most 1000 a request.
const KEY = /^[A-Za-z0-9][A-Za-z0-9:._/-]{0,199}$/;
const MAX_KEYS = 1000;

/** CDN purges (ADMIN): what the purge queue sent lately and how it went, and a form to purge keys now. */
export function Purges({ me }: { me: Editor }) {
  void me;
  const [status, setStatus] = useState<State | "">("");
  const [items, setItems] = useState<Purge[] | null>(null);
  const [provider, setProvider] = useState<Provider | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [keys, setKeys] = useState("");
  const [soft, setSoft] = useState<"default" | "soft" | "hard">("default");
  const [keyError, setKeyError] = useState("");
  const [sending, setSending] = useState(false);
  const generation = useRef(0);

  const load = async () => {
    const gen = ++generation.current;
    try {
      const r = await unwrap(dateline.api.GET("/api/v1/admin/purges", { params: { query: { limit: 50, ...(status ? { status } : {}) } } }));
      if (gen !== generation.current) return;
      setItems(r.data);
      setProvider(r.meta.provider);
    } catch (err) {
      if (gen === generation.current) setMessage({ ok: false, text: describe(err) });
    }
  };
  useEffect(() => { setItems(null); void load(); }, [status]);

  // Pending requests are sent within about a second (retries later): look again while one is shown.
  const pending = items?.some((p) => p.status === "pending") ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => void load(), 2000);
    return () => clearTimeout(timer);
  }, [items, pending]);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setMessage(null);
    const list = [...new Set(keys.split(/[\s,]+/).map((k) => k.trim()).filter(Boolean))];
    // A URL fits the key pattern (letters, ':' and '/') but names no cached response: refused here.
    const bad = list.filter((k) => !KEY.test(k) || /^[a-z][a-z0-9+.-]*:\/\//i.test(k));
    if (!list.length) { setKeyError("Enter at least one key."); return; }
    if (bad.length) { setKeyError(`Not a surrogate key: ${bad.slice(0, 5).join(", ")}. Keys are letters, digits and : . _ / - (no spaces, no https://).`); return; }
    if (list.length > MAX_KEYS) { setKeyError(`At most ${MAX_KEYS} keys at once (${list.length} entered).`); return; }
    setKeyError("");
    setSending(true);
    try {
      const r = await unwrap(dateline.api.POST("/api/v1/admin/purges", { body: { keys: list, ...(soft === "default" ? {} : { soft: soft === "soft" }) } }));
      const what = `${r.keys.length} ${r.keys.length === 1 ? "key" : "keys"}`;
      setMessage({
        ok: true,
        text: r.dryRun
          ? `Dry run: ${what} logged by the server (PURGE_PROVIDER=log), nothing sent to a CDN.`
          : `Queued ${what} for ${PROVIDERS[r.provider]} in ${r.requests} ${r.requests === 1 ? "request" : "requests"} (${r.soft ? "soft" : "hard"} purge).`,
      });
      setKeys("");
      void load();
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    } finally {
      setSending(false);
    }
  };

  return (
    <section class="admin">
      <h1 tabIndex={-1}>CDN purges</h1>
      <p class="hint">
        Every change a reader can see purges the CDN's copies by surrogate key, on its own. The list shows the
        recent purge requests (finished ones are kept 7 days). {provider && <>Provider: <strong data-testid="purge-provider">{PROVIDERS[provider]}</strong>.</>}
      </p>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}

      <form class="card narrow" onSubmit={submit} aria-labelledby="purge-now">
        <h2 id="purge-now">Purge now</h2>
        <label for="purge-keys">Surrogate keys</label>
        <textarea id="purge-keys" rows={3} value={keys} aria-describedby="purge-keys-hint" aria-invalid={keyError ? "true" : undefined}
          aria-errormessage={keyError ? "purge-keys-error" : undefined} onInput={(e) => setKeys(e.currentTarget.value)} />
        <p id="purge-keys-hint" class="hint">
          One a line or separated by spaces: <code>article:42</code> (a story), <code>front:world</code> (a section front),{" "}
          <code>section:7</code>, <code>tag:climate</code>, <code>collection:top-stories</code>, <code>comments:42</code>,{" "}
          <code>latest</code>, <code>articles</code>, <code>popular</code>, <code>sections</code>. The CDN holds pages by these keys, not by URL.
        </p>
        {keyError && <p id="purge-keys-error" class="error-text" role="alert">{keyError}</p>}
        <label for="purge-soft">Kind of purge</label>
        <select id="purge-soft" value={soft} onChange={(e) => setSoft(e.currentTarget.value as typeof soft)}>
          <option value="default">The server's default (PURGE_SOFT)</option>
          <option value="soft">Soft: mark stale, the CDN may serve it while it fetches anew</option>
          <option value="hard">Hard: drop it now</option>
        </select>
        <button type="submit" class="primary" disabled={sending || provider === "none"}>Purge</button>
      </form>

      <h2>Recent purge requests</h2>
      <div class="filters">
        <div class="field compact">
          <label for="purge-status">Status</label>
          <select id="purge-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as State | "")}>
            {STATES.map((s) => <option key={s.status} value={s.status}>{s.label}</option>)}
          </select>
        </div>
        <button type="button" onClick={() => load()}>Refresh</button>
      </div>
      {items && items.length === 0 && (
        <p class="empty">{provider === "log" ? "None: in the dry run (PURGE_PROVIDER=log) keys are logged, not queued." : provider === "none" ? "None: purging is off (PURGE_PROVIDER=none)." : "No purge requests here."}</p>
      )}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="log">
            <caption class="sr-only">Recent purge requests, newest first</caption>
            <thead>
              <tr><th scope="col">Requested</th><th scope="col">Keys</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th></tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id} data-testid="purge">
                  <td class="small"><time dateTime={p.createdAt}>{formatTime(p.createdAt)}</time></td>
                  <td><ul class="keys">{p.keys.map((k) => <li key={k}><code>{k}</code></li>)}</ul></td>
                  <td>{PROVIDERS[p.provider]}, {p.soft ? "soft" : "hard"}</td>
                  <td><span class={`state ${p.status}`}>{p.status}</span></td>
                  <td>{p.attempts}</td>
                  <td class="small">
                    {p.lastStatus !== null ? `HTTP ${p.lastStatus}` : p.attempts ? "No answer" : "Not sent yet"}
                    {p.lastError && <><br /><span class="error-text">{p.lastError}</span></>}
                    {p.status === "pending" && p.nextAttemptAt && <><br />Next attempt <time dateTime={p.nextAttemptAt}>{formatTime(p.nextAttemptAt)}</time></>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

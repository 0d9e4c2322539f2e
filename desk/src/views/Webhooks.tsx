import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, formatTime, loadSections, sectionTree, type Editor, type Section } from "../api.ts";
import "./admin.css";

type Endpoint = Schemas["WebhookEndpoint"];
type WithSecret = Schemas["WebhookEndpointWithSecret"];
type Delivery = Schemas["WebhookDelivery"];
type Pattern = Schemas["WebhookEventPattern"];
type DeliveryStatus = Delivery["status"];

// What an endpoint can subscribe to (openapi.yaml's WebhookEventType and WebhookEventPattern), by family.
const FAMILIES: { family: Pattern; label: string; types: Pattern[] }[] = [
  { family: "article.*", label: "Articles", types: ["article.published", "article.updated", "article.unpublished", "article.deleted", "article.withdrawn"] },
  { family: "section.*", label: "Sections", types: ["section.created", "section.updated", "section.renamed", "section.moved", "section.deleted"] },
  { family: "comment.*", label: "Comments", types: ["comment.created", "comment.approved"] },
  { family: "media.*", label: "Media", types: ["media.created", "media.updated", "media.deleted"] },
];
const OVERLAPS: { seconds: number; label: string }[] = [
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "1 day (default)" },
  { seconds: 604800, label: "7 days" },
  { seconds: 0, label: "None: the old secret stops now" },
];
const DELIVERY_STATES: { status: DeliveryStatus | ""; label: string }[] = [
  { status: "", label: "All" },
  { status: "pending", label: "Pending" },
  { status: "succeeded", label: "Succeeded" },
  { status: "failed", label: "Failed" },
  { status: "dead", label: "Dead (retries used up)" },
];

type Notice = { ok: boolean; text: string } | null;
type Secret = { endpoint: WithSecret; rotated: boolean; overlapSeconds?: number };

/** Webhook endpoints (ADMIN): register, change, turn off and on, rotate the secret, test, follow and repeat deliveries. */
export function Webhooks({ me }: { me: Editor }) {
  void me;
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [sections, setSections] = useState<Section[]>([]);
  const [message, setMessage] = useState<Notice>(null);
  const [secret, setSecret] = useState<Secret | null>(null);
  const [adding, setAdding] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = async () => {
    try {
      const r = await unwrap(dateline.api.GET("/api/v1/admin/webhooks"));
      setEndpoints(r.data);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };
  useEffect(() => {
    void load();
    loadSections().then(setSections, () => { /* the section filter then shows ids */ });
  }, []);

  const replace = (e: Endpoint) => setEndpoints((list) => list?.map((x) => (x.id === e.id ? e : x)) ?? null);

  const created = (e: WithSecret) => {
    setEndpoints((list) => [...(list ?? []), withoutSecret(e)]);
    setAdding(false);
    setMessage(null);
    setSecret({ endpoint: e, rotated: false });
  };

  const removed = (e: Endpoint) => {
    setEndpoints((list) => list?.filter((x) => x.id !== e.id) ?? null);
    if (secret?.endpoint.id === e.id) setSecret(null);
    setMessage({ ok: true, text: `Deleted the endpoint ${e.url} and its delivery log.` });
    heading.current?.focus();
  };

  return (
    <section class="admin">
      <div class="heading-row">
        <h1 tabIndex={-1} ref={heading}>Webhooks</h1>
        {!adding && <button type="button" class="primary" onClick={() => setAdding(true)}>Add an endpoint</button>}
      </div>
      <p class="hint">Dateline sends a signed POST to each endpoint when the events it subscribes to happen (a front end rebuilding its pages, a search index, a chat channel). Failed deliveries are retried with backoff; an endpoint that keeps failing, or answers 410, is turned off.</p>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {secret && <SecretNotice secret={secret} onDone={() => setSecret(null)} />}
      {adding && (
        <EndpointForm sections={sections} onCancel={() => setAdding(false)} onSaved={(e) => created(e as WithSecret)} />
      )}
      {endpoints && endpoints.length === 0 && !adding && <p class="empty">No endpoints yet.</p>}
      <ul class="endpoints" aria-busy={endpoints ? "false" : "true"}>
        {(endpoints ?? []).map((e) => (
          <EndpointCard key={e.id} endpoint={e} sections={sections} onChanged={replace} onRemoved={removed}
            onSecret={(s) => setSecret(s)} />
        ))}
      </ul>
    </section>
  );
}

function withoutSecret(e: WithSecret): Endpoint {
  const { secret: _secret, ...rest } = e;
  void _secret;
  return rest;
}

/** The new signing secret, shown once, with a copy button and what happens to the old one. */
function SecretNotice({ secret, onDone }: { secret: Secret; onDone: () => void }) {
  const box = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState("");
  useEffect(() => { heading.current?.focus(); }, [secret]);
  const e = secret.endpoint;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(e.secret);
      setCopied("Copied to the clipboard.");
    } catch {
      // No clipboard permission (an insecure origin, a refusing browser): select it for Ctrl/Cmd+C.
      box.current?.focus();
      box.current?.select();
      setCopied("Selected: press Ctrl+C (Cmd+C on a Mac) to copy it.");
    }
  };

  return (
    <div class="secret" data-testid="new-secret">
      <h2 tabIndex={-1} ref={heading}>{secret.rotated ? "New signing secret" : "Signing secret"} for {e.url}</h2>
      <p>Store it now in the receiver's settings: it is shown only this once.</p>
      <label for="new-secret">Secret</label>
      <input id="new-secret" ref={box} readOnly value={e.secret} class="mono" onFocus={(ev) => ev.currentTarget.select()} />
      {secret.rotated && (
        e.previousSecretExpiresAt
          ? <p>Until <time dateTime={e.previousSecretExpiresAt}>{formatTime(e.previousSecretExpiresAt)}</time> every delivery carries two signatures, <code>Dateline-Signature: v1=&lt;new&gt;,v1=&lt;old&gt;</code>, so the receiver keeps accepting deliveries while it switches to the new secret. After that only the new secret signs.</p>
          : <p>The old secret no longer signs: deliveries carry only the new signature from now on.</p>
      )}
      {!secret.rotated && <p>Each delivery carries <code>Dateline-Signature: v1=&lt;HMAC-SHA256 of the timestamp and body&gt;</code>, signed with this secret.</p>}
      <div class="buttons">
        <button type="button" onClick={copy}>Copy secret</button>
        <button type="button" class="primary" onClick={onDone}>I have stored it</button>
      </div>
      <p class="small" role="status">{copied}</p>
    </div>
  );
}

type FormState = { url: string; description: string; events: Set<Pattern>; sectionId: string; active: boolean };

/** Adds an endpoint (POST, answering with its secret) or changes one (PATCH with the fields that changed). */
function EndpointForm({ endpoint, sections, onSaved, onCancel }: {
  endpoint?: Endpoint; sections: Section[]; onSaved: (e: Endpoint | WithSecret) => void; onCancel: () => void;
}) {
  const prefix = endpoint ? `wh-${endpoint.id}` : "wh-new";
  const [form, setForm] = useState<FormState>(() => ({
    url: endpoint?.url ?? "",
    description: endpoint?.description ?? "",
    events: new Set(endpoint?.events ?? ["article.*"]),
    sectionId: endpoint?.sectionId ? String(endpoint.sectionId) : "",
    active: endpoint?.active ?? true,
  }));
  const [error, setError] = useState("");
  const [saving, setSaving] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => { first.current?.focus(); }, []);

  const toggle = (p: Pattern, on: boolean) => {
    const next = new Set(form.events);
    if (on) next.add(p); else next.delete(p);
    setForm({ ...form, events: next });
  };
  const everything = form.events.has("*");

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError("");
    // What a checked family or "*" already covers is not sent again.
    const events: Pattern[] = form.events.has("*")
      ? ["*"]
      : [...form.events].filter((p) => !FAMILIES.some((f) => f.types.includes(p) && form.events.has(f.family)));
    if (!events.length) { setError("Choose at least one event."); return; }
    const sectionId = form.sectionId ? Number(form.sectionId) : null;
    setSaving(true);
    try {
      if (!endpoint) {
        onSaved(await unwrap(dateline.api.POST("/api/v1/admin/webhooks", {
          body: { url: form.url.trim(), events, sectionId, active: form.active, ...(form.description.trim() ? { description: form.description.trim() } : {}) },
        })));
      } else {
        const body: Schemas["WebhookUpdate"] = {};
        if (form.url.trim() !== endpoint.url) body.url = form.url.trim();
        if (form.description.trim() !== endpoint.description) body.description = form.description.trim();
        if (events.slice().sort().join() !== endpoint.events.slice().sort().join()) body.events = events;
        if (sectionId !== endpoint.sectionId) body.sectionId = sectionId;
        if (!Object.keys(body).length) { onCancel(); return; }
        onSaved(await unwrap(dateline.api.PATCH("/api/v1/admin/webhooks/{id}", { params: { path: { id: endpoint.id } }, body })));
      }
    } catch (err) {
      setError(describe(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="card endpoint-form" onSubmit={submit} aria-labelledby={`${prefix}-title`}>
      <h2 id={`${prefix}-title`}>{endpoint ? `Change ${endpoint.url}` : "Add an endpoint"}</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="grid-form">
        <div class="wide">
          <label for={`${prefix}-url`}>URL</label>
          <input id={`${prefix}-url`} ref={first} type="url" required maxLength={2000} placeholder="https://frontend.example.com/api/revalidate"
            aria-describedby={`${prefix}-url-hint`} value={form.url} onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} />
          <p id={`${prefix}-url-hint`} class="hint">http or https, no user name or password in it; private and local addresses are refused unless the server allows them (WEBHOOK_ALLOWED_HOSTS).</p>
        </div>
        <div class="wide">
          <label for={`${prefix}-desc`}>Description</label>
          <input id={`${prefix}-desc`} maxLength={500} placeholder="What receives it, who to call when it breaks"
            value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
        </div>
        <div>
          <label for={`${prefix}-section`}>Only events of a section</label>
          <select id={`${prefix}-section`} value={form.sectionId} aria-describedby={`${prefix}-section-hint`}
            onChange={(e) => setForm({ ...form, sectionId: e.currentTarget.value })}>
            <option value="">Every section</option>
            {sectionTree(sections).map(({ section, depth }) => (
              <option key={section.id} value={String(section.id)}>{"\u2003".repeat(depth)}{section.name}</option>
            ))}
          </select>
          <p id={`${prefix}-section-hint`} class="hint">Includes its subsections; media events are not sent to a section's endpoint.</p>
        </div>
        {!endpoint && (
          <div class="field check">
            <input id={`${prefix}-active`} type="checkbox" checked={form.active} onChange={(e) => setForm({ ...form, active: e.currentTarget.checked })} />
            <label for={`${prefix}-active`}>Send deliveries from now on</label>
          </div>
        )}
      </div>
      <fieldset>
        <legend class="label">Events</legend>
        <div class="checks">
          <label><input type="checkbox" checked={everything} onChange={(e) => toggle("*", e.currentTarget.checked)} /> Everything (<code>*</code>)</label>
        </div>
        {FAMILIES.map((f) => (
          <div class="checks" key={f.family} role="group" aria-label={f.label}>
            <label><input type="checkbox" disabled={everything} checked={everything || form.events.has(f.family)}
              onChange={(e) => toggle(f.family, e.currentTarget.checked)} /> All {f.label.toLowerCase()} (<code>{f.family}</code>)</label>
            {f.types.map((t) => (
              <label key={t}><input type="checkbox" disabled={everything || form.events.has(f.family)}
                checked={everything || form.events.has(f.family) || form.events.has(t)} onChange={(e) => toggle(t, e.currentTarget.checked)} /> <code>{t}</code></label>
            ))}
          </div>
        ))}
      </fieldset>
      <div class="buttons">
        <button type="submit" class="primary" disabled={saving}>{endpoint ? "Save changes" : "Add endpoint"}</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

function EndpointCard({ endpoint: e, sections, onChanged, onRemoved, onSecret }: {
  endpoint: Endpoint; sections: Section[]; onChanged: (e: Endpoint) => void; onRemoved: (e: Endpoint) => void; onSecret: (s: Secret) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [overlap, setOverlap] = useState(86400);
  const [showLog, setShowLog] = useState(false);
  const [logKey, setLogKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<Notice>(null);
  const section = e.sectionId ? sections.find((s) => s.id === e.sectionId) : undefined;
  const label = e.description || e.url;

  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try { await work(); } catch (err) { setMessage({ ok: false, text: describe(err) }); } finally { setBusy(false); }
  };

  const setActive = (active: boolean) => act(async () => {
    onChanged(await unwrap(dateline.api.PATCH("/api/v1/admin/webhooks/{id}", { params: { path: { id: e.id } }, body: { active } })));
    setMessage({ ok: true, text: active ? "Turned on: deliveries waiting are sent now." : "Turned off: events are still queued for it, not sent." });
  });

  const ping = () => act(async () => {
    await unwrap(dateline.api.POST("/api/v1/admin/webhooks/{id}/ping", { params: { path: { id: e.id } } }));
    setMessage({ ok: true, text: e.active ? "Test delivery queued: follow it in the delivery log below." : "Test delivery queued; it is sent once the endpoint is turned on." });
    setShowLog(true);
    setLogKey((k) => k + 1);
  });

  const rotate = () => act(async () => {
    const r = await unwrap(dateline.api.POST("/api/v1/admin/webhooks/{id}/rotate-secret", {
      params: { path: { id: e.id } }, body: { overlapSeconds: overlap },
    }));
    setRotating(false);
    onChanged(withoutSecret(r));
    onSecret({ endpoint: r, rotated: true, overlapSeconds: overlap });
  });

  const remove = () => {
    if (!confirm(`Delete the endpoint ${e.url}? Its delivery log and any deliveries still waiting go with it.`)) return;
    void act(async () => {
      await unwrap(dateline.api.DELETE("/api/v1/admin/webhooks/{id}", { params: { path: { id: e.id } } }));
      onRemoved(e);
    });
  };

  if (editing) {
    return (
      <li>
        <EndpointForm endpoint={e} sections={sections} onCancel={() => setEditing(false)}
          onSaved={(x) => { setEditing(false); onChanged(x as Endpoint); setMessage({ ok: true, text: "Saved." }); }} />
      </li>
    );
  }

  return (
    <li class="endpoint card" data-testid="endpoint">
      <h2>{e.url}</h2>
      <dl>
        <dt>State</dt>
        <dd data-testid="endpoint-state">
          {e.active
            ? <span class="state on">On</span>
            : <span class="state off">Off</span>}
          {!e.active && (e.disabledReason
            ? <> Turned off by Dateline{e.disabledAt ? <> on <time dateTime={e.disabledAt}>{formatTime(e.disabledAt)}</time></> : ""}: {e.disabledReason}</>
            : " Turned off by an admin.")}
          {e.active && e.consecutiveFailures > 0 && ` ${e.consecutiveFailures} failed ${e.consecutiveFailures === 1 ? "delivery" : "deliveries"} in a row.`}
        </dd>
        {e.description && <><dt>Description</dt><dd>{e.description}</dd></>}
        <dt>Events</dt>
        <dd>{e.events.map((x, i) => <Fragment key={x}>{i ? ", " : ""}<code>{x}</code></Fragment>)}</dd>
        <dt>Section</dt>
        <dd>{e.sectionId ? (section?.name ?? `#${e.sectionId}`) : "Every section"}</dd>
        {e.previousSecretExpiresAt && <><dt>Previous secret</dt><dd>Still signs until <time dateTime={e.previousSecretExpiresAt}>{formatTime(e.previousSecretExpiresAt)}</time></dd></>}
        <dt>Added</dt>
        <dd><time dateTime={e.createdAt}>{formatTime(e.createdAt)}</time></dd>
      </dl>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <div class="buttons" role="group" aria-label={`Endpoint ${label}`}>
        <button type="button" disabled={busy} onClick={ping}>Send a test</button>
        <button type="button" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>{showLog ? "Hide deliveries" : "Deliveries"}</button>
        <button type="button" disabled={busy} onClick={() => setEditing(true)}>Edit</button>
        <button type="button" disabled={busy} onClick={() => setActive(!e.active)}>{e.active ? "Turn off" : "Turn on"}</button>
        <button type="button" disabled={busy} aria-expanded={rotating} onClick={() => setRotating(!rotating)}>Rotate secret</button>
        <button type="button" class="danger" disabled={busy} onClick={remove}>Delete</button>
      </div>
      {rotating && (
        <div class="secret">
          <h3>Rotate the signing secret</h3>
          <p>A new secret is made and shown once. During the overlap every delivery is signed with both secrets, so the receiver can switch without losing a delivery.</p>
          <label for={`overlap-${e.id}`}>Overlap</label>
          <select id={`overlap-${e.id}`} value={String(overlap)} onChange={(ev) => setOverlap(Number(ev.currentTarget.value))}>
            {OVERLAPS.map((o) => <option key={o.seconds} value={String(o.seconds)}>{o.label}</option>)}
          </select>
          <div class="buttons">
            <button type="button" class="primary" disabled={busy} onClick={rotate}>Rotate now</button>
            <button type="button" onClick={() => setRotating(false)}>Cancel</button>
          </div>
        </div>
      )}
      {showLog && <Deliveries key={logKey} endpoint={e} />}
    </li>
  );
}

/** An endpoint's delivery log, newest first, with redeliver; refreshes itself while a delivery is pending. */
function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const [status, setStatus] = useState<DeliveryStatus | "">("");
  const [items, setItems] = useState<Delivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [message, setMessage] = useState<Notice>(null);
  const [open, setOpen] = useState<number | null>(null);
  const generation = useRef(0);

  const load = async (after: string | null) => {
    const gen = ++generation.current;
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/webhooks/{id}/deliveries", {
        params: { path: { id: endpoint.id }, query: { limit: 25, ...(status ? { status } : {}), ...(after ? { cursor: after } : {}) } },
      }));
      if (gen !== generation.current) return;
      setItems((prev) => (after ? [...(prev ?? []), ...page.data] : page.data));
      setCursor(page.meta.nextCursor ?? null);
    } catch (err) {
      if (gen === generation.current) setMessage({ ok: false, text: describe(err) });
    }
  };
  useEffect(() => { setItems(null); void load(null); }, [status]);

  // A pending delivery changes by itself (sent, retried): look again every 2 s while one is shown.
  const pending = items?.some((d) => d.status === "pending") ?? false;
  useEffect(() => {
    if (!pending || cursor) return;
    const timer = setTimeout(() => void load(null), 2000);
    return () => clearTimeout(timer);
  }, [items, pending, cursor]);

  const redeliver = async (d: Delivery) => {
    setMessage(null);
    try {
      const r = await unwrap(dateline.api.POST("/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver", {
        params: { path: { id: endpoint.id, deliveryId: d.id } },
      }));
      setItems((prev) => prev?.map((x) => (x.id === d.id ? r : x)) ?? null);
      setMessage({ ok: true, text: endpoint.active ? `Delivery ${d.eventId} queued again.` : `Delivery ${d.eventId} queued again; it is sent once the endpoint is turned on.` });
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  const id = `deliveries-${endpoint.id}`;
  return (
    <div class="deliveries">
      <h3 id={id}>Deliveries</h3>
      <div class="filters">
        <div class="field">
          <label for={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={status} onChange={(e) => setStatus(e.currentTarget.value as DeliveryStatus | "")}>
            {DELIVERY_STATES.map((s) => <option key={s.status} value={s.status}>{s.label}</option>)}
          </select>
        </div>
        <button type="button" onClick={() => load(null)}>Refresh</button>
      </div>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      {items && items.length === 0 && <p class="empty">No deliveries{status ? " in this state" : " yet"}.</p>}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="log" aria-labelledby={id} aria-busy={items ? "false" : "true"}>
            <thead>
              <tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Response</th><th scope="col">When</th><th scope="col"><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <Fragment key={d.id}>
                  <tr data-testid="delivery">
                    <td><code>{d.type}</code><br /><span class="small muted event-id">{d.eventId}</span></td>
                    <td><span class={`state ${d.status}`}>{d.status}</span></td>
                    <td>{d.attempts}</td>
                    <td>
                      {d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.attempts ? "No answer" : "Not sent yet"}
                      {d.durationMs !== null && <span class="small muted"> in {d.durationMs} ms</span>}
                      {d.lastError && <><br /><span class="small error-text">{d.lastError}</span></>}
                    </td>
                    <td class="small">
                      {d.deliveredAt && <>Delivered <time dateTime={d.deliveredAt}>{formatTime(d.deliveredAt)}</time></>}
                      {!d.deliveredAt && d.nextAttemptAt && <>Next attempt <time dateTime={d.nextAttemptAt}>{formatTime(d.nextAttemptAt)}</time></>}
                      {!d.deliveredAt && !d.nextAttemptAt && <>Event of <time dateTime={d.occurredAt}>{formatTime(d.occurredAt)}</time></>}
                    </td>
                    <td class="row-actions">
                      <button type="button" aria-expanded={open === d.id} aria-label={`Payload of ${d.eventId}`} onClick={() => setOpen(open === d.id ? null : d.id)}>Payload</button>{" "}
                      <button type="button" aria-label={`Redeliver ${d.eventId}`} onClick={() => redeliver(d)}>Redeliver</button>
                    </td>
                  </tr>
                  {open === d.id && (
                    <tr><td colSpan={6}><pre class="details">{JSON.stringify(d.payload, null, 2)}</pre></td></tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <p><button type="button" onClick={() => load(cursor)}>Load more</button></p>}
    </div>
  );
}

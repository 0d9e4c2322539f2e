import { useEffect, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, type Editor } from "../api.ts";
import "./admin.css";

type Role = Schemas["Role"];
const ROLES: { role: Role; label: string }[] = [
  { role: "WRITER", label: "Writer" },
  { role: "EDITOR", label: "Editor" },
  { role: "ADMIN", label: "Admin" },
];

/** The newsroom's accounts (ADMIN): add one, change a role, deactivate or reactivate. */
export function Editors({ me }: { me: Editor }) {
  const [editors, setEditors] = useState<Editor[] | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [form, setForm] = useState({ name: "", email: "", password: "", role: "WRITER" as Role });
  const [showPassword, setShowPassword] = useState(false);

  const load = async () => {
    try {
      const all: Editor[] = [];
      for await (const e of dateline.paginate((cursor) => dateline.api.GET("/api/v1/admin/editors", { params: { query: { limit: 100, cursor } } }))) all.push(e);
      setEditors(all);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };
  useEffect(() => { void load(); }, []);

  const update = async (e: Editor, body: Schemas["EditorUpdate"], done: string) => {
    setMessage(null);
    try {
      const changed = await unwrap(dateline.api.PATCH("/api/v1/admin/editors/{id}", {
        params: { path: { id: e.id }, header: { "If-Match": `"${e.version}"` } }, body,
      }));
      setEditors((list) => list?.map((x) => (x.id === e.id ? changed : x)) ?? null);
      setMessage({ ok: true, text: `${e.name}: ${done}.` });
    } catch (err) {
      setMessage({ ok: false, text: `${e.name}: ${describe(err)}` });
      void load();
    }
  };

  const create = async (ev: Event) => {
    ev.preventDefault();
    setMessage(null);
    try {
      const created = await unwrap(dateline.api.POST("/api/v1/admin/editors", { body: form }));
      setEditors((list) => [...(list ?? []), created]);
      setForm({ name: "", email: "", password: "", role: "WRITER" });
      setShowPassword(false);
      setMessage({ ok: true, text: `${created.name} can sign in now. Pass on the first password privately; they sign in as ${created.email}.` });
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  return (
    <section>
      <h1 tabIndex={-1}>Editors</h1>
      {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
      <table class="editors" aria-busy={editors ? "false" : "true"}>
        <caption class="sr-only">Accounts</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Account</th></tr></thead>
        <tbody>
          {(editors ?? []).map((e) => (
            <tr key={e.id} class={e.active ? undefined : "inactive"}>
              <td>{e.name}{e.id === me.id ? " (you)" : ""}</td>
              <td>{e.email}</td>
              <td>
                <label class="sr-only" for={`role-${e.id}`}>Role of {e.name}</label>
                <select id={`role-${e.id}`} value={e.role} disabled={e.id === me.id}
                  onChange={(ev) => update(e, { role: ev.currentTarget.value as Role }, `now ${ev.currentTarget.value.toLowerCase()}`)}>
                  {ROLES.map((r) => <option key={r.role} value={r.role}>{r.label}</option>)}
                </select>
              </td>
              <td>
                {e.active ? "Active" : "Deactivated"}{" "}
                {e.id !== me.id && (
                  <button type="button" aria-label={`${e.active ? "Deactivate" : "Reactivate"} ${e.name}`}
                    onClick={() => update(e, { active: !e.active }, e.active ? "deactivated" : "reactivated")}>
                    {e.active ? "Deactivate" : "Reactivate"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <form class="card narrow add-editor" onSubmit={create}>
        <h2>Add an editor</h2>
        <label for="ne-name">Name</label>
        <input id="ne-name" required value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
        <label for="ne-email">Email</label>
        <input id="ne-email" type="email" required autocomplete="off" value={form.email} onInput={(e) => setForm({ ...form, email: e.currentTarget.value })} />
        <label for="ne-password">First password</label>
        <input id="ne-password" type={(showPassword ? "text" : "password") as "password"} required minLength={12} autocomplete="new-password" aria-describedby="ne-password-hint"
          value={form.password} onInput={(e) => setForm({ ...form, password: e.currentTarget.value })} />
        <p id="ne-password-hint" class="hint">At least 12 characters; they change it under Password. The API has no invitation email: pass it on yourself.</p>
        <div class="password-tools">
          <button type="button" onClick={() => { setForm({ ...form, password: suggestPassword() }); setShowPassword(true); }}>Suggest a password</button>
          <button type="button" aria-pressed={showPassword} onClick={() => setShowPassword(!showPassword)}>Show password</button>
        </div>
        <label for="ne-role">Role</label>
        <select id="ne-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value as Role })}>
          {ROLES.map((r) => <option key={r.role} value={r.role}>{r.label}</option>)}
        </select>
        <button type="submit" class="primary">Add editor</button>
      </form>
    </section>
  );
}

/** 20 characters from a 57-letter alphabet without look-alikes (about 116 bits), from the browser's CSPRNG. */
function suggestPassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const out: string[] = [];
  const bytes = new Uint8Array(64);
  while (out.length < 20) {
    crypto.getRandomValues(bytes);
    // Rejection sampling keeps every letter equally likely.
    for (const b of bytes) if (b < 228 && out.length < 20) out.push(alphabet[b % 57]);
  }
  return out.join("");
}

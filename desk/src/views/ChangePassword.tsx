import { useState } from "preact/hooks";
import { unwrap } from "@dateline/client";
import { dateline, describe } from "../api.ts";

export function ChangePassword() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await unwrap(dateline.api.POST("/api/v1/admin/me/password", { body: { currentPassword: current, newPassword: next } }));
      setMessage({ ok: true, text: "Password changed. Your other sessions were signed out." });
      setCurrent("");
      setNext("");
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <h1 tabIndex={-1}>Change your password</h1>
      <form class="card" onSubmit={submit}>
        {message && <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>}
        <label for="pw-current">Current password</label>
        <input id="pw-current" type="password" autocomplete="current-password" required value={current}
          onInput={(e) => setCurrent(e.currentTarget.value)} />
        <label for="pw-new">New password</label>
        <input id="pw-new" type="password" autocomplete="new-password" required minLength={12} value={next}
          aria-describedby="pw-new-hint" onInput={(e) => setNext(e.currentTarget.value)} />
        <p id="pw-new-hint" class="hint">At least 12 characters.</p>
        <button type="submit" class="primary" disabled={busy}>Change password</button>
      </form>
    </section>
  );
}

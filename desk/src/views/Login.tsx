import { useEffect, useRef, useState } from "preact/hooks";
import { dateline, describe, type Editor } from "../api.ts";

export function Login({ onLoggedIn }: { onLoggedIn: (me: Editor) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const emailInput = useRef<HTMLInputElement>(null);
  useEffect(() => emailInput.current?.focus(), []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await dateline.login(email.trim(), password);
      const r = await dateline.api.GET("/api/v1/admin/me");
      if (!r.data) throw new Error("Signed in, but your account could not be read.");
      onLoggedIn(r.data);
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="centered">
      <form class="card login" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Dateline desk</h1>
        <p class="muted">Sign in with your editor account.</p>
        {error && <p class="error" role="alert">{error}</p>}
        <label for="login-email">Email</label>
        <input id="login-email" ref={emailInput} type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}

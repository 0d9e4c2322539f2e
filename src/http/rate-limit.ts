// Sliding-window limits counted from rows the database already keeps
// (comments by client), so they hold across restarts and app instances without
// extra state. Failed logins have their own atomic limiter (auth/login-limits.ts).

/**
 * Seconds until another attempt is allowed, or 0 when not limited.
 * `recent` holds the newest at most `max` event times inside the window.
 */
export function retryAfterSeconds(recent: Date[], max: number, windowSeconds: number): number {
  if (recent.length < max) return 0;
  const oldest = Math.min(...recent.map((d) => d.getTime()));
  return Math.max(1, Math.ceil((oldest + windowSeconds * 1000 - Date.now()) / 1000));
}

/** The start of a window ending now. */
export const windowStart = (windowSeconds: number) => new Date(Date.now() - windowSeconds * 1000);

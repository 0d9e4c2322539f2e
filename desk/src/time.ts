// Times on the desk are the site's (SITE_TIMEZONE, handed over by the server in a <meta> of
// index.html), not the browser's: an editor abroad schedules "09:00" as the newsroom means it.

export const SITE_TIME_ZONE = (() => {
  const tz = document.querySelector<HTMLMetaElement>('meta[name="dateline-site-timezone"]')?.content || "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz;
  } catch {
    return "UTC";
  }
})();

const parts = new Intl.DateTimeFormat("en-US", {
  timeZone: SITE_TIME_ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** The site's wall-clock time at an instant, as milliseconds of the same wall time in UTC. */
function wallMs(ms: number): number {
  const p = Object.fromEntries(parts.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/** A `datetime-local` value ("2026-06-08T14:55") read in the site's time zone, as an instant. */
export function fromSiteLocal(value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return new Date(NaN);
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  // The offset at the guess, then at the corrected instant (a guess across a DST change moves once more).
  let t = wall - (wallMs(wall) - wall);
  t = wall - (wallMs(t) - t);
  return new Date(t);
}

/** An instant as a `datetime-local` value in the site's time zone. */
export function toSiteLocal(iso: string | Date): string {
  const ms = wallMs(new Date(iso).getTime());
  return new Date(ms).toISOString().slice(0, 16);
}

const display = new Intl.DateTimeFormat(undefined, { timeZone: SITE_TIME_ZONE, dateStyle: "medium", timeStyle: "short" });

/** A time for people, in the site's time zone. */
export const formatTime = (iso: string | null | undefined) => (iso ? display.format(new Date(iso)) : "");

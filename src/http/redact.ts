// What may reach the logs of a request's URL. Some URLs carry credentials:
// a preview link is a bearer token in the path, and clients put tokens in
// query strings (?token=, ?access_token=). Logs are read by more people, and
// kept longer, than the tokens live; so those parts are replaced before the
// URL is logged.

const REDACTED = "[REDACTED]";

// Path segments that follow these segments are credentials.
const SECRET_AFTER = new Set(["preview"]);

// Query parameters whose values are credentials (compared case-insensitively,
// ignoring "-" and "_": accessToken, access_token and access-token alike).
const SECRET_PARAMS = /^(token|accesstoken|refreshtoken|idtoken|previewtoken|jwt|auth|authorization|key|apikey|secret|clientsecret|signature|sig|password|passwd|pwd|code|session|sessionid)$/;

/** The URL with every credential-bearing path segment and query value replaced. */
export function redactUrl(url: string | undefined): string {
  if (!url) return "";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) {
    if (SECRET_AFTER.has(segments[i - 1].toLowerCase()) && segments[i]) segments[i] = REDACTED;
  }
  let out = segments.join("/");
  if (q !== -1) {
    const query = url
      .slice(q + 1)
      .split("&")
      .map((pair) => {
        const eq = pair.indexOf("=");
        const rawName = eq === -1 ? pair : pair.slice(0, eq);
        let name = rawName;
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, " "));
        } catch {
          // A malformed name is logged as sent; it is not a known secret name.
        }
        return eq !== -1 && SECRET_PARAMS.test(name.toLowerCase().replace(/[-_]/g, "")) ? `${rawName}=${REDACTED}` : pair;
      })
      .join("&");
    out += `?${query}`;
  }
  return out;
}

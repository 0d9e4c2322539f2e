// Template literals that escape every interpolated value unless it is marked trusted with `raw()`
// (only the API's sanitized article body and markup this module built itself).
const TRUSTED = Symbol("trusted-html");

export interface Html {
  readonly [TRUSTED]: true;
  readonly value: string;
}

export function raw(value: string): Html {
  return { [TRUSTED]: true, value };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

type Value = Html | string | number | null | undefined | false | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  if (typeof value === "object" && TRUSTED in value) return (value as Html).value;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return raw(out);
}

/** JSON for a `<script type="application/ld+json">`: `<` escaped so no string can close the element. */
export function jsonForScript(value: unknown): Html {
  return raw(JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029"));
}

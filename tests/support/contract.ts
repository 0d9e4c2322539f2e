// Validates every response a test receives against openapi.yaml: the status
// must be documented for the operation and the body must match its schema.
import fs from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import YAML from "yaml";

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

const SPEC_PATH = path.resolve(import.meta.dirname, "..", "..", "openapi.yaml");
const spec = YAML.parse(fs.readFileSync(SPEC_PATH, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...spec, $id: "openapi.json" });

interface Route {
  template: string;
  regex: RegExp;
  params: number;
}

const routes: Route[] = Object.keys(spec.paths ?? {})
  .map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    params: (template.match(/\{/g) ?? []).length,
  }))
  // Literal segments win over templated ones (/articles/{slug} vs /articles/x/comments).
  .sort((a, b) => a.params - b.params);

function resolveRef(obj: Record<string, unknown>): Record<string, unknown> {
  let cur = obj;
  while (cur && typeof cur.$ref === "string") {
    const parts = (cur.$ref as string).replace(/^#\//, "").split("/");
    cur = parts.reduce((o: any, k) => o?.[k], spec);
  }
  return cur;
}

const validators = new Map<string, ReturnType<Ajv2020["compile"]>>();

export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text?: string;
}

/** Throws with a readable message when the response is not what the spec says. */
export function assertMatchesSpec(method: string, urlPath: string, res: CheckedResponse): void {
  const pathname = urlPath.split("?")[0];
  const route = routes.find((r) => r.regex.test(pathname));
  const where = `${method.toUpperCase()} ${pathname} -> ${res.status}`;
  if (!route) {
    // Unknown routes are not in the spec; they must still answer a Problem.
    if (res.status !== 404) throw new Error(`openapi.yaml has no path for ${where}`);
    const validate = ajv.getSchema("openapi.json#/components/schemas/Problem")!;
    if (!validate(res.body)) throw new Error(`${where}: not a Problem: ${ajv.errorsText(validate.errors)}`);
    return;
  }
  const op = spec.paths[route.template][method.toLowerCase()];
  if (!op) throw new Error(`openapi.yaml has no ${method.toUpperCase()} operation on ${route.template} (${where})`);
  const responses = op.responses ?? {};
  const declared = responses[String(res.status)] ?? responses[`${String(res.status)[0]}XX`] ?? responses.default;
  if (!declared) {
    throw new Error(`openapi.yaml does not document status ${res.status} for ${method.toUpperCase()} ${route.template} (${where}); body: ${JSON.stringify(res.body)}`);
  }
  const response = resolveRef(declared);
  const content = response.content as Record<string, { schema?: unknown }> | undefined;
  const ctype = String(res.headers["content-type"] ?? "").split(";")[0].trim();
  if (!content) {
    if (ctype && res.status !== 204 && (res.text ?? "").length > 0) {
      throw new Error(`${where}: spec documents no body but got ${ctype}`);
    }
    return;
  }
  const media = content[ctype];
  if (!media) throw new Error(`${where}: content-type ${ctype || "(none)"} not in spec (${Object.keys(content).join(", ")})`);
  if (!media.schema) return;
  const key = `${route.template} ${method} ${res.status} ${ctype}`;
  let validate = validators.get(key);
  if (!validate) {
    const pointer = declared.$ref
      ? `${(declared.$ref as string).replace(/^#/, "")}/content/${ctype.replace(/\//g, "~1")}/schema`
      : `/paths/${route.template.replace(/~/g, "~0").replace(/\//g, "~1")}/${method.toLowerCase()}/responses/${res.status in responses ? res.status : "default"}/content/${ctype.replace(/\//g, "~1")}/schema`;
    validate = ajv.compile({ $ref: `openapi.json#${pointer.split("/").map((p) => encodeURIComponent(p).replace(/%7E/g, "~")).join("/")}` });
    validators.set(key, validate);
  }
  const body = ctype.includes("json") ? res.body : res.text;
  if (!validate(body)) {
    throw new Error(`${where}: body does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\nbody: ${JSON.stringify(body).slice(0, 2000)}`);
  }
}

// Regenerates src/schema.ts from the repository's openapi.yaml with openapi-typescript.
// `node scripts/generate.mjs [--out FILE]` writes elsewhere (tests regenerate into a temporary
// file and compare it with the checked-in one: the output must not drift from the document).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = path.resolve(here, "../../../openapi.yaml");
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.resolve(here, "../src/schema.ts");

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

const ast = await openapiTS(pathToFileURL(spec), {
  // openapi-typescript's defaults otherwise, as a new user runs it: request schemas carry no `default`
  // (openapi.yaml states it in the description), so its defaultNonNullable cannot make them required.
  // Uploads (`format: binary`) are sent as a Blob/File in multipart bodies, not as a string.
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return schemaObject.nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
    }
    return undefined;
  },
  silent: true,
});

const header = "// Generated from openapi.yaml by `npm run generate -w @dateline/client` (openapi-typescript). Do not edit.\n\n";
fs.writeFileSync(out, header + astToString(ast));
if (outArg < 0) console.log(`wrote ${path.relative(process.cwd(), out)}`);

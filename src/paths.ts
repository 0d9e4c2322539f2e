// The repository root, from source (src/) or from the build (dist/src/):
// openapi.yaml and prisma/migrations are read from there at run time.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const REPO_ROOT = fs.existsSync(path.join(here, "..", "package.json")) ? path.join(here, "..") : path.join(here, "..", "..");

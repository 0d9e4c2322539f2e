// Runs in a piscina worker thread (see sanitize-pool.ts): the structure check,
// sanitizing and plain-text extraction of one article body, off the event loop.
import type { MessagePort } from "node:worker_threads";
import { plainText, sanitizeBody, structureProblem, type StructureLimits } from "./sanitize.ts";

export interface SanitizeTask {
  html: string;
  limits: StructureLimits;
  /** Told when the task starts running, so that its time limit excludes time spent in the queue. */
  started: MessagePort;
}

export type SanitizeResult = { ok: true; body: string; bodyText: string } | { ok: false; problem: string };

export default function sanitizeTask({ html, limits, started }: SanitizeTask): SanitizeResult {
  started.postMessage(null);
  const problem = structureProblem(html, limits);
  if (problem) return { ok: false, problem };
  const body = sanitizeBody(html);
  return { ok: true, body, bodyText: plainText(body) };
}

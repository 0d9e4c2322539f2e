// Article bodies are sanitized in worker threads rather than on the event
// loop, in two layers: a size cap checked here, and in the worker a linear
// structure check (nesting depth, element count) before sanitize-html, whose
// cost grows with size times depth. A task that still runs past its time limit
// is stopped (its thread is terminated) and the body refused as too complex.
// One hostile body therefore costs at most one worker thread for the time
// limit; every other request, /healthz included, keeps being answered.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import type { Config } from "../config.ts";
import { HttpError, badRequest } from "../http/errors.ts";
import type { SanitizeResult, SanitizeTask } from "./sanitize-worker.ts";

export interface SanitizedBody {
  body: string;
  bodyText: string;
}

export interface BodySanitizer {
  /**
   * The stored form of an article body: sanitized HTML and its plain text.
   * Refuses an oversized or too deeply nested body with 400, and one that
   * runs out of time with 422; `field` names the offending input in both.
   */
  sanitize(html: string, field?: string): Promise<SanitizedBody>;
  /** Tasks running in a worker right now (queued ones not counted). */
  readonly running: number;
  /** Stops the worker threads; tasks still pending are rejected. */
  close(): Promise<void>;
}

export interface BodySanitizerOptions {
  maxChars: number;
  maxDepth: number;
  maxElements: number;
  timeoutMs: number;
  threads: number;
}

export const bodySanitizerOptions = (config: Config): BodySanitizerOptions => ({
  maxChars: config.BODY_HTML_MAX_CHARS,
  maxDepth: config.BODY_HTML_MAX_DEPTH,
  maxElements: config.BODY_HTML_MAX_ELEMENTS,
  timeoutMs: config.BODY_SANITIZE_TIMEOUT_MS,
  threads: config.BODY_SANITIZE_THREADS,
});

// The worker is the sibling module with this file's extension: .ts under tsx
// (tests, npm run dev; workers inherit its --import), .js in the build.
const WORKER_URL = new URL(`./sanitize-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/** 422 for a body that could not be sanitized in time; `field` names it when it came with the request. */
export const tooComplex = (field?: string, what = "The body") =>
  new HttpError(
    422,
    "body-too-complex",
    `${what} is too complex to process.`,
    field ? [{ path: field, message: "Too complex to process; use fewer and less deeply nested elements." }] : undefined,
  );

export function createBodySanitizer(options: BodySanitizerOptions): BodySanitizer {
  // Created on first use: most processes (and test files) never sanitize.
  let pool: Piscina<SanitizeTask, SanitizeResult> | undefined;
  let running = 0;
  const limits = { maxDepth: options.maxDepth, maxElements: options.maxElements };

  return {
    get running() {
      return running;
    },

    async sanitize(html, field = "body.body") {
      if (html.length > options.maxChars) {
        throw badRequest("The request is invalid.", [
          { path: field, message: `Must be at most ${options.maxChars} characters.` },
        ]);
      }
      if (html === "") return { body: "", bodyText: "" };
      pool ??= new Piscina({
        filename: WORKER_URL,
        minThreads: options.threads,
        maxThreads: options.threads,
        // A worker that runs out of memory is terminated alone instead of the process.
        resourceLimits: { maxOldGenerationSizeMb: 256 },
      });
      const abort = new AbortController();
      const { port1, port2 } = new MessageChannel();
      let timer: NodeJS.Timeout | undefined;
      let started = false;
      let settled = false;
      // The start notice and the result travel on different ports, so the notice may come last.
      port1.once("message", () => {
        if (settled) return;
        started = true;
        running += 1;
        timer = setTimeout(() => abort.abort(), options.timeoutMs);
      });
      try {
        const result = await pool.run({ html, limits, started: port2 }, { transferList: [port2], signal: abort.signal });
        if (!result.ok) throw badRequest("The request is invalid.", [{ path: field, message: result.problem }]);
        return { body: result.body, bodyText: result.bodyText };
      } catch (err) {
        if (abort.signal.aborted || (err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY") {
          throw tooComplex(field);
        }
        throw err;
      } finally {
        settled = true;
        clearTimeout(timer);
        port1.close();
        if (started) running -= 1;
      }
    },

    async close() {
      const p = pool;
      pool = undefined;
      await p?.destroy();
    },
  };
}

// @dateline/client: a small fetch client over openapi-fetch, typed by the generated `paths`.
// `client.api` is the plain openapi-fetch client (results as `{ data, error, response }`); the helpers
// add what every frontend needs: tokens kept and refreshed once on a 401, cursor pagination as an
// async iterator, ETag revalidation of GETs, and problem+json errors thrown as `DatelineProblem`.
import createClient, { type Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type FieldError = Schemas["FieldError"];
export type TokenPair = Schemas["TokenPair"];
export type DatelineApi = Client<paths>;

/** A problem+json answer (RFC 9457) as an exception. */
export class DatelineProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;
  /** The whole problem document, with its extension members (`currentEtag`, `lockedBy`, ...). */
  readonly problem: Partial<Problem> & Record<string, unknown>;

  constructor(status: number, problem: Partial<Problem> & Record<string, unknown>) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "DatelineProblem";
    this.status = typeof problem.status === "number" ? problem.status : status;
    this.type = problem.type ?? "about:blank";
    this.title = problem.title ?? `HTTP ${status}`;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = problem.requestId;
    this.problem = problem;
  }

  /** The code at the end of `urn:dateline:problem:<code>` (for example `validation-error`). */
  get code(): string {
    return this.type.startsWith("urn:dateline:problem:") ? this.type.slice("urn:dateline:problem:".length) : this.type;
  }
}

/** Builds the exception from any failed openapi-fetch result (problem+json or not). */
export function toProblem(error: unknown, response: Response): DatelineProblem {
  if (error && typeof error === "object" && !Array.isArray(error)) {
    return new DatelineProblem(response.status, error as Record<string, unknown>);
  }
  return new DatelineProblem(response.status, {
    title: response.statusText || `HTTP ${response.status}`,
    detail: typeof error === "string" && error ? error.slice(0, 500) : undefined,
  });
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** The data of a successful result; throws `DatelineProblem` otherwise. */
export async function unwrap<D>(result: Result<D> | Promise<Result<D>>): Promise<D> {
  const r = await result;
  if (r.error !== undefined || !r.response.ok) throw toProblem(r.error, r.response);
  return r.data as D;
}

/** A multipart body for uploads: pass as openapi-fetch's `bodySerializer` (Blobs stay binary, other values become strings). */
export function toFormData(body: unknown): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Blob) form.append(key, value, (value as Blob & { name?: string }).name || key);
    else form.append(key, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return form;
}

interface CachedEntry {
  etag: string;
  body: ArrayBuffer;
  headers: [string, string][];
}

export interface DatelineClientOptions {
  /** The API's origin, for example `http://localhost:3000`. */
  baseUrl: string;
  /** Tokens from an earlier login (kept in the client, replaced on refresh). */
  tokens?: TokenPair | null;
  /** Told whenever the tokens change (login, refresh, logout; `null` when they are gone). */
  onTokens?: (tokens: TokenPair | null) => void;
  /** Revalidate GETs with `If-None-Match` and answer a `304` from the cached body (default true). */
  etagCache?: boolean;
  /** Most responses kept for revalidation (default 500, least recently used dropped first). */
  etagCacheSize?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default the global one). */
  fetch?: typeof globalThis.fetch;
}

/** Response header set on a body answered from the client's cache after a `304`. */
export const REVALIDATED_HEADER = "x-dateline-revalidated";

const BODY_HEADERS = new Set(["content-length", "content-encoding", "transfer-encoding"]);
const AUTH_PATHS = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"];

export class DatelineClient {
  /** The typed openapi-fetch client: every operation of openapi.yaml, results as `{ data, error, response }`. */
  readonly api: DatelineApi;
  private tokenPair: TokenPair | null;
  private refreshing: Promise<TokenPair> | null = null;
  private readonly cache = new Map<string, CachedEntry>();
  private readonly options: DatelineClientOptions;
  private readonly baseFetch: typeof globalThis.fetch;

  constructor(options: DatelineClientOptions) {
    this.options = options;
    this.tokenPair = options.tokens ?? null;
    this.baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      headers: options.headers,
      fetch: (request: Request) => this.send(request),
    });
  }

  get tokens(): TokenPair | null {
    return this.tokenPair;
  }

  setTokens(tokens: TokenPair | null): void {
    this.tokenPair = tokens;
    this.options.onTokens?.(tokens);
  }

  /** Logs in and keeps the tokens; a wrong password throws `DatelineProblem` (401, `invalid-credentials`). */
  async login(email: string, password: string): Promise<TokenPair> {
    const tokens = await unwrap(this.api.POST("/api/v1/auth/login", { body: { email, password } }));
    this.setTokens(tokens);
    return tokens;
  }

  /** Trades the refresh token for a new pair (concurrent callers share one request: refresh tokens are single-use). */
  refresh(): Promise<TokenPair> {
    if (!this.refreshing) {
      const refreshToken = this.tokenPair?.refreshToken;
      this.refreshing = (async () => {
        if (!refreshToken) throw new DatelineProblem(401, { title: "Unauthorized", detail: "No refresh token: log in first." });
        try {
          const tokens = await unwrap(this.api.POST("/api/v1/auth/refresh", { body: { refreshToken } }));
          this.setTokens(tokens);
          return tokens;
        } catch (err) {
          if (err instanceof DatelineProblem && err.status === 401) this.setTokens(null);
          throw err;
        }
      })().finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  /** Ends the session on the server (when there is one) and forgets the tokens. */
  async logout(): Promise<void> {
    const refreshToken = this.tokenPair?.refreshToken;
    try {
      if (refreshToken) await unwrap(this.api.POST("/api/v1/auth/logout", { body: { refreshToken } }));
    } finally {
      this.setTokens(null);
    }
  }

  /**
   * Every item of a cursor-paginated list, page after page: `page(cursor)` makes one call
   * (`cursor` is `undefined` for the first page) and the iterator follows `meta.nextCursor`.
   */
  async *paginate<T>(
    page: (cursor: string | undefined) => Promise<Result<{ data: T[]; meta: { nextCursor?: string | null } }>>,
  ): AsyncGenerator<T, void, undefined> {
    let cursor: string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const body = await unwrap(page(cursor));
      yield* body.data;
      const next = body.meta.nextCursor;
      // A cursor seen before would loop forever: stop rather than trust it.
      if (!next || seen.has(next)) return;
      seen.add(next);
      cursor = next;
    }
  }

  /** Forgets every cached body (the next GETs are unconditional). */
  clearCache(): void {
    this.cache.clear();
  }

  private async send(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const authorized = this.tokenPair !== null && !request.headers.has("authorization") && !AUTH_PATHS.includes(path);
    // The body can be read once: keep a copy for the retry after a refresh.
    const retry = authorized && this.tokenPair?.refreshToken ? request.clone() : null;
    const used = this.tokenPair?.accessToken;
    const response = await this.sendCached(this.withAuth(request, authorized));
    if (response.status !== 401 || !retry) return response;
    // Another call may have refreshed while this one was in flight: then the new token is enough.
    if (!this.tokenPair || this.tokenPair.accessToken === used) {
      try {
        await this.refresh();
      } catch {
        return response;
      }
    }
    return this.sendCached(this.withAuth(retry, true));
  }

  private withAuth(request: Request, authorized: boolean): Request {
    if (!authorized || !this.tokenPair) return request;
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${this.tokenPair.accessToken}`);
    return new Request(request, { headers });
  }

  private async sendCached(request: Request): Promise<Response> {
    const useCache = this.options.etagCache !== false && request.method === "GET" && !request.headers.has("if-none-match");
    if (!useCache) return this.baseFetch(request);
    // Editor-API answers differ per editor: the key carries the credentials sent.
    const key = `${request.headers.get("authorization") ?? ""} ${request.url}`;
    const cached = this.cache.get(key);
    let sent = request;
    if (cached) {
      const headers = new Headers(request.headers);
      headers.set("if-none-match", cached.etag);
      sent = new Request(request, { headers });
    }
    const response = await this.baseFetch(sent);
    if (response.status === 304 && cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      const headers = new Headers(cached.headers);
      // What the 304 says now (Cache-Control, ETag, Date) replaces what was stored with the body.
      response.headers.forEach((value, name) => { if (!BODY_HEADERS.has(name)) headers.set(name, value); });
      headers.set(REVALIDATED_HEADER, "1");
      return new Response(cached.body.slice(0), { status: 200, statusText: "OK", headers });
    }
    const etag = response.headers.get("etag");
    if (response.status === 200 && etag) {
      const body = await response.arrayBuffer();
      const headers: [string, string][] = [];
      // The body is stored decoded: its encoding and length headers no longer describe it.
      response.headers.forEach((value, name) => { if (!BODY_HEADERS.has(name)) headers.push([name, value]); });
      this.cache.delete(key);
      this.cache.set(key, { etag, body, headers });
      const max = this.options.etagCacheSize ?? 500;
      while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
      return new Response(body.slice(0), { status: 200, statusText: response.statusText, headers });
    }
    if (response.status === 404 || response.status === 410) this.cache.delete(key);
    return response;
  }
}

export function createDatelineClient(options: DatelineClientOptions): DatelineClient {
  return new DatelineClient(options);
}

/** A single operation's successful JSON body, e.g. `OperationData<"getPublishedArticle">`. */
export type OperationData<K extends keyof operations> = operations[K]["responses"] extends infer R
  ? R extends { 200: { content: { "application/json": infer J } } } ? J
  : R extends { 201: { content: { "application/json": infer J } } } ? J
  : R extends { 202: { content: { "application/json": infer J } } } ? J
  : never
  : never;

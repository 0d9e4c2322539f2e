// Opens each request's SQL statement count and reports it on the response as
// `Server-Timing: db;desc="<n> statements"`, written just before the headers
// go out (so it covers everything the handler ran before sending).
import type { RequestHandler } from "express";
import { withStatementScope, type StatementScope } from "../db/statements.ts";

export const statementTiming: RequestHandler = (_req, res, next) => {
  // Statements an earlier step sent for this request outside the scope (the article fast path's read).
  const scope: StatementScope = { statements: res.locals.statementsBefore ?? 0 };
  const writeHead = res.writeHead;
  res.writeHead = function (this: typeof res, ...args: unknown[]) {
    if (!this.headersSent) this.setHeader("Server-Timing", `db;desc="${scope.statements} statements"`);
    return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
  } as typeof res.writeHead;
  withStatementScope(scope, next);
};

/** The statement count a response reports (Server-Timing), or undefined. */
export function statementsOf(headers: Record<string, unknown>): number | undefined {
  const m = /db;desc="(\d+) statements"/.exec(String(headers["server-timing"] ?? ""));
  return m ? Number(m[1]) : undefined;
}

// Reads the per-request SQL statement count the app reports on every response.
import { statementsOf as fromHeaders } from "../../src/http/statement-timing.ts";

/** Statements the request sent to the database (Server-Timing `db`); throws when the header is missing. */
export function statementsOf(res: { headers: Record<string, unknown> }): number {
  const n = fromHeaders(res.headers);
  if (n === undefined) throw new Error(`no statement count in Server-Timing: ${String(res.headers["server-timing"])}`);
  return n;
}

// Counts the SQL statements each request sends, at the driver adapter: every
// query Prisma runs (models, $queryRaw, $executeRaw) and the BEGIN/COMMIT of
// its transactions pass through here, on PGlite and on PostgreSQL alike. The
// count belongs to whatever request opened the scope (AsyncLocalStorage), so
// concurrent requests never see each other's statements. Tests and the
// benchmark read it from the Server-Timing header (src/app.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { countStatementSent, observeStatement } from "../observability/metrics.ts";

export interface StatementScope {
  statements: number;
}

const scopes = new AsyncLocalStorage<StatementScope>();

/** Runs `fn` (and everything it starts) with a fresh statement count. */
export function withStatementScope<T>(scope: StatementScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The count of the request running now, if any. */
export function currentStatementScope(): StatementScope | undefined {
  return scopes.getStore();
}

/** Counts `n` statements sent outside Prisma (raw connections: migrations, locks, readiness). */
export function countStatements(n = 1): void {
  count(n);
}

function count(n = 1): void {
  countStatementSent(n);
  const s = scopes.getStore();
  if (s) s.statements += n;
}

type Fn = (...args: any[]) => any;

/** Counts one statement per queryRaw/executeRaw/executeScript of `target`. */
function countingQueryable<T extends object>(target: T, extra: Record<string, Fn> = {}): T {
  return new Proxy(target, {
    get(obj, prop) {
      if (prop in extra) return extra[prop as string];
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== "function") return value;
      if (prop === "queryRaw" || prop === "executeRaw" || prop === "executeScript") {
        return async (...args: unknown[]) => {
          count();
          const start = performance.now();
          try {
            return await value.apply(obj, args);
          } finally {
            // Failed statements too: a timeout is exactly the duration worth seeing.
            observeStatement(prop, (performance.now() - start) / 1000);
          }
        };
      }
      return value.bind(obj);
    },
  });
}

interface TransactionLike {
  options: { usePhantomQuery: boolean };
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

function countingTransaction<T extends TransactionLike>(tx: T): T {
  // With a "phantom" transaction (PGlite's adapter) the driver sends COMMIT
  // or ROLLBACK itself; otherwise Prisma sends it through executeRaw, counted there.
  const phantom = tx.options?.usePhantomQuery === true;
  return countingQueryable(tx, {
    commit: () => {
      if (phantom) count();
      return tx.commit();
    },
    rollback: () => {
      if (phantom) count();
      return tx.rollback();
    },
  });
}

interface AdapterLike {
  startTransaction(isolationLevel?: string): Promise<TransactionLike>;
}

/**
 * Wraps a Prisma driver adapter factory (PrismaPg, PrismaPGlite) so the
 * adapters it connects count their statements.
 */
export function countingAdapterFactory<F extends { connect(): Promise<unknown> }>(factory: F): F {
  return new Proxy(factory, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj);
      if (prop === "connect") {
        return async () => {
          const adapter = (await (value as Fn).call(obj)) as AdapterLike & object;
          return countingQueryable(adapter, {
            startTransaction: async (isolationLevel?: string) => {
              // BEGIN, sent by the adapter or the driver before Prisma sees the transaction.
              count(isolationLevel ? 2 : 1);
              return countingTransaction(await adapter.startTransaction(isolationLevel));
            },
          });
        };
      }
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}

// Work that must finish after a successful write has committed but before its
// answer leaves: the response's end() is held until `task` settles. Reads
// (GET, HEAD, OPTIONS), errors (status >= 400) and responses already sent go
// out at once. The task may still set headers (it runs before end()).
import type { Request, RequestHandler, Response } from "express";

export function beforeWriteAnswer(task: (req: Request, res: Response) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    const end = res.end;
    res.end = function (this: Response, ...args: unknown[]) {
      res.end = end;
      const finish = () => (end as (...a: unknown[]) => Response).apply(this, args);
      if (res.statusCode >= 400 || res.headersSent) return finish();
      task(req, res).finally(finish);
      return this;
    } as typeof res.end;
    next();
  };
}

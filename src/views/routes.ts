import { Router } from "express";
import type { AppContext } from "../context.ts";

// TODO(views): POST /articles/:slug/views and GET /popular.
export function viewRoutes(_ctx: AppContext): Router {
  return Router();
}

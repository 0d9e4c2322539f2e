import { Router } from "express";
import type { AppContext } from "../context.ts";

// TODO(media): POST /media (upload), GET /media, GET /media/:id, DELETE /media/:id.
export function adminMediaRoutes(_ctx: AppContext): Router {
  return Router();
}

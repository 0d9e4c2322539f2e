import { Router } from "express";
import type { AppContext } from "../context.ts";

export function adminCollectionRoutes(_ctx: AppContext): Router {
  return Router();
}
export function publicCollectionRoutes(_ctx: AppContext): Router {
  return Router();
}

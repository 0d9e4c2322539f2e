import { Router } from "express";
import type { AppContext } from "../context.ts";

export function frontRoutes(_ctx: AppContext): Router {
  return Router();
}

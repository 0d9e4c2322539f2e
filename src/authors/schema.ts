// Request schemas shared by the author routes and the article routes (credits).
import { z } from "zod";
import { slugSchema } from "../http/validate.ts";
import { AUTHOR_ROLES } from "./service.ts";

/**
 * An author's slug: as every slug, and with a letter in it, so a feed's
 * `?author=` (an editor's numeric id) and `?authorProfile=` never read alike.
 */
export const authorSlugSchema = slugSchema.refine((s) => /[a-z]/.test(s), "Must contain a letter.");

/** `authors` on article create/update: ordered credits, each profile once (role defaults to writer). */
export const creditsSchema = z
  .array(z.strictObject({ slug: authorSlugSchema, role: z.enum(AUTHOR_ROLES).default("writer") }))
  .max(20)
  .refine((a) => new Set(a.map((c) => c.slug)).size === a.length, "Must not credit an author twice.");

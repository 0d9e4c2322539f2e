// Request validation of language tags (issue 9): BCP 47 as LANGUAGE_TAG
// accepts them, stored in canonical case (zh-hans -> zh-Hans).
import { z } from "zod";
import { LANGUAGE_TAG, normalizeLanguage } from "./languages.ts";

export const languageSchema = z
  .string()
  .trim()
  .max(35)
  .regex(LANGUAGE_TAG, "Must be a BCP 47 language tag such as en, zh-Hans, pt-BR or es-419.")
  .transform(normalizeLanguage);

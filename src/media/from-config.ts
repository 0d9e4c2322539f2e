// The media store named by MEDIA_STORAGE: the local disk (default) or an
// S3-compatible bucket shared by every instance.
import type { Config } from "../config.ts";
import { s3Storage } from "./s3-storage.ts";
import { localDiskStorage, type MediaStorage } from "./storage.ts";

export function mediaStorageFromConfig(config: Config, localDir: string): MediaStorage {
  if (config.MEDIA_STORAGE === "local") return localDiskStorage(localDir);
  return s3Storage({
    // loadConfig refuses MEDIA_STORAGE=s3 without a bucket.
    bucket: config.S3_BUCKET!,
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE ?? config.S3_ENDPOINT !== undefined,
    credentials: config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
      : undefined,
    prefix: config.S3_PREFIX,
    timeoutMs: config.S3_TIMEOUT_MS,
    maxAttempts: config.S3_MAX_ATTEMPTS,
  });
}

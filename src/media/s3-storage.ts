// Uploaded files in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2, ...),
// so every instance behind a load balancer reads what any of them stored.
// Files are streamed through GET /media/<key> with the headers the local disk
// sends; MEDIA_BASE_URL may instead point readers at the bucket or a CDN in
// front of it (objects are stored under S3_PREFIX + key with their
// Content-Type and Cache-Control for that case).
import crypto from "node:crypto";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import type { Request, RequestHandler, Response } from "express";
import { HttpError } from "../http/errors.ts";
import { CONTENT_TYPES, FILE_HEADERS, STORAGE_KEY, checkKey, preconditionFailed, rangeNotSatisfiable, type MediaStorage } from "./storage.ts";

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  /** Path-style URLs (endpoint/bucket/key), which most self-hosted stores need. */
  forcePathStyle: boolean;
  /** Unset: the SDK's default chain (AWS_* variables, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Prepended to every storage key ("media/" by default, so MEDIA_BASE_URL can name the bucket). */
  prefix: string;
  /** Per attempt: connecting, and waiting on the socket. */
  timeoutMs: number;
  maxAttempts: number;
}

// Seconds a reader or editor should wait before retrying while the store is away.
const STORAGE_RETRY_AFTER_SECONDS = 5;

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const nameOf = (err: unknown): string | undefined => (err as { name?: string })?.name;

const isMissing = (err: unknown) => statusOf(err) === 404 || nameOf(err) === "NoSuchKey" || nameOf(err) === "NotFound";

/**
 * Anything else the store answers (refused or reset connections, timeouts,
 * 5xx, but also a wrong bucket or refused credentials) is the server's
 * problem, not the request's: a 503 with the cause in the log, never a 500.
 * The code must not look like a database error (ECONNREFUSED would).
 */
function storageUnavailable(err: unknown): HttpError {
  const e = new HttpError(503, "storage-unavailable", "The media store is unavailable; try again shortly.", undefined,
    { "Retry-After": String(STORAGE_RETRY_AFTER_SECONDS) });
  (e as { cause?: unknown }).cause = err;
  return e;
}

/** If-Match / If-Unmodified-Since (RFC 9110 13.1.1, 13.1.4) against the object, as send() checks them on the local disk. */
function preconditionFails(req: Request, head: HeadObjectCommandOutput): boolean {
  const ifMatch = req.headers["if-match"];
  if (typeof ifMatch === "string") {
    if (ifMatch.trim() === "*") return false;
    // Strong comparison: a weak tag never matches.
    return !ifMatch.split(",").some((tag) => tag.trim() === head.ETag);
  }
  const since = Date.parse(String(req.headers["if-unmodified-since"] ?? ""));
  // Unparsable dates are ignored, as the RFC says.
  return !Number.isNaN(since) && head.LastModified !== undefined && Math.floor(head.LastModified.getTime() / 1000) * 1000 > since;
}

/** Single byte ranges only, as S3 itself answers; anything else is served whole. */
const SINGLE_RANGE = /^bytes=(\d+-\d*|-\d+)$/;

export function s3Storage(opts: S3StorageOptions): MediaStorage {
  const client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.credentials,
    maxAttempts: opts.maxAttempts,
    // Without throwOnRequestTimeout the SDK only logs a warning and keeps waiting on a store that hangs.
    requestHandler: { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs, throwOnRequestTimeout: true },
    // The SDK's default CRC32 checksums (and aws-chunked uploads) are AWS's own
    // extension that several S3-compatible stores reject; Content-MD5 below is
    // understood by all of them and still has the store check every byte.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = opts.bucket;
  const objectKey = (key: string) => opts.prefix + key;

  /** The headers of a file response, from the object's metadata. */
  function setFileHeaders(res: Response, key: string, meta: HeadObjectCommandOutput | GetObjectCommandOutput) {
    const ext = key.slice(key.lastIndexOf(".") + 1);
    res.set({ "Content-Type": CONTENT_TYPES[ext], ...FILE_HEADERS, "Accept-Ranges": "bytes" });
    if (meta.ETag) res.set("ETag", meta.ETag);
    if (meta.LastModified) res.set("Last-Modified", meta.LastModified.toUTCString());
    if (meta.ContentLength !== undefined) res.set("Content-Length", String(meta.ContentLength));
  }

  async function serveKey(req: Request, res: Response, key: string): Promise<boolean> {
    const h = req.headers;
    const conditional = [h["if-none-match"], h["if-modified-since"], h["if-match"], h["if-unmodified-since"]].some((v) => v !== undefined);
    if (req.method === "HEAD" || conditional) {
      // A HEAD first, and the conditions checked here rather than by the store: a 304 then carries the ETag
      // and dates of the object (S3's own 304 does not always), and stores that ignore If-Match still get a 412.
      const head = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
      if (preconditionFails(req, head)) throw preconditionFailed();
      setFileHeaders(res, key, head);
      if (req.fresh) {
        res.removeHeader("Content-Length");
        res.status(304).end();
        return true;
      }
      if (req.method === "HEAD") {
        res.status(200).end();
        return true;
      }
    }
    const range = typeof req.headers.range === "string" && SINGLE_RANGE.test(req.headers.range) ? req.headers.range : undefined;
    const obj = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key), Range: range }));
    setFileHeaders(res, key, obj);
    if (range && obj.ContentRange) res.status(206).set("Content-Range", obj.ContentRange);
    else res.status(200);
    // Errors after the first byte can only cut the response short; pipeline destroys both sides.
    await pipeline(obj.Body as Readable, res);
    return true;
  }

  return {
    async put(key, data, contentType) {
      checkKey(key);
      try {
        await client.send(new PutObjectCommand({
          Bucket,
          Key: objectKey(key),
          Body: data,
          ContentLength: data.length,
          ContentType: contentType,
          ContentMD5: crypto.createHash("md5").update(data).digest("base64"),
          // For readers sent straight to the bucket or a CDN (MEDIA_BASE_URL).
          CacheControl: FILE_HEADERS["Cache-Control"],
          // Never overwrite, where the store supports conditional writes (AWS S3, MinIO, R2, Ceph); keys are
          // random UUIDs, so elsewhere a collision is still out of reach.
          IfNoneMatch: "*",
        }));
      } catch (err) {
        if (statusOf(err) === 412 || nameOf(err) === "PreconditionFailed") {
          throw Object.assign(new Error(`media storage key exists: ${key}`), { code: "EEXIST" });
        }
        throw storageUnavailable(err);
      }
    },

    async remove(key) {
      checkKey(key);
      try {
        // Deleting a missing object succeeds in S3.
        await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
      } catch (err) {
        if (isMissing(err)) return;
        throw storageUnavailable(err);
      }
    },

    serve() {
      return (req, res, next) => {
        if (req.method !== "GET" && req.method !== "HEAD") return next();
        // As on the local disk: req.path is still percent-encoded, only server-made keys match.
        const key = req.path.slice(1);
        if (!STORAGE_KEY.test(key)) return next();
        serveKey(req, res, key).catch((err: unknown) => {
          if (res.headersSent) {
            // Cut short mid-body (the reader left, or the store did): nothing left to answer.
            if (!res.destroyed) res.destroy();
            return;
          }
          // The file's validators and sizes must not stay on an error (the error handler sets Cache-Control).
          for (const h of ["Content-Type", "Content-Length", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges"]) {
            res.removeHeader(h);
          }
          if (isMissing(err)) return next();
          if (err instanceof HttpError) return next(err);
          if (statusOf(err) === 416 || nameOf(err) === "InvalidRange") return next(rangeNotSatisfiable());
          next(storageUnavailable(err));
        });
      };
    },

    async close() {
      client.destroy();
    },
  };
}

// A local S3-compatible server for tests: s3rver (npm, a devDependency) keeps
// the objects in a temporary directory and answers S3's REST API, with S3's
// XML errors. s3rver checks only the access key id of a signature-v4 request,
// not the signature (its source: "Signature version 4 calculation is
// unimplemented"), so every request first passes a front that recomputes the
// AWS SigV4 signature with the known secret (written here from AWS's
// specification, not with the SDK's signer) and the payload hash, and answers
// 403 SignatureDoesNotMatch like S3 when they differ. The front can also fail
// on purpose (5xx, hang) to stand for a store that is down.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import S3rver from "s3rver";

export const S3_ACCESS_KEY_ID = "S3RVER";
export const S3_SECRET_ACCESS_KEY = "S3RVER";
export const S3_REGION = "eu-west-1";

export interface SignedRequest {
  method: string;
  /** Path as sent, e.g. /bucket/media/2026/11/<uuid>.png */
  path: string;
  /** The signature was recomputed and matched (else the request was refused with 403). */
  verified: boolean;
  /** Why it was refused. */
  problem?: string;
}

export type Failure = null | { status: number; code: string } | "hang";

export interface TestS3 {
  /** The endpoint to give the app (S3_ENDPOINT): the verifying front. */
  endpoint: string;
  bucket: string;
  /** The app's configuration for this store. */
  env: Record<string, string>;
  /** Every request the front saw, in order. */
  requests: SignedRequest[];
  /** Makes the front answer every request with this failure (null: pass through). */
  fail(f: Failure): void;
  /** The object as stored in the bucket (a direct read from s3rver, unsigned), or undefined. */
  object(key: string): Promise<{ bytes: Buffer; headers: http.IncomingHttpHeaders } | undefined>;
  close(): Promise<void>;
}

const sha256 = (data: string | Buffer) => crypto.createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => crypto.createHmac("sha256", key).update(data).digest();

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires. */
const uriEncode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: string): string {
  if (!query) return "";
  return query
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf("=");
      const [k, v] = i < 0 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + 1)];
      const dec = (x: string) => decodeURIComponent(x.replace(/\+/g, " "));
      return [uriEncode(dec(k)), uriEncode(dec(v))];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Returns undefined when the request is correctly signed with the known credentials, else the reason. */
export function checkSigV4(req: http.IncomingMessage, body: Buffer, now = Date.now()): string | undefined {
  const auth = req.headers.authorization;
  if (!auth) return "no Authorization header";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `not a SigV4 Authorization header: ${auth}`;
  const [, keyId, day, region, signedHeaders, signature] = m;
  if (keyId !== S3_ACCESS_KEY_ID) return `unknown access key ${keyId}`;
  if (region !== S3_REGION) return `signed for region ${region}`;
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day) return `bad x-amz-date ${amzDate}`;
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8),
    +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (Math.abs(now - signedAt) > 15 * 60_000) return "request time too skewed";
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date")) return "host and x-amz-date must be signed";
  const payloadHash = String(req.headers["x-amz-content-sha256"] ?? "");
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== sha256(body)) return "x-amz-content-sha256 does not match the body";
  const [rawPath, rawQuery = ""] = (req.url ?? "/").split("?", 2);
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      const value = (Array.isArray(v) ? v.join(",") : (v ?? "")).trim().replace(/\s+/g, " ");
      return `${n}:${value}\n`;
    })
    .join("");
  // S3 signs the path as sent (encoded once), not re-encoded.
  const canonicalRequest = [req.method, rawPath, canonicalQuery(rawQuery), canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${S3_SECRET_ACCESS_KEY}`, day), region), "s3"), "aws4_request");
  const expected = crypto.createHmac("sha256", key).update(stringToSign).digest("hex");
  return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature)) ? undefined : "signature does not match";
}

function xmlError(res: http.ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { "Content-Type": "application/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

export async function startTestS3(bucket = "dateline-media"): Promise<TestS3> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-s3-"));
  const store = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port: storePort } = (await store.run()) as AddressInfo;
  const requests: SignedRequest[] = [];
  let failure: Failure = null;
  const hanging = new Set<http.ServerResponse>();

  const front = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (failure === "hang") {
        hanging.add(res);
        return;
      }
      if (failure) return xmlError(res, failure.status, failure.code, "Failing on purpose.");
      const problem = checkSigV4(req, body);
      requests.push({ method: req.method!, path: (req.url ?? "").split("?")[0], verified: !problem, problem });
      if (problem) return xmlError(res, 403, "SignatureDoesNotMatch", problem);
      const upstream = http.request(
        { host: "127.0.0.1", port: storePort, method: req.method, path: req.url, headers: req.headers, agent: false },
        (up) => {
          res.writeHead(up.statusCode!, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  return {
    endpoint,
    bucket,
    requests,
    env: {
      MEDIA_STORAGE: "s3",
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION,
      S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY,
    },
    fail(f) {
      failure = f;
      if (f !== "hang") {
        for (const r of hanging) r.destroy();
        hanging.clear();
      }
    },
    object(key) {
      return new Promise((resolve, reject) => {
        // No keep-alive (agent: false), so s3rver closes at once.
        http.get({ host: "127.0.0.1", port: storePort, path: `/${bucket}/${key}`, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(res.statusCode === 200 ? { bytes: Buffer.concat(chunks), headers: res.headers } : undefined));
        }).on("error", reject);
      });
    },
    async close() {
      for (const r of hanging) r.destroy();
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

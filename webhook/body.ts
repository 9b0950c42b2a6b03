// Reads a JSON request body once, with a strict size limit and media type, for the admission
// routes only (other routes mount their own parsers with their own limits).
import type { IncomingMessage } from 'node:http';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../core/json-depth.js';
import { formatBytes } from '../core/size.js';

export const DEFAULT_BODY_LIMIT = 6 * 1024 * 1024;

/** An error with the HTTP status and metrics reason to answer it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: 'bad-request' | 'unsupported-media-type' | 'payload-too-large' | 'not-admission-review' = 'bad-request',
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** True for `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const semi = header.indexOf(';');
  const type = (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase();
  return type === 'application/json';
}

/**
 * Reads and parses the body. Rejects with an HttpError: 415 unless the content type is
 * application/json, 413 over `limit` bytes (at once from Content-Length, or as soon as the
 * streamed bytes pass it), 400 for an empty body, invalid JSON or nesting deeper than MAX_JSON_DEPTH.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (!isJsonContentType(req.headers['content-type'])) {
      const got = req.headers['content-type'];
      reject(new HttpError(415, `the content type must be application/json, got ${got ? JSON.stringify(got) : 'none'}`, 'unsupported-media-type'));
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(new HttpError(413, `the body is ${declared} bytes, over the limit of ${formatBytes(limit)}`, 'payload-too-large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, value?: unknown) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(new HttpError(413, `the body is over the limit of ${formatBytes(limit)}`, 'payload-too-large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (size === 0) {
        finish(new HttpError(400, 'the body is empty: expected an AdmissionReview (JSON)'));
        return;
      }
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (nestsDeeperThan(buf)) {
        finish(new HttpError(400, `the body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`));
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(buf.toString('utf8'));
      } catch (err) {
        finish(new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`));
        return;
      }
      finish(undefined, value);
    };
    const onError = (err: Error) => finish(new HttpError(400, `the body could not be read: ${err.message}`));
    const onAborted = () => finish(new HttpError(400, 'the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

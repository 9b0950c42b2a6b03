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

/** Called once with the parsed body, or with the HttpError to answer. */
export type BodyCallback = (err: HttpError | undefined, value?: unknown) => void;

/**
 * Takes the raw bytes of a body of at least `threshold` bytes instead of having them parsed here
 * (webhook/offload.ts: a worker thread parses and judges them). `take` returns false to decline
 * (the worker is busy or down); the body is then parsed and handed to `done` as usual.
 */
export interface LargeBodyTaker {
  threshold: number;
  take(body: Buffer): boolean;
}

/** The JSON value of a complete body, or the HttpError (400) to answer: too deeply nested, or not JSON. */
export function decodeJsonBody(buf: Buffer): HttpError | { value: unknown } {
  const text = buf.toString('utf8');
  if (nestsDeeperThan(buf, MAX_JSON_DEPTH, text)) return new HttpError(400, `the body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`);
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads and parses the body, then calls `done` once: with an HttpError of 415 unless the content
 * type is application/json, 413 over `limit` bytes (at once from Content-Length, or as soon as the
 * streamed bytes pass it), 400 for an empty body, invalid JSON, nesting deeper than MAX_JSON_DEPTH,
 * a read error or an aborted request. A callback, not a promise: this runs for every admission
 * review, and the promise and its microtask hops cost more than the rest of the reading.
 * `done` may run synchronously (a refused header) or from the request's 'end' event.
 */
export function readJsonBody(req: IncomingMessage, limit: number, done: BodyCallback, large?: LargeBodyTaker): void {
  if (!isJsonContentType(req.headers['content-type'])) {
    const got = req.headers['content-type'];
    done(new HttpError(415, `the content type must be application/json, got ${got ? JSON.stringify(got) : 'none'}`, 'unsupported-media-type'));
    return;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    done(new HttpError(413, `the body is ${declared} bytes, over the limit of ${formatBytes(limit)}`, 'payload-too-large'));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  // The listeners stay on the request (it is not reused); `finished` makes every later event a no-op.
  const finish = (err: HttpError | undefined, value?: unknown) => {
    if (finished) return;
    finished = true;
    done(err, value);
  };
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > limit) {
      req.pause();
      finish(new HttpError(413, `the body is over the limit of ${formatBytes(limit)}`, 'payload-too-large'));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (finished) return;
    if (size === 0) {
      finish(new HttpError(400, 'the body is empty: expected an AdmissionReview (JSON)'));
      return;
    }
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    if (large !== undefined && size >= large.threshold && large.take(buf)) {
      finished = true;
      return;
    }
    const decoded = decodeJsonBody(buf);
    if (decoded instanceof HttpError) finish(decoded);
    else finish(undefined, decoded.value);
  });
  req.on('error', (err: Error) => finish(new HttpError(400, `the body could not be read: ${err.message}`)));
  req.on('aborted', () => finish(new HttpError(400, 'the client aborted the request')));
}

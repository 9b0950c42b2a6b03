// `POST /audit`: the API server's audit webhook backend (`--audit-webhook-config-file`) sends
// `audit.k8s.io/v1` EventList batches (up to ~10 MiB). A batch is answered 2xx only once its alerts
// are recorded through the sink; a malformed body gets a 4xx JSON error (nothing is processed); a
// sink failure gets 503 and the analyser forgets the batch, so the API server's retry redoes it.
// Every occurrence goes to the sink as it is (pass mode): the store pipeline merges by fingerprint.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Alert, AlertSink } from '../alerts/model.js';
import type { Logger } from '../core/log.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../core/json-depth.js';
import { isRecord } from '../core/record.js';
import type { AnalyserJournal, AuditAnalyser } from './analyser.js';
import { auditEventProblem, type AuditEvent } from './event.js';

export const AUDIT_BODY_LIMIT = 12 * 1024 * 1024;
/** What a refused batch is told to wait before it is sent again. */
const RETRY_AFTER_S = 5;

export interface AuditRouteDeps {
  analyser: AuditAnalyser;
  sink: AlertSink;
  logger: Logger;
  /** Default `/audit`. */
  path?: string;
  /** Default 12 MiB (the API server's batches reach 10 MiB). */
  limitBytes?: number;
  /** A bearer token the API server's audit webhook kubeconfig carries; required when set. */
  token?: string;
  /** Mark alerts `verified: false` (neither a token nor a client certificate authenticates the sender). */
  unverified?: boolean;
  /**
   * True while the alert store is behind (AlertPipeline.backlogged): batches are then refused with
   * 503 and Retry-After before they are read, and the API server's batch backend sends them again.
   */
  backlogged?: () => boolean;
}

/** Constant-time comparison of a presented bearer token with the expected one. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

interface BadRequest {
  status: number;
  error: string;
  details?: string[];
}

/** Why a body is not an EventList of audit events, or undefined. */
export function eventListProblem(body: unknown): BadRequest | undefined {
  if (!isRecord(body)) return { status: 400, error: 'the body must be an audit.k8s.io/v1 EventList object' };
  if (body.kind !== 'EventList') return { status: 400, error: `kind must be EventList, got ${JSON.stringify(body.kind)}` };
  if (typeof body.apiVersion !== 'string' || !body.apiVersion.startsWith('audit.k8s.io/')) {
    return { status: 400, error: `apiVersion must be audit.k8s.io/v1, got ${JSON.stringify(body.apiVersion)}` };
  }
  if (!Array.isArray(body.items)) return { status: 400, error: 'items must be a list of audit events' };
  const details: string[] = [];
  let bad = 0;
  body.items.forEach((item, i) => {
    const problem = auditEventProblem(item);
    if (problem === undefined) return;
    bad++;
    if (details.length < 10) details.push(`items[${i}]: ${problem}`);
  });
  if (bad > 0) return { status: 422, error: `${bad} of ${body.items.length} items are not audit events; nothing was processed`, details };
  return undefined;
}

export function mountAuditRoute(app: express.Express, deps: AuditRouteDeps): void {
  const router = express.Router();
  const log = deps.logger.child({ component: 'audit-webhook' });
  router.post(
    deps.path ?? '/audit',
    (req: Request, res: Response, next: NextFunction) => {
      // Before the body is read: an unauthenticated sender costs no parsing.
      if (deps.token !== undefined && !tokenMatches(req.headers.authorization, deps.token)) {
        log.warn({ remote: req.socket.remoteAddress }, 'rejected audit batch: missing or wrong bearer token');
        res
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="bulwark-audit"')
          .json({ status: 401, error: 'a valid bearer token is required (audit.webhookTokenFile)' });
        return;
      }
      if (deps.backlogged?.()) {
        // Back-pressure: refused before the body is read or analysed, so nothing is half-done.
        log.warn({ retryAfterSeconds: RETRY_AFTER_S }, 'refused an audit batch: the alert store is behind; the API server will send it again');
        res.status(503).set('Retry-After', String(RETRY_AFTER_S)).json({ status: 503, error: 'the alert store is behind; send this batch again later' });
        return;
      }
      next();
    },
    express.json({
      limit: deps.limitBytes ?? AUDIT_BODY_LIMIT,
      type: () => true,
      strict: false,
      // Refused before JSON.parse: deep nesting costs the parser far more per byte (core/json-depth.ts).
      verify: (_req, _res, buf) => {
        if (nestsDeeperThan(buf))
          throw Object.assign(new Error(`the batch nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`), { status: 400, expose: true });
      },
    }),
    async (req: Request, res: Response) => {
      const body: unknown = req.body;
      const problem = eventListProblem(body);
      if (problem) {
        log.warn({ status: problem.status, error: problem.error }, 'rejected audit batch');
        res.status(problem.status).json(problem);
        return;
      }
      const items = (body as { items: AuditEvent[] }).items;
      const journal: AnalyserJournal = [];
      const alerts: Alert[] = [];
      try {
        for (const ev of items) {
          const raised = deps.analyser.analyse(ev, journal);
          for (const a of raised) alerts.push(deps.unverified ? { ...a, verified: false } : a);
        }
        // One store transaction for the batch's alerts, not one per alert.
        if (deps.sink.recordMany) await deps.sink.recordMany(alerts);
        else for (const alert of alerts) await deps.sink.record(alert);
      } catch (err) {
        deps.analyser.rollback(journal);
        log.error(
          { err, events: items.length, alerts: alerts.length },
          'could not record the alerts of an audit batch; answering 503 so that the API server retries',
        );
        res
          .status(503)
          .set('Retry-After', String(RETRY_AFTER_S))
          .json({ status: 503, error: `could not record alerts: ${(err as Error).message}` });
        return;
      }
      log.debug({ events: items.length, alerts: alerts.length }, 'audit batch processed');
      // Named as `audit scan`'s summary: occurrences = detections raised, alerts = distinct alerts
      // (one per fingerprint) they make once merged.
      res.status(200).json({ events: items.length, alerts: new Set(alerts.map((a) => a.fingerprint)).size, occurrences: alerts.length });
    },
  );
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { status?: number; type?: string; message?: string };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    const error =
      e.type === 'entity.too.large'
        ? `the batch is larger than ${deps.limitBytes ?? AUDIT_BODY_LIMIT} bytes`
        : e.type === 'entity.parse.failed'
          ? `the body is not valid JSON: ${e.message ?? ''}`
          : status === 500
            ? 'internal error'
            : (e.message ?? 'bad request');
    if (status === 500) log.error({ err }, 'audit batch failed');
    else log.warn({ status, error }, 'rejected audit batch');
    res.status(status).json({ status, error });
  });
  app.use(router);
}

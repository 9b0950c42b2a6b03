// The alerts HTTP API, on its own HTTPS listener (default port 8444):
//   GET  /api/v1/alerts               list, filtered, cursor-paginated ({items, continue?})
//   GET  /api/v1/alerts/{id}          one alert
//   POST /api/v1/alerts/{id}/status   {status, reason}: move an alert (admin)
//   GET  /api/v1/summary              counts of the alerts a filter matches (by severity, status)
//   GET  /api/v1/trends               alerts per day by severity, top types, users, source IPs
//   GET  /api/v1/facets               the types and namespaces in the store (filter choices)
//   GET  /api/v1/posture              the background scan's findings and what enforce would deny
//   GET  /api/v1/notify               the forwarding sinks' backlog and failures
//   GET  /api/v1/whoami               the caller and whether they may change alerts
//   GET  /healthz, /readyz            no token; /readyz is 503 while the identity backend cannot
//                                     authenticate anyone (a broken token file revoked every token)
//   /ui/…                             the web console (alerts/console.ts)
// Every /api route needs a bearer token (Authorization header, or the console's session cookie);
// readers list and get, admins also change status.
import { applyLimits, DEFAULT_LISTENER_LIMITS, limitOptions, type ListenerLimits } from '../core/listener.js';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { isSeverity, SEVERITIES } from '../core/severity.js';
import { parseSince } from '../core/duration.js';
import type { Logger } from '../core/log.js';
import { ALERT_STATUSES, type AlertSource, type AlertStatus } from './model.js';
import { AccessBackendError, type AccessControl, type Identity, type Verb } from './auth.js';
import {
  AlertNotFoundError,
  DAY_MS,
  InvalidCursorError,
  MAX_REASON_LENGTH,
  MAX_TREND_DAYS,
  StatusChangeError,
  type AlertFilter,
  type AlertStore,
} from './store.js';
import { once } from 'node:events';
import type { PipelineStatus } from './pipeline.js';
import {
  clearSessionCookie,
  consoleRouter,
  csrfRefusal,
  loadConsoleAssets,
  MAX_SESSION_TOKEN,
  securityHeaders,
  sessionToken,
  setSessionCookie,
  type ConsoleAssets,
} from './console.js';
import { cursorAfter, DEFAULT_SORT, MAX_SEARCH_LENGTH, SORT_KEYS, type AlertSort, type SortKey } from './query.js';
import type { PostureSource } from './posture.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** A list page stops before this many bytes of alerts (the continue token says where to resume). */
export const MAX_LIST_BYTES = 4 * 1024 * 1024;
const SOURCES: AlertSource[] = ['admission', 'audit', 'background'];
const FILTER_PARAMETERS = ['severity', 'minSeverity', 'type', 'status', 'namespace', 'source', 'cluster', 'since', 'until', 'q'];
const LIST_PARAMETERS = [...FILTER_PARAMETERS, 'sort', 'order', 'limit', 'continue'];
const TREND_PARAMETERS = ['days', 'top'];
export const DEFAULT_TREND_DAYS = 30;
export const MAX_TREND_TOP = 50;

/** A 4xx/5xx answer: `{error, parameter?, allowed?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: { parameter?: string; allowed?: string[] } = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface AlertsAppOptions {
  store: AlertStore;
  access: AccessControl;
  logger: Logger;
  /** Shown on /healthz: whether alerts are waiting for the store. */
  pipelineStatus?: () => PipelineStatus;
  now?: () => number;
  /** The background scan's posture (GET /api/v1/posture); absent when the scan is off. */
  posture?: PostureSource;
  /** The forwarding sinks configured (GET /api/v1/notify). */
  notifySinks?: readonly { name: string; type: string }[];
  /** The console's files (default: ui/ and dist/ui/ of this install, or of `consoleRoot`); null serves no console. */
  consoleAssets?: ConsoleAssets | null;
  /** Where the console's ui/ and dist/ui/ are when consoleAssets is not given (default: this install). */
  consoleRoot?: string;
}

interface Authed {
  identity: Identity;
}

function values(query: Request['query'], name: string): string[] | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).map(String);
  const out = list
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  if (out.length === 0) throw new ApiError(400, `parameter ${name} is empty`, { parameter: name });
  return out;
}

function single(query: Request['query'], name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) || typeof raw !== 'string') throw new ApiError(400, `parameter ${name} may be given once`, { parameter: name });
  return raw;
}

function oneOf<T extends string>(query: Request['query'], name: string, allowed: readonly T[]): T[] | undefined {
  const list = values(query, name);
  if (!list) return undefined;
  for (const v of list) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ApiError(400, `invalid ${name} ${JSON.stringify(v)}: allowed values are ${allowed.join(', ')} (comma-separated for several)`, {
        parameter: name,
        allowed: [...allowed],
      });
    }
  }
  return list as T[];
}

function onlyParameters(query: Request['query'], allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      throw new ApiError(400, `unknown parameter ${JSON.stringify(key)}: allowed parameters are ${allowed.join(', ')}`, {
        parameter: key,
        allowed: [...allowed],
      });
    }
  }
}

function instant(query: Request['query'], name: 'since' | 'until', now: number): Date | undefined {
  const raw = single(query, name);
  if (raw === undefined) return undefined;
  // An unencoded "+" in a query string arrives as a space: 10:00:00+02:00 → "10:00:00 02:00".
  const at = parseSince(raw.replace(/ (\d{2}:\d{2})$/, '+$1'), now);
  if (!at) {
    throw new ApiError(400, `invalid ${name} ${JSON.stringify(raw)}: an RFC 3339 time (2024-05-01T10:00:00Z) or a duration back from now (90s, 10m, 1h, 7d)`, {
      parameter: name,
    });
  }
  return at;
}

/** The filter parameters (FILTER_PARAMETERS) of a query, or an ApiError naming the bad one. */
export function parseFilter(query: Request['query'], now = Date.now()): AlertFilter {
  const filter: AlertFilter = {};
  const severity = oneOf(query, 'severity', SEVERITIES);
  if (severity) filter.severity = severity;
  const min = single(query, 'minSeverity');
  if (min !== undefined) {
    if (!isSeverity(min))
      throw new ApiError(400, `invalid minSeverity ${JSON.stringify(min)}: allowed values are ${SEVERITIES.join(', ')}`, {
        parameter: 'minSeverity',
        allowed: [...SEVERITIES],
      });
    filter.minSeverity = min;
  }
  const status = oneOf(query, 'status', ALERT_STATUSES);
  if (status) filter.status = status;
  const source = oneOf(query, 'source', SOURCES);
  if (source) filter.source = source;
  const type = values(query, 'type');
  if (type) filter.type = type;
  const namespace = values(query, 'namespace');
  if (namespace) filter.namespace = namespace;
  // `cluster=` alone: the alerts that name no cluster.
  const cluster = query.cluster === '' ? [''] : values(query, 'cluster');
  if (cluster) filter.cluster = cluster;
  const since = instant(query, 'since', now);
  if (since) filter.since = since;
  const until = instant(query, 'until', now);
  if (until) filter.until = until;
  const q = single(query, 'q');
  if (q !== undefined && q.trim() !== '') {
    if (q.length > MAX_SEARCH_LENGTH) throw new ApiError(400, `q is longer than ${MAX_SEARCH_LENGTH} characters`, { parameter: 'q' });
    filter.text = q.trim();
  }
  return filter;
}

/** The list query: filters, sort, limit and cursor, or an ApiError naming the bad parameter. */
export function parseListQuery(query: Request['query'], now = Date.now()): { filter: AlertFilter; sort: AlertSort; limit: number; cursor: string | undefined } {
  onlyParameters(query, LIST_PARAMETERS);
  const filter = parseFilter(query, now);
  const sort: AlertSort = { ...DEFAULT_SORT };
  const key = single(query, 'sort');
  if (key !== undefined) {
    if (!(SORT_KEYS as readonly string[]).includes(key))
      throw new ApiError(400, `invalid sort ${JSON.stringify(key)}: allowed values are ${SORT_KEYS.join(', ')}`, {
        parameter: 'sort',
        allowed: [...SORT_KEYS],
      });
    sort.key = key as SortKey;
  }
  const order = single(query, 'order');
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc')
      throw new ApiError(400, `invalid order ${JSON.stringify(order)}: asc or desc`, { parameter: 'order', allowed: ['asc', 'desc'] });
    sort.order = order;
  }
  const limit = wholeNumber(query, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
  const cursor = single(query, 'continue');
  return { filter, sort, limit, cursor: cursor === '' ? undefined : cursor };
}

function wholeNumber(query: Request['query'], name: string, fallback: number, max: number): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new ApiError(400, `invalid ${name} ${JSON.stringify(raw)}: a whole number from 1 to ${max}`, { parameter: name });
  return Number(raw);
}

function methodNotAllowed(allowed: string) {
  return (_req: Request, res: Response) => {
    res.setHeader('Allow', allowed);
    sendError(res, new ApiError(405, `method not allowed: use ${allowed}`));
  };
}

function sendError(res: Response, err: ApiError): void {
  res.status(err.status).json({ error: err.message, ...err.extra });
}

export function createAlertsApp(options: AlertsAppOptions): express.Express {
  const { store, access, logger } = options;
  const now = options.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.setHeader('Cache-Control', 'no-store');
    securityHeaders(res);
    res.on('finish', () => {
      const user = (res.locals as Partial<Authed>).identity?.username;
      logger.info(
        { method: req.method, path: req.path, status: res.statusCode, ...(user ? { user } : {}), ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'alerts api request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    const status = options.pipelineStatus?.();
    res.json({ status: 'ok', ...(status ? { pipeline: status } : {}) });
  });

  // Not ready while the identity backend cannot authenticate anyone (a broken token file has
  // revoked every token): 503 with the reason, never a token.
  app.get('/readyz', (_req, res) => {
    const r = access.readiness?.() ?? { ready: true };
    if (r.ready) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reason: r.reason ?? 'the identity backend is not ready' });
  });

  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
    // The console's session cookie stands in for the header (never both: the header wins).
    const cookie = header ? undefined : sessionToken(req);
    if (!match && !cookie) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="bulwark"');
      return sendError(
        res,
        new ApiError(401, header ? 'the Authorization header must be "Bearer <token>"' : 'authentication required: send Authorization: Bearer <token>'),
      );
    }
    if (cookie && req.method !== 'GET' && req.method !== 'HEAD') {
      const refusal = csrfRefusal(req);
      if (refusal) return sendError(res, new ApiError(403, refusal));
    }
    const identity = await access.authenticate(match ? match[1]! : cookie!);
    if (!identity) {
      if (cookie) {
        clearSessionCookie(res);
        return sendError(res, new ApiError(401, 'the console session has ended: the token is no longer valid; sign in again'));
      }
      res.setHeader('WWW-Authenticate', 'Bearer realm="bulwark", error="invalid_token"');
      return sendError(res, new ApiError(401, 'the bearer token is not valid'));
    }
    (res.locals as Authed).identity = identity;
    next();
  };

  const allow = (verb: Verb) => async (_req: Request, res: Response, next: NextFunction) => {
    const { identity } = res.locals as Authed;
    if (!(await access.authorize(identity, verb))) {
      return sendError(
        res,
        new ApiError(403, `user ${JSON.stringify(identity.username)} may not ${verb} alerts: that needs ${access.describeRequirement(verb)}`),
      );
    }
    next();
  };

  // The console: sign-in checks the token as the API would and puts it in the session cookie.
  const assets = options.consoleAssets === undefined ? loadConsoleAssets(options.consoleRoot) : (options.consoleAssets ?? undefined);
  if (options.consoleAssets !== null) {
    app.post('/ui/session', express.json({ limit: '8kb' }), async (req, res) => {
      const refusal = csrfRefusal(req);
      if (refusal) throw new ApiError(403, refusal);
      const token: unknown = (req.body as Record<string, unknown> | undefined)?.token;
      if (typeof token !== 'string' || token.trim() === '') throw new ApiError(400, 'the body must be {"token": "<bearer token>"}', { parameter: 'token' });
      if (token.length > MAX_SESSION_TOKEN || /[\s\x00-\x1f]/.test(token.trim()))
        throw new ApiError(400, `the token must be one line of at most ${MAX_SESSION_TOKEN} characters`, { parameter: 'token' });
      const identity = await access.authenticate(token.trim());
      if (!identity) throw new ApiError(401, 'the token is not valid');
      if (!(await access.authorize(identity, 'list')))
        throw new ApiError(403, `user ${JSON.stringify(identity.username)} may not list alerts: that needs ${access.describeRequirement('list')}`);
      (res.locals as Authed).identity = identity;
      setSessionCookie(res, token.trim());
      res.json(await whoami(identity));
    });
    // Whether the browser has a session: always 200 (a signed-out page is not an error).
    app.get('/ui/session', async (req, res) => {
      const token = sessionToken(req);
      const identity = token ? await access.authenticate(token) : undefined;
      if (!identity || !(await access.authorize(identity, 'list'))) {
        if (token) clearSessionCookie(res);
        return res.json({ signedIn: false });
      }
      (res.locals as Authed).identity = identity;
      res.json({ signedIn: true, ...(await whoami(identity)) });
    });
    app.delete('/ui/session', (req, res) => {
      const refusal = csrfRefusal(req);
      if (refusal) throw new ApiError(403, refusal);
      clearSessionCookie(res);
      res.status(204).end();
    });
    app.all('/ui/session', methodNotAllowed('GET, POST, DELETE'));
    app.get('/', (_req, res) => res.redirect(302, '/ui/'));
    app.use('/ui', consoleRouter(assets));
  }

  const whoami = async (identity: Identity) => ({
    username: identity.username,
    groups: identity.groups,
    canUpdate: await access.authorize(identity, 'update'),
  });

  app.use('/api', authenticate);

  app.get('/api/v1/whoami', allow('list'), async (_req, res) => {
    res.json(await whoami((res.locals as Authed).identity));
  });

  app.get('/api/v1/summary', allow('list'), async (req, res) => {
    onlyParameters(req.query, FILTER_PARAMETERS);
    res.json(await store.summary(parseFilter(req.query, now())));
  });

  app.get('/api/v1/trends', allow('list'), async (req, res) => {
    onlyParameters(req.query, TREND_PARAMETERS);
    const days = wholeNumber(req.query, 'days', DEFAULT_TREND_DAYS, MAX_TREND_DAYS);
    const top = wholeNumber(req.query, 'top', 10, MAX_TREND_TOP);
    // Whole UTC days, today included.
    const until = Math.floor(now() / DAY_MS) * DAY_MS + DAY_MS;
    res.json(await store.trends(until - days * DAY_MS, until, top));
  });

  app.get('/api/v1/facets', allow('list'), async (req, res) => {
    onlyParameters(req.query, []);
    res.json(await store.facets());
  });

  app.get('/api/v1/posture', allow('list'), (req, res) => {
    onlyParameters(req.query, []);
    if (!options.posture || options.posture.enabled?.() === false)
      return res.json({ enabled: false, reason: 'the background scan is off (backgroundScan.enabled, and a cluster to read)' });
    const snapshot = options.posture.posture();
    if (!snapshot) return res.json({ enabled: true, ready: false, reason: 'the background scan has not finished its first evaluation yet' });
    res.json({ enabled: true, ready: true, ...snapshot });
  });

  app.get('/api/v1/notify', allow('list'), async (req, res) => {
    onlyParameters(req.query, []);
    const sinks = options.notifySinks ?? [];
    const stats = sinks.length > 0 ? await store.outboxStats() : {};
    res.json({
      sinks: sinks.map((s) => {
        const st = stats[s.name];
        return {
          name: s.name,
          type: s.type,
          pending: st?.pending ?? 0,
          failing: st?.failing ?? 0,
          ...(st && st.pending > 0 ? { oldestQueued: new Date(st.oldestMs).toISOString() } : {}),
        };
      }),
    });
  });

  app.get('/api/v1/alerts', allow('list'), async (req, res) => {
    const { filter, sort, limit, cursor } = parseListQuery(req.query, now());
    const page = await store.list(filter, cursor, limit, sort);
    // Streamed one alert at a time and bounded in bytes as well as count: a page stops before
    // MAX_LIST_BYTES and its continue token resumes right after the last alert written.
    res.status(200).type('application/json');
    res.write('{"items":[');
    let bytes = 0;
    let next = page.nextCursor;
    let last: (typeof page.items)[number] | undefined;
    for (const item of page.items) {
      const text = JSON.stringify(item);
      const size = Buffer.byteLength(text);
      if (last && bytes + size > MAX_LIST_BYTES) {
        next = cursorAfter(last, sort);
        break;
      }
      if (!res.write(last ? ',' + text : text)) await once(res, 'drain');
      bytes += size;
      last = item;
    }
    res.end(`]${next ? `,"continue":${JSON.stringify(next)}` : ''}}`);
  });

  app.get('/api/v1/alerts/:id', allow('get'), async (req, res) => {
    const id = String(req.params.id);
    const alert = await store.get(id);
    if (!alert) return sendError(res, new ApiError(404, `alert ${JSON.stringify(id)} not found`));
    res.json(alert);
  });

  app.post(
    '/api/v1/alerts/:id/status',
    allow('update'),
    (req, res, next) => {
      if (!req.is('application/json')) {
        return sendError(
          res,
          new ApiError(
            415,
            `the body must be JSON (Content-Type: application/json), got ${req.headers['content-type'] ? JSON.stringify(req.headers['content-type']) : 'no Content-Type'}`,
          ),
        );
      }
      next();
    },
    // strict: false so that `null` or `5` get the "must be a JSON object" answer below, not "not valid JSON".
    express.json({ limit: '16kb', strict: false }),
    async (req, res) => {
      const body: unknown = req.body;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'the body must be a JSON object {"status": …, "reason": …}');
      const { status, reason, ...rest } = body as Record<string, unknown>;
      const unknown = Object.keys(rest);
      if (unknown.length > 0)
        throw new ApiError(400, `unknown field ${JSON.stringify(unknown[0])}: the body has status and reason`, {
          parameter: unknown[0]!,
          allowed: ['status', 'reason'],
        });
      if (typeof status !== 'string' || !(ALERT_STATUSES as readonly string[]).includes(status)) {
        throw new ApiError(400, `status must be one of ${ALERT_STATUSES.join(', ')}, got ${JSON.stringify(status)}`, {
          parameter: 'status',
          allowed: [...ALERT_STATUSES],
        });
      }
      if (reason !== undefined && typeof reason !== 'string') throw new ApiError(400, 'reason must be a string', { parameter: 'reason' });
      if (status === 'dismissed' && (reason ?? '').trim() === '') throw new ApiError(400, 'a reason is required to dismiss an alert', { parameter: 'reason' });
      if ((reason ?? '').length > MAX_REASON_LENGTH) throw new ApiError(400, `reason is longer than ${MAX_REASON_LENGTH} characters`, { parameter: 'reason' });
      const { identity } = res.locals as Authed;
      const updated = await store.setStatus(String(req.params.id), status as AlertStatus, identity.username, reason ?? '');
      logger.info({ alertId: updated.id, to: status, by: identity.username }, 'alert status changed');
      res.json(updated);
    },
  );

  app.all('/api/v1/alerts', methodNotAllowed('GET'));
  app.all('/api/v1/alerts/:id', methodNotAllowed('GET'));
  app.all('/api/v1/alerts/:id/status', methodNotAllowed('POST'));
  for (const route of ['/api/v1/whoami', '/api/v1/summary', '/api/v1/trends', '/api/v1/facets', '/api/v1/posture', '/api/v1/notify'])
    app.all(route, methodNotAllowed('GET'));
  app.use((req, res) => sendError(res, new ApiError(404, `no route ${req.method} ${req.path}: the API serves /api/v1/alerts, and the console /ui/`)));

  // Express 5 routes rejected promises here.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof ApiError) return sendError(res, err);
    if (err instanceof AlertNotFoundError) return sendError(res, new ApiError(404, err.message));
    if (err instanceof InvalidCursorError) return sendError(res, new ApiError(400, err.message, { parameter: 'continue' }));
    if (err instanceof StatusChangeError) return sendError(res, new ApiError(err.conflict ? 409 : 400, err.message));
    if (err instanceof AccessBackendError) {
      logger.error({ error: err.message }, 'cannot check the caller with the identity backend');
      return sendError(res, new ApiError(503, 'cannot verify the token right now: the identity backend is unavailable'));
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') return sendError(res, new ApiError(400, `the body is not valid JSON: ${e.message}`));
    if (e?.type === 'entity.too.large') return sendError(res, new ApiError(413, 'the body is too large (16 KiB at most)'));
    if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') return sendError(res, new ApiError(415, e.message ?? 'unsupported encoding'));
    // Other client errors raised by express itself (e.g. a malformed %-escape in the path: URIError, status 400).
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, new ApiError(e.status, e.message ?? 'bad request'));
    }
    logger.error({ err, method: req.method, path: req.path }, 'alerts api request failed');
    sendError(res, new ApiError(500, 'internal error: see the server log'));
  });
  return app;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface StartAlertsApiOptions extends AlertsAppOptions {
  port: number;
  /** Default: all interfaces. */
  address?: string;
  tls: TlsFiles | { cert: string; key: string };
  /** How often certificate files are checked for renewal (default 60 s; 0: never). */
  tlsReloadIntervalMs?: number;
  /** Timeouts and the connection cap (default ALERTS_API_LIMITS). */
  limits?: Partial<ListenerLimits>;
}

/** The alerts API's listener: the webhook port's timeouts, a short idle window, fewer connections (people and a console, not an API server). */
export const ALERTS_API_LIMITS: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, keepAliveTimeoutMs: 5_000, maxConnections: 256 };

export interface RunningAlertsApi {
  server: https.Server;
  port: number;
  /** https://host:port (localhost when listening on all interfaces). */
  url: string;
  close(): Promise<void>;
}

/** Starts the API on its own HTTPS listener; resolves once it is listening. */
export async function startAlertsApi(options: StartAlertsApiOptions): Promise<RunningAlertsApi> {
  const app = createAlertsApp(options);
  const files = 'certFile' in options.tls ? options.tls : undefined;
  const readTls = () =>
    files ? { cert: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) } : (options.tls as { cert: string; key: string });
  const limits: ListenerLimits = { ...ALERTS_API_LIMITS, ...options.limits };
  const server = https.createServer({ ...readTls(), minVersion: 'TLSv1.2', ...limitOptions(limits) }, app);
  applyLimits(server, limits);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let reload: NodeJS.Timeout | undefined;
  const interval = options.tlsReloadIntervalMs ?? 60_000;
  if (files && interval > 0) {
    const stamp = () => [files.certFile, files.keyFile].map((f) => fs.statSync(f).mtimeMs).join(':');
    let last = stamp();
    reload = setInterval(() => {
      try {
        const now = stamp();
        if (now === last) return;
        server.setSecureContext({ ...readTls(), minVersion: 'TLSv1.2' });
        last = now;
        options.logger.info({ certFile: files.certFile }, 'alerts api certificate reloaded');
      } catch (err) {
        options.logger.warn({ error: (err as Error).message }, 'alerts api certificate reload failed; keeping the current one');
      }
    }, interval);
    reload.unref();
  }
  const address = server.address() as AddressInfo;
  const host =
    !options.address || options.address === '0.0.0.0' || options.address === '::'
      ? 'localhost'
      : options.address.includes(':')
        ? `[${options.address}]`
        : options.address;
  return {
    server,
    port: address.port,
    url: `https://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (reload) clearInterval(reload);
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

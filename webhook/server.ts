// The webhook's HTTPS server: the express app (routes, health, metrics, bad-input handling) and
// the listener (TLS 1.2+, certificate reload, optional mTLS, graceful drain).
//
// Alerts are recorded after the response is written: the API server never waits on a slow
// store. Each recording is tracked until it settles, and close() waits for the ones in flight,
// so none is dropped on a normal shutdown. Retrying a failing store is the alert pipeline's job
// (alerts/pipeline.ts: one retry layer); a sink that still rejects here gets the whole alert
// logged and counted.
import { applyLimits, DEFAULT_LISTENER_LIMITS, limitOptions, type ListenerLimits } from '../core/listener.js';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from '../core/log.js';
import { newAlert, type Alert, type AlertSink } from '../alerts/model.js';
import type { Action, CompiledConfig } from '../policies/config.js';
import type { AdmissionRequest } from './admission.js';
import { enforceRelabelOf, mutationAnswer, reviewRequest, type DecisionSummary, type MutationAnswer } from './answer.js';
import { DEFAULT_BODY_LIMIT, HttpError, readJsonBody } from './body.js';
import { decide, failureDecision, isAction, MODE_LABEL, type Decision, type NamespaceModes } from './decide.js';
import { decisionAlert } from './decision-alert.js';
import { clip, policyIds, WARNING_LIMITS } from './clip.js';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.js';
import { NO_NAMESPACE_MODES } from './namespaces.js';
import type { OffloadResult, ReviewOffload } from './offload.js';
import { encodeAdmissionResponse, encodeAllowed, nameOf, userOf } from './review.js';
import { CertificateWatcher, contextOptions, loadTlsMaterial, MIN_TLS_VERSION, type TlsFiles } from './tls.js';

// The defaults live in a module without express, so that the CLI can show them without loading it.
import { DEFAULT_ADDRESS, DEFAULT_PORT, DEFAULT_SERVER_NAMESPACE, DEFAULT_SHUTDOWN_GRACE_MS } from './defaults.js';
export { DEFAULT_ADDRESS, DEFAULT_PORT, DEFAULT_SERVER_NAMESPACE, DEFAULT_SHUTDOWN_GRACE_MS };

export interface WebhookAppOptions {
  compiled: CompiledConfig;
  /**
   * The live policy config, read on every review: a config reload replaces `current` (`bulwark
   * serve` does, when the config file changes). Default: `compiled`, fixed.
   */
  policies?: { current: CompiledConfig };
  logger: Logger;
  /** Where alerts go (the log sink, a store, …). */
  sinks?: AlertSink[];
  /** Mark admission alerts `verified: false` (no client certificate authenticates the API server). */
  unverifiedAlerts?: boolean;
  /** The namespaces' `bulwark.io/mode` labels; none: config alone decides. */
  namespaceModes?: NamespaceModes;
  /** Bulwark's own namespace: never blocked. Default `bulwark-system`. */
  serverNamespace?: string;
  /** Body limit of /validate and /mutate in bytes (default 6 MiB); other routes set their own. */
  bodyLimit?: number;
  /** Metrics to update (default: a new registry with the process metrics). */
  metrics?: WebhookMetrics;
  /** Mounts more routes (e.g. `POST /audit` with its own parser and limit) before the 404 fallback. */
  extraRoutes?: (app: express.Express) => void;
  /** Answer GET /metrics on this app (default true: the contract's GET /metrics on the webhook port). */
  metricsOnWebhookPort?: boolean;
  /**
   * Other parts of the process (the alerts API) reported on /readyz. They do not make the webhook
   * unready: admission keeps being answered while, say, the alerts API refuses every token.
   */
  components?: () => Record<string, { ready: boolean; reason?: string }>;
  /**
   * The namespace-label dry run (the background scanner's cache): the existing pods of a namespace
   * that admission would deny under `bulwark.io/mode: enforce`. Undefined: not known (no scanner).
   */
  namespaceDryRun?: (namespace: string) => NamespaceDryRun | undefined;
  now?: () => Date;
  /** Judges large reviews on a worker thread (bulwark serve starts one); none: every review on this thread. */
  offload?: ReviewOffload;
}

export interface NamespaceDryRun {
  /** Up to 10 pods with the policies that would deny them. */
  pods: { name: string; policies: string[] }[];
  total: number;
}

/** A decided /validate review, as the server answers, counts, logs and alerts on it. */
interface Concluded {
  uid: string;
  operation: string;
  dryRun: boolean;
  /** The object's name and the user, for the log line. */
  who: () => { name: string; username: string };
  decision: DecisionSummary;
  /** The Namespace an UPDATE relabels to enforce: the dry run's warnings are added to the answer. */
  enforceRelabel: string | undefined;
  /** An exception outside the checks; the decision is then what config onError asks for. */
  internalError?: unknown;
  /** The alert of the findings, built after the response is sent. */
  alert: () => Alert;
}

/** The warnings of a Namespace UPDATE that sets `bulwark.io/mode: enforce` (PSA's label dry run). */
export function namespaceDryRunWarnings(request: AdmissionRequest, dryRun: ((ns: string) => NamespaceDryRun | undefined) | undefined): string[] {
  const name = dryRun && enforceRelabelOf(request);
  return name ? dryRunWarningsOf(name, dryRun) : [];
}

function dryRunWarningsOf(name: string, dryRun: (ns: string) => NamespaceDryRun | undefined): string[] {
  const found = dryRun(name);
  if (!found || found.total === 0) return [];
  const lines = [
    clip(
      `[bulwark] ${found.total} existing pod${found.total === 1 ? '' : 's'} in namespace ${JSON.stringify(name)} would be denied under ${MODE_LABEL}=enforce:`,
      WARNING_LIMITS.maxLineBytes,
    ),
  ];
  for (const p of found.pods.slice(0, 10)) lines.push(clip(`${p.name}: ${p.policies.join(', ')}`, WARNING_LIMITS.maxLineBytes));
  if (found.total > Math.min(found.pods.length, 10)) lines.push(`(and ${found.total - Math.min(found.pods.length, 10)} more)`);
  return lines;
}

export interface Health {
  /** Policies and certificates are loaded and the server listens. */
  ready: boolean;
  /** Shutting down: /readyz answers 503 and responses close their connection. */
  draining: boolean;
}

export interface WebhookApp {
  /** Every route, including the admission ones: mountable on its own. */
  app: express.Express;
  /**
   * The server's request listener: the admission routes directly (express's router and its
   * request/response prototypes cost more per review than the whole policy evaluation), every
   * other route through `app`.
   */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  metrics: WebhookMetrics;
  health: Health;
  /** Resolves when every alert recording started so far has settled (or after `timeoutMs`). */
  flushAlerts(timeoutMs?: number): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  // A literal, not a spread of a shared object: this runs for every review.
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, JSON.stringify({ error: message }));
}

/** The path of a request URL without its query (the API server appends `?timeout=…`). */
function routeOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

/** Routes served without a client certificate under mTLS: the kubelet's probes and Prometheus carry none. */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const certified = new WeakSet<TLSSocket>();

/**
 * Whether the peer presented a certificate the client CA verified. `authorized` alone is not
 * enough: on a resumed TLS session Node reports the stored verify result, which is "OK" for a
 * session in which no certificate was presented at all, so a client that resumes its own
 * certificate-less session would pass. The certificate must be there too (checked once per socket).
 */
function hasVerifiedCertificate(socket: TLSSocket): boolean {
  if (certified.has(socket)) return true;
  if (socket.authorized !== true) return false;
  const cert = socket.getPeerCertificate?.();
  if (!cert || !cert.raw) return false;
  certified.add(socket);
  return true;
}

/**
 * With a client CA, every route but the probes and metrics needs a certificate that CA signed
 * (the TLS layer asks for one and verifies it). Anything else is answered 401 before its body is read.
 */
export function requireClientCertificate(listener: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (hasVerifiedCertificate(req.socket as TLSSocket)) return listener(req, res);
    if (req.method === 'GET' && OPEN_ROUTES.has(routeOf(req))) return listener(req, res);
    res.setHeader('Connection', 'close');
    sendError(res, 401, 'a client certificate signed by the client CA (server.clientCA) is required');
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function serveMetrics(metrics: WebhookMetrics, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await metrics.registry.metrics();
  res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The dedicated metrics listener: GET /metrics and nothing else (a NetworkPolicy can restrict its port). */
function metricsListener(metrics: WebhookMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return sendError(res, 404, `no route for ${req.method} ${path}: this port serves GET /metrics`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET');
      return sendError(res, 405, `${req.method} is not allowed on /metrics; use GET`);
    }
    serveMetrics(metrics, req, res).catch(() => sendError(res, 500, 'cannot collect the metrics'));
  };
}

export function createWebhookApp(opts: WebhookAppOptions): WebhookApp {
  const { logger } = opts;
  const live = opts.policies ?? { current: opts.compiled };
  const sinks = opts.sinks ?? [];
  const namespaceModes = opts.namespaceModes ?? NO_NAMESPACE_MODES;
  const serverNamespace = opts.serverNamespace ?? DEFAULT_SERVER_NAMESPACE;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const metrics = opts.metrics ?? createWebhookMetrics();
  const now = opts.now ?? (() => new Date());
  const offload = opts.offload;
  const health: Health = { ready: false, draining: false };
  const pending = new Set<Promise<void>>();

  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const recordOne = async (sink: AlertSink, alert: Alert, log: Logger): Promise<void> => {
    try {
      await sink.record(alert);
    } catch (err) {
      metrics.error('alert-sink');
      // Last resort: the whole alert goes to the log, so it is never silently lost.
      log.error({ err, alert }, `could not record alert ${alert.type} (${alert.id})`);
    }
  };

  /** After the response: build the alert and hand it to every sink, tracked until settled. */
  const recordAlert = (build: () => Alert, log: Logger) => {
    track(
      new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        let alert: Alert;
        try {
          alert = build();
          if (opts.unverifiedAlerts) alert.verified = false;
        } catch (err) {
          metrics.error('internal');
          log.error({ err }, 'could not build the alert of a decision');
          return;
        }
        await Promise.all(sinks.map((sink) => recordOne(sink, alert, log)));
      }),
    );
  };

  /** A handler that failed outside the checks (a bug): 500 if nothing was sent yet, else the connection is cut. */
  const failed = (res: ServerResponse, err: unknown) => {
    metrics.error('internal');
    logger.error({ err }, 'admission request failed');
    if (!res.headersSent) sendError(res, 500, 'internal error');
    else res.destroy();
  };

  const refuse = (res: ServerResponse, err: HttpError | { status: number; reason: HttpError['reason']; message: string }) => {
    metrics.error(err.reason);
    // Unread bytes of a too-large body are not worth reading: close the connection after answering.
    if (err.status === 413) res.setHeader('Connection', 'close');
    sendError(res, err.status, err.message);
  };

  /**
   * Reads the review of an admission request and hands it to `handle` with the time the handling
   * started; a body that is not one is answered here (415, 413, 400) and counted. No promise: the
   * body reader calls back from the request's 'end' event, and anything `handle` throws is caught.
   * A large body goes to the review worker instead, when there is one and it takes it.
   */
  const withReview = (
    req: IncomingMessage,
    res: ServerResponse,
    route: 'validate' | 'mutate',
    routeMode: Action | undefined,
    handle: (request: AdmissionRequest, started: number) => void,
  ) => {
    const started = performance.now();
    readJsonBody(
      req,
      bodyLimit,
      (err, body) => {
        try {
          if (err) return refuse(res, err);
          const request = reviewRequest(body);
          if (request instanceof HttpError) return refuse(res, request);
          handle(request, started);
        } catch (e) {
          failed(res, e);
        }
      },
      offload && { threshold: offload.threshold, take: (bytes) => toWorker(bytes, res, started, route, routeMode) },
    );
  };

  /** Hands a large body to the review worker; false when it cannot take it now (judged here then). */
  const toWorker = (body: Buffer, res: ServerResponse, started: number, route: 'validate' | 'mutate', routeMode: Action | undefined): boolean => {
    const compiled = live.current;
    const job = { route, routeMode, body, serverNamespace, alerts: sinks.length > 0, now: now().getTime() };
    let taken = false;
    try {
      taken = offload!.submit(job, compiled, namespaceModes, (result) => concludeOffloaded(result, res, started, route, compiled));
    } catch (err) {
      // Never out of the body reader's 'end' event: judged here instead.
      logger.error({ err }, 'could not hand a review to the review worker');
    }
    if (!taken) metrics.reviewWorker('declined');
    return taken;
  };

  const concludeOffloaded = (result: OffloadResult, res: ServerResponse, started: number, route: 'validate' | 'mutate', compiled: CompiledConfig) => {
    metrics.reviewWorker(result.type === 'failed' ? 'failed' : 'judged');
    try {
      if (result.type === 'refused') return refuse(res, result);
      if (result.type === 'failed') {
        metrics.error('internal');
        logger.error({ route }, `admission review not judged: ${result.message}`);
        return sendError(res, 500, 'internal error: the review could not be judged');
      }
      if (result.type === 'mutated') return mutated(res, started, result.facts.uid, result.facts.operation, result.answer);
      const { facts, alert } = result;
      conclude(res, started, compiled, {
        uid: facts.uid,
        operation: facts.operation,
        dryRun: facts.dryRun,
        who: () => facts,
        decision: result.decision,
        enforceRelabel: result.enforceRelabel,
        internalError: result.internalError,
        alert: () => {
          if (!alert) throw new Error('the review worker built no alert');
          return alert;
        },
      });
    } catch (e) {
      failed(res, e);
    }
  };

  const validate = (req: IncomingMessage, res: ServerResponse, routeMode: Action | undefined) =>
    withReview(req, res, 'validate', routeMode, (request, started) => judge(request, started, res, routeMode));

  const judge = (request: AdmissionRequest, started: number, res: ServerResponse, routeMode: Action | undefined) => {
    // One config for the whole review (and its alert), even if a reload lands meanwhile.
    const compiled = live.current;
    let decision: Decision;
    let internalError: unknown;
    try {
      decision = decide({ request, compiled, namespaceModes, routeMode, serverNamespace });
    } catch (err) {
      // An exception outside the checks (a bug): answered as config onError says, like a throwing check.
      internalError = err;
      decision = failureDecision(request, compiled, serverNamespace);
    }
    conclude(res, started, compiled, {
      uid: request.uid,
      operation: request.operation,
      dryRun: !!request.dryRun,
      // Read only when the decision is logged (a closure, not getters: an object literal with
      // accessors takes V8's slow path and cost ~40 µs of server CPU per review in the bench).
      who: () => ({ name: nameOf(request), username: userOf(request).username }),
      decision,
      enforceRelabel: opts.namespaceDryRun ? enforceRelabelOf(request) : undefined,
      internalError,
      alert: () => newAlert(decisionAlert(decision, request, compiled, nameOf(request), now())),
    });
  };

  /** Answers a decided review (from this thread or the worker), then counts, logs and records its alert. */
  const conclude = (res: ServerResponse, started: number, compiled: CompiledConfig, c: Concluded) => {
    let log: Logger | undefined;
    const child = () => (log ??= logger.child({ uid: c.uid }));
    const d = c.decision;
    if (c.internalError !== undefined) {
      metrics.error('internal');
      child().error({ err: c.internalError }, 'admission decision failed');
    }
    let response = d.response;
    if (c.enforceRelabel !== undefined && response?.allowed !== false && opts.namespaceDryRun) {
      const warnings = dryRunWarningsOf(c.enforceRelabel, opts.namespaceDryRun);
      if (warnings.length > 0) {
        const r = response ?? { uid: c.uid, allowed: true };
        response = { ...r, warnings: [...(r.warnings ?? []), ...warnings] };
      }
    }
    sendJson(res, 200, response ? encodeAdmissionResponse(response) : encodeAllowed(c.uid));
    const seconds = (performance.now() - started) / 1000;
    metrics.observeDuration('validate', seconds);
    metrics.request(c.operation, d.kind, d.outcome);

    for (const e of d.errors) {
      metrics.error('check-error');
      child().error({ err: e.error, policy: e.policy }, `check ${e.policy} threw; onError is ${compiled.config.onError}`);
    }
    if (d.findings.length === 0) return; // allowed, skipped, exempt: counted, not logged
    const seen = new Set<string>();
    for (const f of d.findings) {
      const key = `${f.policy}\0${f.action}`;
      if (seen.has(key)) continue;
      seen.add(key);
      metrics.decision(f.policy, f.action);
    }
    const who = c.who();
    child().info(
      {
        decision: d.outcome,
        operation: c.operation,
        kind: d.kind,
        namespace: d.namespace,
        name: who.name,
        user: who.username,
        policies: policyIds(d.findings),
        dryRun: c.dryRun,
        durationMs: Math.round(seconds * 1e6) / 1e3,
      },
      `${d.outcome} ${c.operation} ${d.kind}`,
    );
    if (!c.dryRun && sinks.length > 0) recordAlert(c.alert, child());
  };

  const mutate = (req: IncomingMessage, res: ServerResponse) =>
    withReview(req, res, 'mutate', undefined, (request, started) =>
      mutated(res, started, request.uid, request.operation, mutationAnswer(request, live.current)),
    );

  const mutated = (res: ServerResponse, started: number, uid: string, operation: string, m: MutationAnswer) => {
    if (m.result === 'patched') logger.debug({ uid, kind: m.kind, namespace: m.namespace, applied: m.applied }, 'mutated');
    else if (m.result === 'error') {
      // A default that cannot be computed never blocks the request: allowed, unpatched, logged.
      metrics.error('mutation-error');
      logger.error({ uid, err: m.error }, 'mutation failed; allowing the request unchanged');
    }
    sendJson(res, 200, m.body);
    metrics.observeDuration('mutate', (performance.now() - started) / 1000);
    metrics.mutation(operation, m.kind, m.result);
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    if (health.draining) res.setHeader('Connection', 'close');
    next();
  });
  app.post('/validate', (req, res) => validate(req, res, undefined));
  app.post('/validate/:mode', (req, res) => {
    const mode = req.params.mode;
    if (!isAction(mode)) {
      sendError(res, 404, `no route for POST ${req.path}: the mode must be enforce, warn or audit`);
      return;
    }
    return validate(req, res, mode);
  });
  app.post('/mutate', (req, res) => mutate(req, res));
  app.get('/healthz', (_req, res) => sendJson(res, 200, '{"status":"ok"}'));
  app.get('/readyz', (_req, res) => {
    const components = opts.components?.();
    const extra = components && Object.keys(components).length > 0 ? { components } : {};
    if (health.ready && !health.draining) sendJson(res, 200, JSON.stringify({ status: 'ready', ...extra }));
    else sendJson(res, 503, JSON.stringify({ status: health.draining ? 'draining' : 'starting', ...extra }));
  });
  if (opts.metricsOnWebhookPort ?? true) app.get('/metrics', (req, res) => void serveMetrics(metrics, req, res));
  const routes = [
    ['/validate', 'POST'],
    ['/validate/:mode', 'POST'],
    ['/mutate', 'POST'],
    ['/healthz', 'GET'],
    ['/readyz', 'GET'],
    ['/metrics', 'GET'],
  ] as const;
  for (const [path, allow] of routes.filter(([p]) => p !== '/metrics' || (opts.metricsOnWebhookPort ?? true))) {
    app.all(path, (req, res) => {
      res.setHeader('Allow', allow);
      sendError(res, 405, `${req.method} is not allowed on ${req.path}; use ${allow}`);
    });
  }
  opts.extraRoutes?.(app);
  app.use((req, res) => sendError(res, 404, `no route for ${req.method} ${req.path}`));
  // Errors of other routes' parsers (body-parser sets status 400/413/415) and anything unexpected.
  app.use((err: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const e = err as { status?: unknown; statusCode?: unknown; message?: unknown; expose?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    if (status >= 500) {
      metrics.error('internal');
      logger.error({ err, method: req.method, path: req.path }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, status, status < 500 && typeof e.message === 'string' ? e.message : 'internal error');
  });

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      const route = routeOf(req);
      const mode = route.startsWith('/validate/') ? route.slice(10) : undefined;
      if (route === '/validate' || route === '/mutate' || (mode !== undefined && isAction(mode))) {
        if (health.draining) res.setHeader('Connection', 'close');
        try {
          if (route === '/mutate') mutate(req, res);
          else validate(req, res, mode as Action | undefined);
        } catch (err) {
          failed(res, err);
        }
        return;
      }
    }
    app(req, res);
  };

  return {
    app,
    listener,
    metrics,
    health,
    async flushAlerts(timeoutMs = Infinity) {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0) {
        const left = deadline - Date.now();
        if (left <= 0) {
          logger.error({ pending: pending.size }, 'alerts still being recorded at shutdown');
          return;
        }
        const all = Promise.allSettled([...pending]).then(() => undefined);
        await (Number.isFinite(left) ? Promise.race([all, sleep(left)]) : all);
      }
    },
  };
}

export interface WebhookServerOptions extends WebhookAppOptions {
  /** Default 8443; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0 (every IPv4 interface: the API server reaches the pod by its IP). */
  address?: string;
  tls: TlsFiles;
  /** Also serve GET /metrics on this port (same certificate); undefined: no metrics listener. */
  metricsPort?: number;
  /** Periodic stat of the certificate files, besides fs.watch (default 10 s; 0 disables). */
  certPollIntervalMs?: number;
  /** Watch the certificate directories with fs.watch (default true). */
  certWatch?: boolean;
  /** How long close() waits for in-flight reviews before closing connections (default 25 s). */
  shutdownGraceMs?: number;
  /** Keep serving this long after close() turned /readyz to 503, so endpoints update first (default 0). */
  shutdownDelayMs?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Open connections at most (default 2048); further ones are closed at once. */
  maxConnections?: number;
}

export interface WebhookServer {
  server: https.Server;
  port: number;
  /** The dedicated metrics listener's port, when metricsPort was given. */
  metricsPort?: number;
  web: WebhookApp;
  /** Drains: /readyz 503, stop accepting, finish in-flight reviews and alert recordings. Idempotent. */
  close(graceMs?: number): Promise<{ forced: boolean }>;
  /** Re-reads the certificate files now; true when a new certificate was applied. */
  reloadCertificates(): boolean;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const material = loadTlsMaterial(opts.tls);
  const web = createWebhookApp(opts);
  const { logger } = opts;
  const mtls = !!opts.tls.clientCAFile;
  const limits: ListenerLimits = {
    ...DEFAULT_LISTENER_LIMITS,
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_LISTENER_LIMITS.headersTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_LISTENER_LIMITS.requestTimeoutMs,
    // Longer than the API server's usual reuse window, so it is not the one racing an idle close.
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? DEFAULT_LISTENER_LIMITS.keepAliveTimeoutMs,
    maxConnections: opts.maxConnections ?? DEFAULT_LISTENER_LIMITS.maxConnections,
  };
  const server = https.createServer(
    {
      ...contextOptions(material),
      minVersion: MIN_TLS_VERSION,
      // Asked for and verified by TLS, enforced per route (the probes carry no certificate).
      requestCert: mtls,
      rejectUnauthorized: false,
      ...limitOptions(limits),
    } as https.ServerOptions,
    mtls ? requireClientCertificate(web.listener) : web.listener,
  );
  applyLimits(server, limits);
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_PORT, opts.address ?? DEFAULT_ADDRESS, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'server error'));
  const port = (server.address() as AddressInfo).port;

  let metricsServer: https.Server | undefined;
  if (opts.metricsPort !== undefined) {
    // No client certificate asked here, even with mTLS on the webhook: Prometheus carries none.
    const metricsLimits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, maxConnections: 64 };
    const ms = https.createServer(
      { ...contextOptions(material), minVersion: MIN_TLS_VERSION, ...limitOptions(metricsLimits) } as https.ServerOptions,
      metricsListener(web.metrics),
    );
    applyLimits(ms, metricsLimits);
    try {
      await new Promise<void>((resolve, reject) => {
        ms.once('error', reject);
        ms.listen(opts.metricsPort, opts.address ?? DEFAULT_ADDRESS, () => {
          ms.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      throw new Error(`cannot listen for metrics on port ${opts.metricsPort}: ${(err as Error).message}`, { cause: err });
    }
    ms.on('error', (err) => logger.error({ err }, 'metrics server error'));
    metricsServer = ms;
  }

  const watcher = new CertificateWatcher({
    files: opts.tls,
    current: material,
    apply: (m) => {
      server.setSecureContext(contextOptions(m));
      metricsServer?.setSecureContext(contextOptions(m));
    },
    onReload: (result, err) => {
      web.metrics.certificateReload(result);
      if (result === 'success') logger.info({ certFile: opts.tls.certFile }, 'serving certificate reloaded');
      else {
        web.metrics.error('certificate-reload');
        logger.warn({ err: err?.message }, 'serving certificate not reloaded (keeping the current one)');
      }
    },
    pollIntervalMs: opts.certPollIntervalMs ?? 10_000,
    watch: opts.certWatch ?? true,
  });
  watcher.start();
  web.health.ready = true;

  let closing: Promise<{ forced: boolean }> | undefined;
  const close = (graceMs = opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) =>
    (closing ??= (async () => {
      const started = Date.now();
      web.health.draining = true;
      if (opts.shutdownDelayMs) await sleep(opts.shutdownDelayMs);
      watcher.stop();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      let forced = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Keep-alive connections become idle as their last response ends (responses carry Connection: close now).
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const force = setTimeout(
        () => {
          forced = true;
          logger.warn('grace period over: closing the remaining connections');
          server.closeAllConnections();
        },
        Math.max(0, graceMs - (Date.now() - started)),
      );
      await closed;
      clearInterval(sweep);
      clearTimeout(force);
      await web.flushAlerts(Math.max(1000, graceMs - (Date.now() - started)));
      return { forced };
    })());

  return {
    server,
    port,
    web,
    close,
    reloadCertificates: () => watcher.reload(),
    ...(metricsServer ? { metricsPort: (metricsServer.address() as AddressInfo).port } : {}),
  };
}

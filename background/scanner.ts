// The background scanner of `bulwark serve`: list+watch informers of every judged kind (and of
// namespaces, for `bulwark.io/mode`), a debounced full re-evaluation through the admission
// decision (background/judge.ts), a periodic resync, and the PolicyReports — written only by the
// holder of the Lease `bulwark-background-scan`, and only when their content changed.
//
// Failures (API server unreachable, RBAC 403, the PolicyReport CRDs absent, a report too large)
// are one log line and a metric each, retried with back-off; admission never waits on any of it.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import type { Action, CompiledConfig } from '../policies/config.js';
import type { K8sObject } from '../policies/types.js';
import { parseSection, type BulwarkConfig } from '../config/load.js';
import { MODE_LABEL, isAction } from '../webhook/decide.js';
import { staticNamespaceModes } from '../webhook/namespaces.js';
import { judgeAll, judgeObject, type JudgedObject } from './judge.js';
import { KubeError, LISTED_KINDS, kubeErrorOf, kubeRequest, listAll, listPath, listTarget, servedVersion } from './kube.js';
import { buildPolicyReports, DEFAULT_MAX_RESULTS, REPORT_API_VERSION, REPORT_NAME, type PolicyReport } from './policyreport.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_INTERVAL_MS, LeaseElector, LEASE_NAME } from './lease.js';
import { syncBackgroundAlerts } from './alerts.js';
import type { AlertSink } from '../alerts/model.js';
import type { AlertStore } from '../alerts/store.js';
import type { PostureSnapshot } from '../alerts/posture.js';
import { postureOf } from './posture.js';

export interface BackgroundSettings {
  enabled: boolean;
  resyncMs: number;
  debounceMs: number;
  includePass: boolean;
  maxResultsPerReport: number;
}

/** The `backgroundScan:` and `reports:` sections with their defaults (enabled false, 1h, 5s, false, 1000). */
export function backgroundSettingsOf(config: Pick<BulwarkConfig, 'backgroundScan' | 'reports'>, source = 'config'): BackgroundSettings {
  const scan = parseSection('backgroundScan', config.backgroundScan, source);
  const reports = parseSection('reports', config.reports, source);
  return {
    enabled: scan?.enabled ?? false,
    resyncMs: scan?.resync ?? 3_600_000,
    debounceMs: scan?.debounce ?? 5_000,
    includePass: reports?.includePass ?? false,
    maxResultsPerReport: reports?.maxResultsPerReport ?? DEFAULT_MAX_RESULTS,
  };
}

/** What the checks never read, dropped from every cached object (in place: the informer's cache holds the same object). */
export function stripForCache(obj: any): any {
  if (!obj || typeof obj !== 'object') return obj;
  const meta = obj.metadata;
  if (meta && typeof meta === 'object') {
    delete meta.managedFields;
    const ann = meta.annotations;
    if (ann && typeof ann === 'object') delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  }
  delete obj.status;
  return obj;
}

export interface BackgroundScannerOptions {
  kc: KubeConfig;
  /** The current compiled config (a reload is seen at the next evaluation). */
  compiled: () => CompiledConfig;
  settings: BackgroundSettings;
  logger: Logger;
  registry?: Registry | undefined;
  /** The release namespace: the Lease lives there, and findings there are at most audited (as in admission). */
  namespace: string;
  /** This replica's identity in the Lease (the pod name). */
  identity: string;
  /** Lease timing (tests shorten it). */
  leaseDurationMs?: number;
  renewIntervalMs?: number;
  /** Back-off after a failed informer start or report write (doubles up to 5 min). */
  initialBackoffMs?: number;
  /** Where background alerts go (the alert pipeline) and the store asked which are open; none: no alerts. */
  alerts?: { sink: AlertSink; store: AlertStore } | undefined;
  /**
   * This cluster's name on its background alerts: `cluster.name`, or serve's default (the
   * kube-system namespace's uid). null while a default is expected but not known yet: the alerts
   * then wait for the next evaluation.
   */
  cluster?: () => string | undefined | null;
}

interface InformerLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  list(namespace?: string): KubernetesObject[];
  on(verb: string, cb: (obj: any) => void): void;
}

const MAX_BACKOFF_MS = 300_000;

export class BackgroundScanner {
  private readonly informers = new Map<string, InformerLike>();
  private readonly modes = new Map<string, Action>();
  private readonly log: Logger;
  private readonly errors: Counter<'reason'>;
  private readonly dropped: Counter;
  private readonly objectsGauge: Gauge;
  private readonly resultsGauge: Gauge<'result'>;
  private readonly alertsCounter: Counter<'event'>;
  private readonly elector: LeaseElector;
  private debounce: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private evaluating: Promise<void> | undefined;
  private again = false;
  /** Last judged objects (for the namespace dry run) and the reports' content last written. */
  private judged: JudgedObject[] = [];
  private reports: PolicyReport[] = [];
  private evaluatedAt = new Date(0);
  private postureCache: { evaluation: number; snapshot: PostureSnapshot } | undefined;
  private readonly written = new Map<string, string>();
  private writeBackoffMs: number;
  private writeBlockedUntil = 0;
  private readonly loggedOnce = new Set<string>();
  /** Evaluations completed (tests wait on it). */
  evaluations = 0;

  constructor(private readonly opts: BackgroundScannerOptions) {
    this.log = opts.logger.child({ component: 'background-scan' });
    const registers = opts.registry ? [opts.registry] : [];
    this.errors = new Counter({
      name: 'bulwark_background_errors_total',
      help: 'Background scanner failures by reason (unreachable, forbidden, crd-missing, too-large, other).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.dropped = new Counter({
      name: 'bulwark_background_results_dropped_total',
      help: 'PolicyReport results not listed because a report reached reports.maxResultsPerReport (counted in its summary).',
      registers,
    });
    this.objectsGauge = new Gauge({ name: 'bulwark_background_objects', help: 'Objects the background scanner holds in its caches.', registers });
    this.resultsGauge = new Gauge({
      name: 'bulwark_background_results',
      help: 'Results of the last background evaluation by result (fail, warn, pass).',
      labelNames: ['result'] as const,
      registers,
    });
    this.alertsCounter = new Counter({
      name: 'bulwark_background_alerts_total',
      help: 'Background alerts raised (an object found risky) and resolved (the object fixed or deleted) by the Lease holder.',
      labelNames: ['event'] as const,
      registers,
    });
    this.writeBackoffMs = opts.initialBackoffMs ?? 5_000;
    this.elector = new LeaseElector({
      kc: opts.kc,
      namespace: opts.namespace,
      name: LEASE_NAME,
      identity: opts.identity,
      leaseDurationMs: opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
      renewIntervalMs: opts.renewIntervalMs ?? DEFAULT_RENEW_INTERVAL_MS,
      onChange: (leader) => {
        this.log.info(
          { identity: opts.identity, lease: `${opts.namespace}/${LEASE_NAME}` },
          leader ? 'became the background-scan writer (Lease held)' : 'no longer the background-scan writer',
        );
        if (leader) {
          this.written.clear(); // a new writer compares against what is in the cluster, not memory
          this.schedule(0);
        }
      },
      onError: (err) => this.failure('lease', err),
    });
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** Starts the informers and the Lease loop; resolves at once (syncing happens in the background). */
  async start(): Promise<void> {
    const k8s = await import('@kubernetes/client-node');
    const kc = this.opts.kc;
    const add = (key: string, path: string, kind: string, apiVersion: string, onEvent: (obj: any, deleted: boolean) => void): void => {
      const informer = k8s.makeInformer<KubernetesObject>(kc, path, async () => {
        const { items, resourceVersion } = await listAll(kc, path, kind, apiVersion);
        return { apiVersion, kind: `${kind}List`, metadata: { resourceVersion }, items: items.map(stripForCache) } as any;
      }) as unknown as InformerLike;
      informer.on('add', (o) => onEvent(stripForCache(o), false));
      informer.on('update', (o) => onEvent(stripForCache(o), false));
      informer.on('delete', (o) => onEvent(o, true));
      informer.on('error', (err) => this.restartLater(key, informer, err));
      this.informers.set(key, informer);
      this.startInformer(key, informer, this.opts.initialBackoffMs ?? 5_000);
    };
    add('Namespace', '/api/v1/namespaces', 'Namespace', 'v1', (ns, deleted) => {
      const name = ns?.metadata?.name;
      if (typeof name !== 'string') return;
      const value = deleted ? undefined : ns.metadata?.labels?.[MODE_LABEL];
      const before = this.modes.get(name);
      if (isAction(value)) this.modes.set(name, value);
      else this.modes.delete(name);
      if (before !== this.modes.get(name)) this.schedule();
    });
    for (const kind of LISTED_KINDS) {
      const version = await servedVersion(kc, kind);
      add(kind.kind, listPath(kind, undefined, version), kind.kind, listTarget(kind, version).apiVersion, () => this.schedule());
    }
    this.elector.start();
    this.armResync();
  }

  private startInformer(key: string, informer: InformerLike, backoffMs: number): void {
    if (this.stopped) return;
    informer.start().then(
      () => this.schedule(),
      (err: unknown) => this.restartLater(key, informer, err, backoffMs),
    );
  }

  private restartLater(key: string, informer: InformerLike, err: unknown, backoffMs = this.opts.initialBackoffMs ?? 5_000): void {
    if (this.stopped) return;
    this.failure(`list/watch ${key}`, err, backoffMs);
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.startInformer(key, informer, Math.min(backoffMs * 2, MAX_BACKOFF_MS));
    }, backoffMs);
    t.unref();
    this.timers.add(t);
  }

  private failure(what: string, err: unknown, retryMs?: number): void {
    const status = err instanceof KubeError ? err.status : Number((err as { code?: unknown })?.code) || 0;
    const reason =
      status === 403 ? 'forbidden' : status === 404 ? 'crd-missing' : status === 413 || status === 422 ? 'too-large' : status === 0 ? 'unreachable' : 'other';
    this.errors.inc({ reason });
    const message = err instanceof Error ? err.message : String(err);
    // One line per distinct failure until it changes: a down API server must not flood the log.
    const key = `${what}:${reason}`;
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log.warn(
      { what, reason, err: message, ...(retryMs ? { retryInSeconds: retryMs / 1000 } : {}) },
      `background scan: ${what} failed (${reason}): ${message}; retrying with back-off, admission is unaffected`,
    );
  }

  private armResync(): void {
    if (this.stopped) return;
    this.resync = setTimeout(() => {
      this.written.clear(); // a resync rewrites what someone else may have changed
      this.schedule(0);
      this.armResync();
    }, this.opts.settings.resyncMs);
    this.resync.unref();
  }

  /** Re-evaluate after the debounce (a burst of events is one evaluation). */
  schedule(delayMs = this.opts.settings.debounceMs): void {
    if (this.stopped) return;
    if (this.debounce) {
      if (delayMs > 0) return;
      clearTimeout(this.debounce);
    }
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.evaluate();
    }, delayMs);
    this.debounce.unref();
  }

  private objects(): K8sObject[] {
    const out: K8sObject[] = [];
    for (const kind of LISTED_KINDS) {
      const informer = this.informers.get(kind.kind);
      if (!informer) continue;
      const apiVersion = listTarget(kind).apiVersion;
      for (const o of informer.list()) {
        const obj = o as K8sObject;
        // Watch events carry kind and apiVersion; list items get them in listFn.
        if (obj.kind !== kind.kind) (obj as any).kind = kind.kind;
        if (!obj.apiVersion) (obj as any).apiVersion = apiVersion;
        out.push(obj);
      }
    }
    return out;
  }

  /** One full evaluation (serialised: a change during one runs another after it). */
  evaluate(): Promise<void> {
    if (this.evaluating) {
      this.again = true;
      return this.evaluating;
    }
    this.evaluating = (async () => {
      await Promise.resolve(); // `evaluating` is set before the body runs (and before its finally clears it)
      try {
        do {
          this.again = false;
          const objects = this.objects();
          this.objectsGauge.set(objects.length);
          this.judged = judgeAll(objects, {
            compiled: this.opts.compiled(),
            namespaceModes: staticNamespaceModes(this.modes),
            serverNamespace: this.opts.namespace,
          });
          const { reports, overflow } = buildPolicyReports(
            this.judged.filter((j) => j.outcome !== 'skipped' && j.outcome !== 'exempt'),
            {
              includePass: this.opts.settings.includePass,
              maxResultsPerReport: this.opts.settings.maxResultsPerReport,
            },
          );
          if (overflow > 0) this.dropped.inc(overflow);
          this.reports = reports;
          this.evaluatedAt = new Date();
          const count = { fail: 0, warn: 0, pass: 0 };
          for (const r of reports) {
            count.fail += r.summary.fail;
            count.warn += r.summary.warn;
            count.pass += r.summary.pass;
          }
          for (const [k, v] of Object.entries(count)) this.resultsGauge.set({ result: k }, v);
          this.evaluations++;
          if (this.elector.isLeader) {
            await this.writeReports(reports);
            await this.syncAlerts();
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.failure('evaluation', err);
      } finally {
        this.evaluating = undefined;
      }
    })();
    return this.evaluating;
  }

  /** Raises and resolves the background alerts of the last evaluation (the Lease holder only). */
  private async syncAlerts(): Promise<void> {
    const alerts = this.opts.alerts;
    if (!alerts) return;
    try {
      const cluster = this.opts.cluster?.();
      if (cluster === null) {
        this.schedule(this.opts.settings.debounceMs);
        return;
      }
      const { raised, resolved } = await syncBackgroundAlerts(this.judged, this.opts.compiled(), alerts.sink, alerts.store, new Date(), cluster);
      if (raised) this.alertsCounter.inc({ event: 'raised' }, raised);
      if (resolved) this.alertsCounter.inc({ event: 'resolved' }, resolved);
      if (raised || resolved) this.log.info({ raised, resolved }, 'background alerts updated');
    } catch (err) {
      // The next evaluation (a change, or the resync) tries again; reports and admission go on.
      this.failure('recording background alerts', err);
    }
  }

  private async writeReports(reports: PolicyReport[]): Promise<void> {
    if (Date.now() < this.writeBlockedUntil) {
      this.schedule(this.writeBlockedUntil - Date.now());
      return;
    }
    const wanted = new Set<string>();
    try {
      for (const report of reports) {
        const path = reportPath(report.metadata.namespace);
        wanted.add(path);
        const content = JSON.stringify({
          s: report.summary,
          r: report.results.map(({ timestamp: _t, ...rest }) => rest),
          a: report.metadata.annotations ?? {},
        });
        if (this.written.get(path) === content) continue;
        await this.put(path, report);
        this.written.set(path, content);
      }
      for (const path of [...this.written.keys()]) {
        if (wanted.has(path)) continue;
        const res = await kubeRequest(this.opts.kc, 'DELETE', path);
        if (res.status !== 200 && res.status !== 404) throw kubeErrorOf('DELETE', path, res.status, res.body);
        this.written.delete(path);
      }
      this.writeBackoffMs = this.opts.initialBackoffMs ?? 5_000;
      this.loggedOnce.clear();
    } catch (err) {
      this.failure('writing PolicyReports', err, this.writeBackoffMs);
      this.writeBlockedUntil = Date.now() + this.writeBackoffMs;
      this.schedule(this.writeBackoffMs);
      this.writeBackoffMs = Math.min(this.writeBackoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  /** Create or replace one report. */
  private async put(path: string, report: PolicyReport): Promise<void> {
    const current = await kubeRequest(this.opts.kc, 'GET', path);
    // A missing object names itself in details; a resource the server does not serve does not.
    if (current.status === 404 && current.body?.details?.name !== REPORT_NAME) {
      throw new KubeError(`GET ${path}: 404: the ${REPORT_API_VERSION} PolicyReport CRDs are not installed (install the chart's crds/ or another tool's)`, 404);
    }
    if (current.status === 200) {
      const body = { ...report, metadata: { ...report.metadata, resourceVersion: current.body?.metadata?.resourceVersion } };
      const res = await kubeRequest(this.opts.kc, 'PUT', path, body);
      if (res.status !== 200) throw kubeErrorOf('PUT', path, res.status, res.body);
      return;
    }
    if (current.status !== 404) throw kubeErrorOf('GET', path, current.status, current.body);
    const collection = path.slice(0, path.lastIndexOf('/'));
    const res = await kubeRequest(this.opts.kc, 'POST', collection, report);
    if (res.status !== 201 && res.status !== 200) throw kubeErrorOf('POST', collection, res.status, res.body);
  }

  /**
   * The console's posture: the last evaluation's reports by namespace and policy, and what enforce
   * mode would deny (judged again once per evaluation, on demand). Undefined before the first.
   */
  posture(): PostureSnapshot | undefined {
    if (this.evaluations === 0) return undefined;
    if (this.postureCache?.evaluation === this.evaluations) return this.postureCache.snapshot;
    const evaluation = this.evaluations;
    const underEnforce = judgeAll(this.objects(), { compiled: this.opts.compiled(), mode: 'enforce', serverNamespace: this.opts.namespace });
    const snapshot = postureOf(this.reports, underEnforce, this.modes, this.evaluatedAt);
    this.postureCache = { evaluation, snapshot };
    return snapshot;
  }

  /**
   * The namespace-label dry run: the pods of `namespace` (from the cache) that admission would
   * deny if the namespace were labelled `bulwark.io/mode: enforce`. Undefined before the first sync.
   */
  podsDeniedUnderEnforce(namespace: string, limit = 10): { pods: { name: string; policies: string[] }[]; total: number } | undefined {
    const pods = this.informers.get('Pod');
    if (!pods || this.evaluations === 0) return undefined;
    const compiled = this.opts.compiled();
    const names: { name: string; policies: string[] }[] = [];
    let total = 0;
    for (const o of pods.list(namespace)) {
      const obj = o as K8sObject;
      if (!obj.kind) (obj as any).kind = 'Pod';
      if (!obj.apiVersion) (obj as any).apiVersion = 'v1';
      const j = judgeObject(obj, { compiled, mode: 'enforce', serverNamespace: this.opts.namespace });
      if (j.outcome !== 'denied') continue;
      total++;
      if (names.length < limit) names.push({ name: j.name, policies: [...new Set(j.findings.filter((f) => f.action === 'enforce').map((f) => f.policy))] });
    }
    return { pods: names, total };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.resync) clearTimeout(this.resync);
    for (const t of this.timers) clearTimeout(t);
    await this.elector.stop();
    await Promise.all([...this.informers.values()].map((i) => i.stop().catch(() => undefined)));
    await this.evaluating;
  }
}

function reportPath(namespace: string | undefined): string {
  return namespace
    ? `/apis/${REPORT_API_VERSION}/namespaces/${encodeURIComponent(namespace)}/policyreports/${REPORT_NAME}`
    : `/apis/${REPORT_API_VERSION}/clusterpolicyreports/${REPORT_NAME}`;
}

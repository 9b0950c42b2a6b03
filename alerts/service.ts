// Builds the alert pipeline, the store behind it, retention and (when configured) the alerts API
// from the configuration: what `bulwark serve` calls once at start-up.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { ensureDevCertificates } from '../certs/x509.js';
import type { BulwarkConfig } from '../config/load.js';
import { startAlertsApi, type RunningAlertsApi, type TlsFiles } from './api.js';
import { KubernetesAccess, TokenFileAccess, type AccessControl, type Readiness } from './auth.js';
import type { Logger } from '../core/log.js';
import { AlertPipeline } from './pipeline.js';
import { createSink, notifySettingsOf, notifyTargets, NotifyDispatcher } from './notify.js';
import { alertsSettings, DEV_CERT_DIR, type ApiSettings, type StoreSettings } from './settings.js';

export { DEV_CERT_DIR };
import { type AlertStore, type OpenStoreOptions } from './store.js';
import { openAlertStore } from './store-factory.js';
import type { PostureSource } from './posture.js';
import { kubeconfigSource } from '../core/kubeconfig.js';

export interface AlertsServiceOptions {
  /** The process's metrics registry (served on the webhook's /metrics). */
  registry?: Registry;
  /** Kubernetes mode: the cluster to ask (default: api.kubeconfig, or in-cluster / $KUBECONFIG). */
  kubeConfig?: KubeConfig;
  /** Directory of the development certificate used when no certificate is configured. */
  devCertDir?: string;
  /** Overrides api.port (tests: 0 for an ephemeral port). */
  apiPort?: number;
  storeOptions?: OpenStoreOptions;
  /** The config file's name, for messages about its keys. */
  configSource?: string;
  /** The background scan's posture, for the console (serve sets it once the scan starts). */
  posture?: PostureSource;
  /** The cluster's name when `cluster.name` is not set (serve: the kube-system namespace's uid, once known). */
  defaultCluster?: () => string | undefined;
  /**
   * Whether this replica runs the store's maintenance now — retention and notification delivery
   * (serve: it holds the Lease `bulwark-maintenance` on a shared store). Default: always. The
   * store's own guards (PostgreSQL advisory lock, outbox claims) still apply underneath.
   */
  maintains?: () => boolean;
}

export interface AlertsService {
  pipeline: AlertPipeline;
  store: AlertStore;
  api?: RunningAlertsApi;
  settings: { store: StoreSettings; api: ApiSettings };
  /** The alerts API's readiness (e.g. not ready while its token file is broken); absent without the API. */
  readiness?: () => Readiness;
  /** Applies retention now; resolves to the number of alerts deleted. */
  prune(): Promise<number>;
  close(): Promise<void>;
}

/** The certificate for the API: api.tlsCert/tlsKey, else the webhook's (server.tlsCert/tlsKey), else the dev certificate. */
export function apiTlsFiles(config: Pick<BulwarkConfig, 'server'>, api: ApiSettings, devCertDir = DEV_CERT_DIR): TlsFiles {
  if (api.tlsCert && api.tlsKey) return { certFile: api.tlsCert, keyFile: api.tlsKey };
  const server = config.server ?? {};
  if (typeof server.tlsCert === 'string' && typeof server.tlsKey === 'string') return { certFile: server.tlsCert, keyFile: server.tlsKey };
  const dev = ensureDevCertificates(devCertDir);
  return { certFile: dev.certFile, keyFile: dev.keyFile };
}

export async function startAlertsService(config: BulwarkConfig, logger: Logger, options: AlertsServiceOptions = {}): Promise<AlertsService> {
  const settings = alertsSettings(config);
  // Read before the store opens: a sink that cannot work (no secret, not https) stops the start.
  const notify = notifySettingsOf(config, options.configSource);
  const log = logger.child({ component: 'alerts' });
  const store = await openAlertStore(settings.store.url, { poolSize: settings.store.maxConnections, ...options.storeOptions });
  log.info({ store: store.description, dedupWindowMs: settings.store.dedupWindowMs }, 'alert store open');

  const { maxAgeMs, maxCount, intervalMs } = settings.store.retention;
  const maintains = options.maintains ?? (() => true);
  const prune = async (): Promise<number> => {
    // Runs with retention off too: it also expires the stores' occurrence claims.
    const deleted = await store.prune({ maxAgeMs, maxCount });
    if (deleted > 0) log.info({ deleted, maxAgeMs, maxCount }, 'alert retention applied');
    return deleted;
  };
  let timer: NodeJS.Timeout | undefined;
  let api: RunningAlertsApi | undefined;
  let access: AccessControl | undefined;
  const pipeline = new AlertPipeline({
    store,
    logger,
    dedupWindowMs: settings.store.dedupWindowMs,
    floodLimitPerMinute: settings.store.floodLimitPerMinute,
    ...(typeof config.cluster?.name === 'string' ? { cluster: config.cluster.name } : options.defaultCluster ? { cluster: options.defaultCluster } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(notify.sinks.length > 0 ? { notify: notifyTargets(notify) } : {}),
  });
  const dispatcher =
    notify.sinks.length > 0
      ? new NotifyDispatcher({
          store,
          sinks: notify.sinks.map((s) => createSink(s)),
          logger,
          maxAgeMs: notify.maxAgeMs,
          pollIntervalMs: notify.pollIntervalMs,
          active: maintains,
          ...(options.registry ? { registry: options.registry } : {}),
        })
      : undefined;
  dispatcher?.start();
  if (dispatcher) log.info({ sinks: notify.sinks.map((s) => `${s.name} (${s.type})`) }, 'alert forwarding on');
  try {
    if (maintains()) await prune();
    timer = setInterval(() => {
      if (!maintains()) return;
      prune().catch((err: unknown) => log.warn({ error: (err as Error).message }, 'alert retention failed; will try again'));
    }, intervalMs);
    timer.unref();

    if (settings.api.enabled) {
      if (settings.api.auth === 'kubernetes') {
        if (!options.kubeConfig && !settings.api.kubeconfig && !kubeconfigSource())
          throw new Error(
            'api.auth: kubernetes needs a cluster to ask (TokenReview, SubjectAccessReview), and there is none: set api.kubeconfig, KUBECONFIG or ~/.kube/config, run inside a cluster, or use api.auth: tokens with api.tokenFile',
          );
        access = await KubernetesAccess.create(log, {
          cacheTtlMs: settings.api.cacheTtlMs,
          audiences: settings.api.audiences,
          ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
          ...(settings.api.kubeconfig ? { kubeconfigFile: settings.api.kubeconfig } : {}),
        });
      } else {
        access = new TokenFileAccess(settings.api.tokenFile!, settings.api.roles, log);
      }
      api = await startAlertsApi({
        store,
        access,
        logger: log,
        pipelineStatus: () => pipeline.status(),
        ...(options.posture ? { posture: options.posture } : {}),
        notifySinks: notify.sinks.map((s) => ({ name: s.name, type: s.type })),
        port: options.apiPort ?? settings.api.port,
        ...(settings.api.address ? { address: settings.api.address } : {}),
        tls: apiTlsFiles(config, settings.api, options.devCertDir),
      });
      log.info({ url: api.url, auth: settings.api.auth }, 'alerts api listening');
    }
  } catch (err) {
    if (timer) clearInterval(timer);
    await dispatcher?.close();
    await pipeline.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }

  let closed = false;
  return {
    pipeline,
    store,
    ...(api ? { api } : {}),
    ...(api && access ? { readiness: () => access!.readiness?.() ?? { ready: true } } : {}),
    settings,
    prune,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await api?.close();
      await pipeline.close();
      await dispatcher?.close();
      await store.close();
    },
  };
}

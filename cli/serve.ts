// `bulwark serve`: the admission webhook over HTTPS. Options on the command line win over the
// config file's `server:` section, which wins over the defaults.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type express from 'express';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import type { AlertsService } from '../alerts/service.js';
import type { AuditAnalyser } from '../audit/analyser.js';
import { auditSettingsOf } from '../audit/config.js';
import type { AlertSink } from '../alerts/model.js';
import { compileConfig, type CompiledConfig } from '../policies/config.js';
import { type BulwarkConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_BODY_LIMIT } from '../webhook/body.js';
import type { NamespaceModes } from '../webhook/decide.js';
import { mutationsOf } from '../webhook/mutate.js';
import type { InformerNamespaceModes } from '../webhook/namespaces.js';
import { SERVE_DEFAULT_ADDRESS, DEFAULT_PORT, DEFAULT_SERVER_NAMESPACE, DEFAULT_SHUTDOWN_GRACE_MS } from '../webhook/defaults.js';
import { loadConfigFile, parseSection } from '../config/load.js';
import type { SectionInput } from '../config/schema.js';
import { projectRoot } from '../core/paths.js';
import os from 'node:os';
import type { BackgroundScanner, BackgroundSettings } from '../background/scanner.js';
import { loadKubeConfig } from '../background/kube.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_INTERVAL_MS, LEASE_NAME, LeaseElector, MAINTENANCE_LEASE_NAME } from '../background/lease.js';
import type { ClusterSource } from '../webhook/namespaces.js';
import { storeKind } from '../config/store-url.js';
import { describe } from '../core/command-descriptions.js';

export interface ServeCliOptions {
  config?: string;
  port?: number;
  address?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  kubeconfig?: string;
  metricsPort?: number;
  /** false with --no-kube. */
  kube?: boolean;
  logFormat?: 'json' | 'pretty';
}

export interface ServerSettings {
  port: number;
  address: string;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  clientCA?: string | undefined;
  namespace: string;
  bodyLimit: number;
  shutdownGraceMs: number;
  shutdownDelayMs: number;
  certPollIntervalMs: number;
  configPollIntervalMs: number;
  /** A dedicated HTTPS listener for GET /metrics (a NetworkPolicy can restrict it); undefined: none. */
  metricsPort: number | undefined;
  /** Whether the webhook port answers GET /metrics too (default true, as the contract says). */
  metricsOnWebhookPort: boolean;
}

/** The `server:` section (validated by the one schema) merged with the command line and POD_NAMESPACE; throws a ConfigError naming every bad key. */
export function resolveServerSettings(
  raw: SectionInput<'server'> | Record<string, unknown>,
  cli: ServeCliOptions,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
): ServerSettings {
  const server = parseSection('server', raw, source);
  const errors: string[] = [];
  const settings: ServerSettings = {
    port: cli.port ?? server.port ?? DEFAULT_PORT,
    // The quick start listens on loopback only; the chart and --address choose otherwise.
    address: cli.address ?? server.address ?? SERVE_DEFAULT_ADDRESS,
    tlsCert: cli.tlsCert ?? server.tlsCert ?? undefined,
    tlsKey: cli.tlsKey ?? server.tlsKey ?? undefined,
    clientCA: cli.clientCa ?? server.clientCA ?? undefined,
    namespace: env.POD_NAMESPACE || server.namespace || DEFAULT_SERVER_NAMESPACE,
    bodyLimit: server.bodyLimit ?? DEFAULT_BODY_LIMIT,
    shutdownGraceMs: server.shutdownGrace ?? DEFAULT_SHUTDOWN_GRACE_MS,
    shutdownDelayMs: server.shutdownDelay ?? 0,
    certPollIntervalMs: server.certPollInterval ?? 10_000,
    configPollIntervalMs: server.configPollInterval ?? 10_000,
    metricsPort: cli.metricsPort ?? server.metricsPort ?? undefined,
    metricsOnWebhookPort: server.metricsOnWebhookPort ?? true,
  };
  if (!settings.metricsOnWebhookPort && settings.metricsPort === undefined) {
    errors.push(`${source}: server.metricsOnWebhookPort: false needs server.metricsPort (or --metrics-port): otherwise nothing serves /metrics`);
  }
  if (!!settings.tlsCert !== !!settings.tlsKey) {
    errors.push(
      `${source}: the TLS certificate and key go together: give both --tls-cert and --tls-key (or server.tlsCert and server.tlsKey), or neither for the development certificate`,
    );
  }
  if (errors.length) throw new ConfigError(errors.join('\n'));
  return settings;
}

// ---- extensions: other modules add routes (POST /audit) and alert sinks (the store) here ----

export interface ServeContext {
  config: BulwarkConfig;
  compiled: CompiledConfig;
  logger: Logger;
  /** The webhook's metrics registry, for the extension's own metrics. */
  registry: Registry;
}

export interface ServeParts {
  /** Mounted on the webhook app before its 404 fallback; bring your own body parser and limit. */
  routes?: (app: express.Express) => void;
  /** Added to the alert sinks (the log sink is always there). */
  sinks?: AlertSink[];
  /** Called on shutdown, after the server drained. */
  close?: () => Promise<void> | void;
}

export interface ServeExtension {
  name: string;
  setup(ctx: ServeContext): Promise<ServeParts | void> | ServeParts | void;
}

const extensions: ServeExtension[] = [];

/** Registers an extension of `bulwark serve` (call at import time, before the command runs). */
export function registerServeExtension(extension: ServeExtension): void {
  extensions.push(extension);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(describe('serve'))
    .option('-c, --config <file>', 'configuration file (YAML)')
    .option('-p, --port <n>', `port to listen on (default ${DEFAULT_PORT}; 0: any free port)`, parsePort)
    .option('--address <addr>', `address to bind (default ${SERVE_DEFAULT_ADDRESS}, loopback only; 0.0.0.0 for every IPv4 interface, :: for every interface)`)
    .option('--tls-cert <file>', 'serving certificate (PEM); without it a development certificate is made under certs/dev/')
    .option('--tls-key <file>', 'private key of the serving certificate (PEM)')
    .option('--client-ca <file>', "require a client certificate signed by this CA (the API server's, mTLS)")
    .option('--metrics-port <n>', 'also serve GET /metrics on this HTTPS port (server.metricsPort), e.g. for a NetworkPolicy that restricts it', parsePort)
    .option('--kubeconfig <file>', 'kubeconfig for reading namespace labels (default: $KUBECONFIG, then in-cluster)')
    .option('--no-kube', 'do not read namespace labels from a cluster: config alone decides')
    .addOption(
      new Option('--log-format <format>', 'log lines as JSON (pino) or for people (pretty); default pretty on a terminal, json otherwise').choices([
        'json',
        'pretty',
      ]),
    )
    .action(async (opts: ServeCliOptions) => {
      process.exitCode = await runServe(opts);
    });
}

/** Runs the server until SIGTERM or SIGINT; resolves to the exit code. */
export async function runServe(opts: ServeCliOptions): Promise<number> {
  // Loaded here, not at the top: express, pino, prom-client, the stores, the Kubernetes client and
  // the certificate library are for `serve` only; every other command starts without them.
  const [
    { asyncStderr, createLogger, flushDestination, prettyDestination },
    { startAlertsService },
    { AuditAnalyser },
    { mountAuditRoute },
    { ensureDevCertificates },
    { createWebhookMetrics },
    { detectCluster, startNamespaceInformer },
    { startWebhookServer },
    { ReviewOffload },
  ] = await Promise.all([
    import('../core/log.js'),
    import('../alerts/service.js'),
    import('../audit/analyser.js'),
    import('../audit/webhook.js'),
    import('../certs/x509.js'),
    import('../webhook/metrics.js'),
    import('../webhook/namespaces.js'),
    import('../webhook/server.js'),
    import('../webhook/offload.js'),
  ]);
  const { BackgroundScanner, backgroundSettingsOf } = await import('../background/scanner.js');
  const { ConfigReloader } = await import('./config-reload.js');
  const { BaselineSync } = await import('../audit/anomaly.js');
  const { registerAnomalyMetrics } = await import('../audit/anomaly-metrics.js');
  // Asynchronous stderr: a review that is logged does not wait for the write (flushed on exit).
  // JSON lines by default; a person at a terminal (or --log-format pretty) reads them formatted.
  const pretty = opts.logFormat === 'pretty' || (opts.logFormat === undefined && process.stderr.isTTY === true);
  const stderr = pretty ? prettyDestination() : asyncStderr();
  const logger = createLogger({}, stderr);
  let config: BulwarkConfig;
  let settings: ServerSettings;
  let compiled: CompiledConfig;
  try {
    config = loadConfigFile(opts.config);
    settings = resolveServerSettings(config.server, opts, process.env, opts.config ?? 'config');
    compiled = compileConfig(config);
    mutationsOf(compiled); // validates mutationDefaults now rather than on the first /mutate
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bulwark: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let tlsCert = settings.tlsCert;
  let tlsKey = settings.tlsKey;
  if (!tlsCert || !tlsKey) {
    const dir = path.join(projectRoot(), 'certs', 'dev');
    const dev = ensureDevCertificates(dir);
    tlsCert = dev.certFile;
    tlsKey = dev.keyFile;
    logger.info(
      { certFile: dev.certFile, caFile: dev.caFile, created: dev.created },
      `no --tls-cert given: ${dev.created ? 'created' : 'using'} the development certificate for localhost (trust ${dev.caFile})`,
    );
  }

  let informer: InformerNamespaceModes | undefined;
  let namespaceModes: NamespaceModes | undefined;
  if (opts.kube === false) {
    logger.info('--no-kube: namespace labels (bulwark.io/mode) are not read; config alone decides');
  } else {
    const cluster = detectCluster(opts.kubeconfig);
    if (!cluster) {
      logger.info(
        'no cluster configured (no --kubeconfig, $KUBECONFIG or in-cluster service account): namespace labels (bulwark.io/mode) are not read; config alone decides',
      );
    } else {
      try {
        informer = await startNamespaceInformer(cluster, logger);
        namespaceModes = informer;
        logger.info({ source: cluster.kind }, 'reading namespace modes (bulwark.io/mode) through a namespace informer');
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'cannot read namespace labels: config alone decides');
      }
    }
  }

  const metrics = createWebhookMetrics();
  // The cluster alerts name: cluster.name, else the kube-system namespace's uid once the informer saw it.
  const clusterName = (): string | undefined => (typeof config.cluster?.name === 'string' ? config.cluster.name : informer?.kubeSystemUid);
  // The policy config in use: a config reload (cli/config-reload.ts) replaces `current`.
  const live = { current: compiled };
  let background: BackgroundScanner | undefined;
  let backgroundSettings: BackgroundSettings;
  try {
    backgroundSettings = backgroundSettingsOf(config, opts.config ?? 'config');
  } catch (err) {
    process.stderr.write(`bulwark: ${(err as Error).message}\n`);
    await informer?.stop();
    return 2;
  }
  // One alert pipeline for admission and audit: the pino alert line and the store (and the
  // alerts API on its own listener when configured). The API shares the webhook's certificate.
  // This replica's name in the Leases (the pod name in the chart).
  const identity = process.env.POD_NAME || os.hostname();
  const kubeConfigOf = (cluster: ClusterSource) => (cluster.kind === 'kubeconfig' ? loadKubeConfig({ kubeconfig: cluster.file }) : loadKubeConfig({}));
  // On a store the replicas share, retention and notification delivery run on the holder of the
  // Lease bulwark-maintenance; the store's own guards (advisory lock, outbox claims) stay underneath.
  const storeUrl = process.env.BULWARK_STORE_URL ?? config.store?.url;
  const cluster = opts.kube === false ? undefined : detectCluster(opts.kubeconfig);
  const maintenance =
    cluster && isSharedStore(storeUrl)
      ? await maintenanceLease(await kubeConfigOf(cluster).catch(() => undefined), settings.namespace, identity, logger)
      : undefined;
  let alerts: AlertsService;
  let analyser: AuditAnalyser;
  try {
    analyser = new AuditAnalyser({ config, settings: auditSettingsOf(config, opts.config ?? 'config'), serverNamespace: settings.namespace });
    // BULWARK_STORE_URL (e.g. from a Secret) keeps database credentials out of the ConfigMap.
    const store = process.env.BULWARK_STORE_URL ? { ...config.store, url: process.env.BULWARK_STORE_URL } : config.store;
    alerts = await startAlertsService({ ...config, store, server: { ...config.server, tlsCert, tlsKey } }, logger, {
      registry: metrics.registry,
      devCertDir: path.join(projectRoot(), 'certs', 'dev'),
      ...(opts.config ? { configSource: opts.config } : {}),
      // The scan starts after the store opens; the console asks it once it runs.
      posture: { posture: () => background?.posture(), enabled: () => background !== undefined },
      // Without cluster.name, alerts name their cluster by the kube-system namespace's uid.
      defaultCluster: () => informer?.kubeSystemUid,
      // The Lease holder maintains; a Lease that cannot be read for longer than it lasts (no API
      // server, no RBAC) leaves it to every replica, kept apart by the store's locks.
      ...(maintenance ? { maintains: () => maintenance.leadsOrUnreachable() } : {}),
    });
  } catch (err) {
    const message = (err as Error).message;
    // A setting that cannot work names its key and the file it came from.
    const why =
      err instanceof ConfigError ? message : /^api\./.test(message) ? `${opts.config ?? 'config'}: ${message}` : `cannot start the alert store: ${message}`;
    process.stderr.write(`bulwark: ${why}\n`);
    await maintenance?.stop();
    await informer?.stop();
    return 2;
  }
  const sinks: AlertSink[] = [alerts.pipeline];
  // Who may feed the pipeline: a bearer token for /audit (audit.webhookTokenFile) and/or the API
  // server's client certificate (--client-ca). Without either, alerts are marked verified: false.
  let auditToken: string | undefined;
  const tokenFile = (config.audit as { webhookTokenFile?: string } | undefined)?.webhookTokenFile;
  if (tokenFile) {
    const file = path.resolve(opts.config ? path.dirname(opts.config) : '.', tokenFile);
    try {
      auditToken = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      process.stderr.write(
        `bulwark: ${opts.config ?? 'config'}: audit.webhookTokenFile: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`,
      );
      await alerts.close();
      await informer?.stop();
      return 2;
    }
    if (auditToken.length < 16 || /\s/.test(auditToken)) {
      process.stderr.write(`bulwark: ${opts.config ?? 'config'}: audit.webhookTokenFile: ${file} must hold one token of at least 16 characters, no spaces\n`);
      await alerts.close();
      await informer?.stop();
      return 2;
    }
  }
  if (!settings.clientCA && auditToken === undefined) {
    logger.warn(
      'no client CA and no audit.webhookTokenFile: anyone who can reach this port can post reviews and audit batches; their alerts are marked verified: false',
    );
  }
  const routes: ((app: express.Express) => void)[] = [
    (app) =>
      mountAuditRoute(app, {
        analyser,
        sink: alerts.pipeline,
        logger,
        ...(auditToken ? { token: auditToken } : {}),
        unverified: !settings.clientCA && auditToken === undefined,
        backlogged: () => alerts.pipeline.backlogged(),
      }),
  ];
  // The maintenance Lease is released last, once this replica's store work has stopped.
  const closers: (() => Promise<void> | void)[] = [() => alerts.close(), () => maintenance?.stop()];
  // The service-account baseline lives in the store: loaded before the first audit batch, written
  // and re-read every anomaly.syncInterval, and written once more before the store closes.
  if (analyser.anomaly) {
    const baselineSync = new BaselineSync(analyser.anomaly, alerts.store, logger.child({ component: 'anomaly' }));
    try {
      await baselineSync.start();
    } catch (err) {
      logger.warn(
        { error: (err as Error).message },
        'could not read the service-account baseline from the store; accounts learn again until the next sync reads it',
      );
    }
    registerAnomalyMetrics(metrics.registry, analyser.anomaly);
    closers.unshift(() => baselineSync.close());
  }
  for (const ext of extensions) {
    const parts = await ext.setup({ config, compiled, logger, registry: metrics.registry });
    if (!parts) continue;
    if (parts.routes) routes.push(parts.routes);
    if (parts.sinks) sinks.push(...parts.sinks);
    if (parts.close) closers.push(parts.close);
  }

  // The background scan starts once the alert store is open: its alerts go through the same pipeline.
  if (backgroundSettings.enabled) {
    if (!cluster) {
      logger.warn(
        'backgroundScan.enabled but no cluster (no --kubeconfig, $KUBECONFIG or in-cluster service account, or --no-kube): the background scan is off',
      );
    } else {
      try {
        const kc = await kubeConfigOf(cluster);
        background = new BackgroundScanner({
          kc,
          compiled: () => live.current,
          settings: backgroundSettings,
          logger,
          registry: metrics.registry,
          namespace: settings.namespace,
          identity,
          // What already runs raises the alerts admission would (source background), once per object.
          alerts: { sink: alerts.pipeline, store: alerts.store },
          // The name the pipeline puts on alerts (null: the kube-system uid is not known yet).
          cluster: () => clusterName() ?? (informer && !informer.synced ? null : undefined),
        });
        await background.start();
        logger.info(
          { resyncSeconds: backgroundSettings.resyncMs / 1000, debounceSeconds: backgroundSettings.debounceMs / 1000 },
          'background scan started (PolicyReports written by the Lease holder)',
        );
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'cannot start the background scan; admission is unaffected');
        background = undefined;
      }
    }
  }
  // Which Leases this replica holds: across the replicas, the sum per lease should be 1 — 0 for
  // long means nobody maintains (or someone else holds the Lease: alert on it).
  if (maintenance || background) {
    const { Gauge } = await import('prom-client');
    new Gauge({
      name: 'bulwark_lease_held',
      help: 'Whether this replica holds the Lease (1) or not (0), by Lease name: bulwark-maintenance (retention, notification delivery) and bulwark-background-scan.',
      labelNames: ['lease'] as const,
      registers: [metrics.registry],
      collect() {
        if (maintenance) this.set({ lease: MAINTENANCE_LEASE_NAME }, maintenance.isLeader ? 1 : 0);
        if (background) this.set({ lease: LEASE_NAME }, background.isLeader ? 1 : 0);
      },
    });
  }
  // Large reviews are judged on a worker thread (webhook/offload.ts), so one never stalls the others.
  const offload = new ReviewOffload({ logger });
  let handle;
  try {
    handle = await startWebhookServer({
      offload,
      compiled,
      policies: live,
      logger,
      sinks,
      unverifiedAlerts: !settings.clientCA,
      metrics,
      ...(namespaceModes ? { namespaceModes } : {}),
      ...(background ? { namespaceDryRun: (ns: string) => background!.podsDeniedUnderEnforce(ns) } : {}),
      serverNamespace: settings.namespace,
      bodyLimit: settings.bodyLimit,
      extraRoutes: (app) => routes.forEach((r) => r(app)),
      port: settings.port,
      address: settings.address,
      metricsOnWebhookPort: settings.metricsOnWebhookPort,
      ...(settings.metricsPort !== undefined ? { metricsPort: settings.metricsPort } : {}),
      ...(alerts.readiness ? { components: () => ({ alertsApi: alerts.readiness!() }) } : {}),
      tls: { certFile: tlsCert, keyFile: tlsKey, clientCAFile: settings.clientCA },
      certPollIntervalMs: settings.certPollIntervalMs,
      shutdownGraceMs: settings.shutdownGraceMs,
      shutdownDelayMs: settings.shutdownDelayMs,
    });
  } catch (err) {
    process.stderr.write(`bulwark: cannot serve: ${(err as Error).message}\n`);
    await offload.close();
    await background?.stop();
    await informer?.stop();
    return 2;
  }
  const hostForUrl = settings.address.includes(':') ? `[${settings.address}]` : settings.address;
  logger.info(
    {
      port: handle.port,
      address: settings.address,
      profiles: config.profiles,
      checks: compiled.checks.length,
      defaultAction: config.defaultAction,
      onError: config.onError,
      mtls: !!settings.clientCA,
      namespace: settings.namespace,
    },
    `listening on https://${hostForUrl}:${handle.port}${handle.metricsPort !== undefined ? ` (metrics on port ${handle.metricsPort})` : ''}`,
  );

  const reloader = opts.config
    ? new ConfigReloader({
        file: opts.config,
        intervalMs: settings.configPollIntervalMs,
        logger,
        registry: metrics.registry,
        running: config,
        apply: (_next, nextCompiled) => {
          live.current = nextCompiled;
          background?.schedule();
        },
      })
    : undefined;
  reloader?.start();

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal, graceMs: settings.shutdownGraceMs }, `${signal}: draining (readyz 503, no new connections, finishing in-flight reviews)`);
  const again = () => {
    logger.warn('second signal: closing every connection now');
    handle.server.closeAllConnections();
  };
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  reloader?.stop();
  const { forced } = await handle.close();
  await offload.close();
  // The scan stops before the store closes: an evaluation in flight may still be recording alerts.
  await background?.stop();
  for (const c of closers) {
    try {
      await c();
    } catch (err) {
      logger.error({ err }, 'extension failed to close');
    }
  }
  await informer?.stop();
  logger.info({ forced }, 'stopped');
  await flushDestination(stderr);
  // Nothing should keep the process alive now; if a library left a handle open, do not hang on it.
  // (process.exit still flushes any line logged after this point: pino's exit hook.)
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

/** Whether the store URL names a store the replicas share (PostgreSQL); a bad URL is reported when the store opens. */
function isSharedStore(url: unknown): boolean {
  try {
    return typeof url === 'string' && storeKind(url) === 'postgres';
  } catch {
    return false;
  }
}

/**
 * Starts the elector of the Lease `bulwark-maintenance` (undefined without a usable kubeconfig).
 * Its errors are logged when they change, not every renew period.
 */
async function maintenanceLease(kc: Awaited<ReturnType<typeof loadKubeConfig>> | undefined, namespace: string, identity: string, logger: Logger) {
  if (!kc) {
    logger.warn('cannot load the cluster credentials for the maintenance Lease: every replica runs retention and delivery, kept apart by the store');
    return undefined;
  }
  let lastError = '';
  const elector: LeaseElector = new LeaseElector({
    kc,
    namespace,
    name: MAINTENANCE_LEASE_NAME,
    identity,
    leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
    renewIntervalMs: DEFAULT_RENEW_INTERVAL_MS,
    onChange: (leader) => {
      if (leader) lastError = '';
      logger.info(
        { identity, lease: `${namespace}/${MAINTENANCE_LEASE_NAME}` },
        leader ? 'holding the maintenance Lease: alert retention and notification delivery run on this replica' : 'no longer holding the maintenance Lease',
      );
    },
    onError: (err) => {
      const message = (err as Error).message;
      if (message === lastError) return;
      lastError = message;
      logger.warn(
        { err: message, lease: `${namespace}/${MAINTENANCE_LEASE_NAME}` },
        'cannot hold the maintenance Lease; if this lasts longer than the Lease, every replica runs retention and delivery (kept apart by the store)',
      );
    },
  });
  elector.start();
  return elector;
}

// The one alert pipeline for admission and audit: every alert is written as a pino line (the
// copy that cannot fail) and upserted into the store. When the store fails, alerts wait in a
// bounded in-memory queue — merged there by fingerprint, as the store would merge them — and are
// retried with exponential backoff; failures are logged, counted and visible through status().
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../core/log.js';
import { LogAlertSink } from './log.js';
import { fingerprintOf, type Alert, type AlertSink } from './model.js';
import { DEFAULT_DEDUP_WINDOW_MS, mergeAlerts, mergesInto, normaliseAlert, type AlertStore } from './store.js';
import { boundAlert } from './bound.js';
import { DEFAULT_FLOOD_LIMIT_PER_MINUTE, FloodGuard, floodAlert } from './flood.js';

export interface AlertPipelineOptions {
  store: AlertStore;
  logger: Logger;
  /** Metrics go here (the process's registry, served on /metrics). */
  registry?: Registry;
  dedupWindowMs?: number;
  /** Alerts kept in memory while the store is failing (default 10000). */
  maxQueue?: number;
  /** First retry delay (default 250 ms), doubled up to retryMaxMs (default 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** The log sink; default a LogAlertSink on `logger`. */
  logSink?: AlertSink;
  /** Alerts of one (source, type, user) stored per minute before the rest become one alert-flood alert (default 600; undefined in options means the default, null: no limit). */
  floodLimitPerMinute?: number | null;
  /** The notification sinks that want an alert (alerts/notify.ts): queued in the outbox with it when it is new. */
  notify?: (alert: Alert) => string[];
  /**
   * `cluster.name`: put on every alert that does not name its cluster (and in its fingerprint). A
   * function is asked per alert (serve's default, the kube-system namespace's uid, is known once
   * the namespace informer has seen it).
   */
  cluster?: string | (() => string | undefined);
}

/**
 * Whether a store error will fail the same way however often it is retried (the alert itself is
 * the problem: a value the database refuses), as opposed to a store that is down, busy or full.
 * Permanent errors are dead-lettered, so one bad alert never blocks the ones queued behind it.
 */
export function isPermanentStoreError(err: unknown): boolean {
  if (err instanceof TypeError || err instanceof RangeError) return true; // JSON: cycles, BigInt, too long
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  // PostgreSQL SQLSTATE classes: 22 data exception, 23 integrity, 42 syntax or access rule, 54 program limit.
  if (/^(22|23|42|54)[0-9A-Z]{3}$/.test(code)) return true;
  return /^SQLITE_(TOOBIG|MISMATCH|RANGE|CONSTRAINT)/.test(code);
}

export interface PipelineStatus {
  /** Alerts waiting for the store. */
  queued: number;
  /** Alerts given up on since start (queue overflow); each is still in the log. */
  dropped: number;
  /** Alerts the store refused for good (a permanent error); each is in the log. */
  deadLettered: number;
  /** Alerts held back by flood control and counted into alert-flood alerts. */
  heldBack: number;
  storeFailures: number;
  /** The last store error while the store is failing; undefined once a write succeeds. */
  lastError: string | undefined;
}

interface Metrics {
  recorded: Counter<'source'>;
  stored: Counter;
  failures: Counter;
  dropped: Counter;
  deadLettered: Counter<'type'>;
  heldBack: Counter<'source' | 'type'>;
  queued: Gauge;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

function metricsIn(registry: Registry): Metrics {
  const registers = [registry];
  return {
    recorded: metric(
      registry,
      'bulwark_alerts_total',
      () => new Counter({ name: 'bulwark_alerts_total', help: 'Alerts raised, by source (admission or audit).', labelNames: ['source'] as const, registers }),
    ),
    stored: metric(
      registry,
      'bulwark_alert_store_writes_total',
      () => new Counter({ name: 'bulwark_alert_store_writes_total', help: 'Alerts written to the alert store.', registers }),
    ),
    failures: metric(
      registry,
      'bulwark_alert_store_failures_total',
      () => new Counter({ name: 'bulwark_alert_store_failures_total', help: 'Failed writes to the alert store (each is retried).', registers }),
    ),
    dropped: metric(
      registry,
      'bulwark_alerts_dropped_total',
      () =>
        new Counter({
          name: 'bulwark_alerts_dropped_total',
          help: 'Alerts that never reached the store because the retry queue was full (they are in the log).',
          registers,
        }),
    ),
    deadLettered: metric(
      registry,
      'bulwark_alerts_dead_lettered_total',
      () =>
        new Counter({
          name: 'bulwark_alerts_dead_lettered_total',
          help: 'Alerts the store refused with a permanent error: not retried (they are in the log).',
          labelNames: ['type'] as const,
          registers,
        }),
    ),
    heldBack: metric(
      registry,
      'bulwark_alerts_held_back_total',
      () =>
        new Counter({
          name: 'bulwark_alerts_held_back_total',
          help: 'Alerts over store.floodLimit for their source, type and user, counted into an alert-flood alert instead of stored (they are in the log).',
          labelNames: ['source', 'type'] as const,
          registers,
        }),
    ),
    queued: metric(
      registry,
      'bulwark_alert_store_queue',
      () => new Gauge({ name: 'bulwark_alert_store_queue', help: 'Alerts waiting in memory for the alert store.', registers }),
    ),
  };
}

export class AlertPipeline implements AlertSink {
  readonly registry: Registry;
  private readonly store: AlertStore;
  private readonly logger: Logger;
  private readonly logSink: AlertSink;
  private readonly windowMs: number;
  private readonly maxQueue: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly metrics: Metrics;
  private readonly queue: Alert[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private draining: Promise<void> | undefined;
  private closed = false;
  private dropped = 0;
  private deadLettered = 0;
  private heldBack = 0;
  private readonly flood: FloodGuard;
  private readonly floodLimit: number | undefined;
  private failures = 0;
  private lastError: string | undefined;

  constructor(options: AlertPipelineOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.logSink = options.logSink ?? new LogAlertSink(options.logger);
    this.windowMs = options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.delayMs = this.retryBaseMs;
    this.registry = options.registry ?? new Registry();
    this.metrics = metricsIn(this.registry);
    this.floodLimit = options.floodLimitPerMinute === null ? undefined : (options.floodLimitPerMinute ?? DEFAULT_FLOOD_LIMIT_PER_MINUTE);
    this.flood = new FloodGuard(this.floodLimit);
    this.notify = options.notify;
    const cluster = options.cluster;
    this.cluster = typeof cluster === 'string' ? () => cluster : cluster;
  }

  private readonly notify: ((alert: Alert) => string[]) | undefined;
  private readonly cluster: (() => string | undefined) | undefined;

  /**
   * Logs the alert and stores it. Resolves once the alert is in the store, or — when the store
   * is failing — once it is queued for retry (the log line is then its durable copy). Never rejects.
   */
  async record(input: Alert): Promise<void> {
    const alert = await this.admit(input);
    if (alert) await this.store1(alert);
  }

  /**
   * record() for several alerts, stored in one transaction (an audit batch's alerts: one commit,
   * not one per alert). A value the store refuses for good sends the batch through one at a
   * time, so that only that alert is dead-lettered. Never rejects.
   */
  async recordMany(inputs: readonly Alert[]): Promise<void> {
    const batch: Alert[] = [];
    for (const input of inputs) {
      const alert = await this.admit(input);
      if (alert) batch.push(alert);
    }
    if (batch.length === 0) return;
    if (batch.length === 1 || this.queue.length > 0 || this.draining) {
      for (const alert of batch) await this.store1(alert);
      return;
    }
    try {
      await this.store.upsertMany(batch, this.windowMs, this.notify);
      this.metrics.stored.inc(batch.length);
      this.lastError = undefined;
    } catch (err) {
      if (isPermanentStoreError(err)) {
        for (const alert of batch) await this.store1(alert);
        return;
      }
      this.failed(err);
      for (const alert of batch) this.enqueue(alert);
    }
  }

  /** The alert as it will be stored (bounded, its cluster named, maybe an alert-flood alert instead), once logged; undefined once closed. */
  private async admit(input: Alert): Promise<Alert | undefined> {
    // Bounded and JSON-safe from here on: nothing downstream meets a cycle, a BigInt or 40,000 findings.
    const bounded = boundAlert(input);
    const cluster = bounded.cluster ? undefined : this.cluster?.();
    if (cluster) {
      bounded.cluster = cluster;
      bounded.fingerprint = fingerprintOf(bounded);
    }
    const alert = normaliseAlert(bounded);
    try {
      await this.logSink.record(alert);
    } catch (err) {
      this.logger.error({ err, alertId: alert.id }, 'could not write the alert log line');
    }
    this.metrics.recorded.inc({ source: alert.source });
    if (this.closed) {
      this.logger.error({ alertId: alert.id }, 'alert pipeline is closed: the alert is only in the log');
      this.drop(1);
      return undefined;
    }
    return this.flood.admit(alert) ? alert : this.holdBack(alert);
  }

  /** Stores one admitted alert, or queues it behind those waiting / while the store fails. */
  private async store1(toStore: Alert): Promise<void> {
    // Keep order behind alerts already waiting, and do not hammer a store that is failing.
    if (this.queue.length > 0 || this.draining) {
      this.enqueue(toStore);
      return;
    }
    try {
      await this.store.upsert(toStore, this.windowMs, this.notify?.(toStore));
      this.metrics.stored.inc();
      this.lastError = undefined;
    } catch (err) {
      if (isPermanentStoreError(err)) {
        this.deadLetter(toStore, err);
        return;
      }
      this.failed(err);
      this.enqueue(toStore);
    }
  }

  /** The alert-flood alert that counts `alert` instead of storing it. */
  private holdBack(alert: Alert): Alert {
    this.heldBack++;
    this.metrics.heldBack.inc({ source: alert.source, type: alert.type });
    return floodAlert(alert, this.floodLimit!);
  }

  /** Given up for good: logged once (the alert is in the log already), counted, never retried. */
  private deadLetter(alert: Alert, err: unknown): void {
    this.deadLettered++;
    this.metrics.deadLettered.inc({ type: alert.type });
    this.logger.error(
      { alertId: alert.id, type: alert.type, error: err instanceof Error ? err.message.slice(0, 512) : String(err).slice(0, 512) },
      'the alert store refused this alert for good (dead-lettered, not retried; the alert is in the log)',
    );
  }

  /**
   * Whether the store is behind: half the in-memory queue is full. Producers that can be asked to
   * send again later (the API server's audit webhook backend) should be, before the queue's bound
   * makes the pipeline drop alerts.
   */
  backlogged(): boolean {
    return this.queue.length >= this.maxQueue / 2;
  }

  status(): PipelineStatus {
    return {
      queued: this.queue.length,
      dropped: this.dropped,
      deadLettered: this.deadLettered,
      heldBack: this.heldBack,
      storeFailures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Tries to empty the queue now; resolves when the queue is empty or a write failed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.drain();
  }

  /** Stops retrying after one last attempt to store what is queued (the store stays open: its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) {
      this.logger.error(
        { queued: this.queue.length, alertIds: this.queue.map((a) => a.id) },
        'alert pipeline closed with alerts the store never took: they are only in the log',
      );
      this.drop(this.queue.length);
      this.queue.length = 0;
      this.metrics.queued.set(0);
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    this.metrics.failures.inc();
    const message = err instanceof Error ? err.message : String(err);
    if (this.lastError === undefined) {
      this.logger.error({ err, store: this.store.description }, 'alert store write failed: alerts are queued in memory and retried');
    } else {
      this.logger.warn({ error: message, queued: this.queue.length, retryInMs: this.delayMs }, 'alert store write failed again');
    }
    this.lastError = message;
  }

  private enqueue(alert: Alert): void {
    // Never merge into the head while a drain is writing it: that write has already taken its copy.
    let same: Alert | undefined;
    for (let i = this.queue.length - 1; i >= (this.draining ? 1 : 0); i--) {
      if (mergesInto(this.queue[i]!, alert, this.windowMs)) {
        same = this.queue[i];
        break;
      }
    }
    if (same) {
      Object.assign(same, mergeAlerts(same, alert));
    } else {
      if (this.queue.length >= this.maxQueue) {
        const oldest = this.queue.shift()!;
        this.logger.error(
          { alertId: oldest.id, maxQueue: this.maxQueue },
          'alert store retry queue is full: dropped the oldest queued alert (it is in the log)',
        );
        this.drop(1);
      }
      this.queue.push(alert);
    }
    this.metrics.queued.set(this.queue.length);
    this.schedule();
  }

  private drop(n: number): void {
    this.dropped += n;
    this.metrics.dropped.inc(n);
  }

  private schedule(): void {
    if (this.timer || this.draining || this.closed) return;
    const jitter = 0.8 + Math.random() * 0.4;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.drain();
      },
      Math.round(this.delayMs * jitter),
    );
    this.timer.unref();
  }

  private drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          try {
            await this.store.upsert(next, this.windowMs, this.notify?.(next));
          } catch (err) {
            if (isPermanentStoreError(err)) {
              // This alert will never go in: set it aside and carry on with the ones behind it.
              this.queue.shift();
              this.metrics.queued.set(this.queue.length);
              this.deadLetter(next, err);
              continue;
            }
            this.failed(err);
            this.delayMs = Math.min(this.delayMs * 2, this.retryMaxMs);
            return;
          }
          this.queue.shift();
          this.metrics.stored.inc();
          this.metrics.queued.set(this.queue.length);
          if (this.lastError !== undefined) this.logger.info({ store: this.store.description, queued: this.queue.length }, 'alert store writes succeed again');
          this.lastError = undefined;
          this.delayMs = this.retryBaseMs;
        }
      } finally {
        this.draining = undefined;
        if (this.queue.length > 0) this.schedule();
      }
    })();
    return this.draining;
  }
}

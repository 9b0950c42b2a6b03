// Alert forwarding (`notify:` in the config): new alerts reach the tools a security team already
// watches — a generic webhook (the alert as JSON, HMAC-SHA256 signed), a Slack-compatible incoming
// webhook, syslog over TLS (RFC 5424 with RFC 6587 octet counting, for SIEMs) and JSON lines on
// stdout or in a file (for log shippers).
//
// Nothing lost: the store queues a delivery per matching sink in the same transaction that stores a
// new alert (the outbox); this dispatcher claims due deliveries with a lease, sends them, and on
// failure retries with exponential back-off (1 s doubling to 5 min), across restarts, until
// `notify.maxAge`. At-least-once: a receiver deduplicates on the alert ID, which every delivery
// carries (`X-Bulwark-Delivery` / `Idempotency-Key`, the syslog MSGID, the JSON's `id`). A merged
// occurrence of an open alert is not forwarded again. No secret (URL, HMAC key) is ever logged:
// a failure is described by its sink name, status code or error code.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Counter, Gauge, type Registry } from 'prom-client';
import { parseSection, type BulwarkConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { PeriodicTask } from '../core/periodic.js';
import { SEVERITY_RANK, type Severity } from '../core/severity.js';
import type { Alert } from './model.js';
import type { OutboxEntry, OutboxStore } from './store.js';

export type SinkType = 'webhook' | 'slack' | 'syslog' | 'jsonl';

export interface SinkFilter {
  minSeverity: Severity | undefined;
  types: string[];
  namespaces: string[];
}

export interface SinkSettings {
  name: string;
  type: SinkType;
  filter: SinkFilter;
  /** webhook, slack: the https URL (from `url` or `urlFile`). */
  url?: string;
  /** webhook: the HMAC-SHA256 key (from `secretFile`). */
  secret?: string;
  /** webhook, slack, syslog: a CA bundle to trust instead of the system's. */
  ca?: Buffer;
  /** syslog: host:port. */
  host?: string;
  port?: number;
  /** syslog: TLS (default) or plain TCP. */
  tls?: boolean;
  /** jsonl: a file path, or undefined for stdout. */
  file?: string;
  /** slack: the console's address, linked from each message. */
  consoleUrl?: string;
  timeoutMs: number;
}

export interface NotifySettings {
  sinks: SinkSettings[];
  /** Deliveries still failing after this long are given up (counted, logged). */
  maxAgeMs: number;
  pollIntervalMs: number;
}

export const DEFAULT_NOTIFY_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_NOTIFY_POLL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** Deliveries kept per sink while it fails (an alert flood behind a dead sink stays bounded). */
export const MAX_PENDING_PER_SINK = 100_000;
/** The most a sink's answer is read (it is only drained). */
const MAX_RESPONSE_BYTES = 64 * 1024;

function readSecretFile(file: string, key: string, source: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${source}: ${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (text === '') throw new ConfigError(`${source}: ${key}: ${file} is empty`);
  return text;
}

/** The `notify:` section with its defaults; files (URLs, secrets, CAs) are read now, relative to the config's folder. */
export function notifySettingsOf(config: Pick<BulwarkConfig, 'notify' | 'configDir'>, source = 'config'): NotifySettings {
  const n = parseSection('notify', config.notify ?? {}, source);
  const base = config.configDir ?? process.cwd();
  const file = (f: string) => path.resolve(base, f);
  const sinks: SinkSettings[] = [];
  const ofType = new Map<string, number>();
  (n.sinks ?? []).forEach((s, i) => {
    // Unnamed: its type, then type-2, type-3… in list order.
    const nth = (ofType.get(s.type) ?? 0) + 1;
    ofType.set(s.type, nth);
    const name = s.name ?? (nth === 1 ? s.type : `${s.type}-${nth}`);
    const at = `notify.sinks[${i}] (${name})`;
    const out: SinkSettings = {
      name,
      type: s.type,
      filter: { minSeverity: s.minSeverity ?? undefined, types: s.types ?? [], namespaces: s.namespaces ?? [] },
      timeoutMs: s.timeout ?? DEFAULT_TIMEOUT_MS,
    };
    if (s.caFile) {
      try {
        out.ca = fs.readFileSync(file(s.caFile));
      } catch (err) {
        throw new ConfigError(`${source}: ${at}.caFile: cannot read ${s.caFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    if (s.type === 'webhook' || s.type === 'slack') {
      const url = s.urlFile ? readSecretFile(file(s.urlFile), `${at}.urlFile`, source) : s.url;
      if (!url) throw new ConfigError(`${source}: ${at}: a ${s.type} sink needs url or urlFile`);
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new ConfigError(`${source}: ${at}: ${s.urlFile ? 'the file of urlFile does not hold' : 'url is not'} an https:// URL`);
      }
      if (parsed.protocol !== 'https:') throw new ConfigError(`${source}: ${at}: the URL must be https:// (alerts travel over TLS only)`);
      out.url = url;
      if (s.type === 'webhook') {
        if (!s.secretFile) throw new ConfigError(`${source}: ${at}: a webhook sink needs secretFile (the HMAC-SHA256 key its receiver checks)`);
        out.secret = readSecretFile(file(s.secretFile), `${at}.secretFile`, source);
        if (out.secret.length < 16) throw new ConfigError(`${source}: ${at}.secretFile: the key must have at least 16 characters`);
      }
      if (s.consoleUrl) out.consoleUrl = s.consoleUrl;
    } else if (s.type === 'syslog') {
      const m = /^(.+):(\d{1,5})$/.exec(s.address ?? '');
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new ConfigError(`${source}: ${at}.address: must be host:port, got ${JSON.stringify(s.address ?? '')}`);
      out.host = m[1]!.replace(/^\[(.*)\]$/, '$1');
      out.port = port;
      out.tls = s.tls ?? true;
    } else if (s.file && s.file !== '-') out.file = file(s.file);
    sinks.push(out);
  });
  const names = sinks.map((s) => s.name);
  const twice = names.find((x, i) => names.indexOf(x) !== i);
  if (twice) throw new ConfigError(`${source}: notify.sinks: the name ${JSON.stringify(twice)} is used twice (deliveries are queued by name)`);
  return { sinks, maxAgeMs: n.maxAge ?? DEFAULT_NOTIFY_MAX_AGE_MS, pollIntervalMs: n.pollInterval ?? DEFAULT_NOTIFY_POLL_MS };
}

/** Whether a sink wants this alert. */
export function sinkWants(filter: SinkFilter, alert: Alert): boolean {
  if (filter.minSeverity && SEVERITY_RANK[alert.severity] < SEVERITY_RANK[filter.minSeverity]) return false;
  if (filter.types.length > 0 && !filter.types.includes(alert.type)) return false;
  if (filter.namespaces.length > 0 && !filter.namespaces.includes(alert.namespace)) return false;
  return true;
}

/** The names of the sinks that want `alert`: what the pipeline queues with it. */
export function notifyTargets(settings: NotifySettings): (alert: Alert) => string[] {
  return (alert) => settings.sinks.filter((s) => sinkWants(s.filter, alert)).map((s) => s.name);
}

/** A delivery that failed: why, without any secret. */
export class DeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryError';
  }
}

function describe(err: unknown): string {
  if (err instanceof DeliveryError) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `connection failed (${code})` : 'connection failed';
}

function post(sink: SinkSettings, body: string, headers: Record<string, string>): Promise<void> {
  const url = new URL(sink.url!);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: 'POST',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || 443,
        path: url.pathname + url.search,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'bulwark-notify', ...headers },
        timeout: sink.timeoutMs,
        ...(sink.ca ? { ca: sink.ca } : {}),
      },
      (res) => {
        let read = 0;
        res.on('data', (d: Buffer) => {
          read += d.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new DeliveryError(`HTTP ${status}`));
        });
        res.on('error', () => undefined);
      },
    );
    req.on('timeout', () => req.destroy(new DeliveryError(`no answer within ${sink.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** `sha256=<hex>` of the body under the sink's key: what a receiver recomputes and compares. */
export function signature(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

const SEVERITY_EMOJI: Record<Severity, string> = {
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  informational: ':white_circle:',
};

/** The Slack message: readable, with severity, what, where, who, and a link to the console. */
export function slackText(alert: Alert, consoleUrl?: string): string {
  const where = [alert.namespace, alert.resource.kind && `${alert.resource.kind} ${alert.resource.name}`].filter(Boolean).join(' / ');
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const lines = [
    `${SEVERITY_EMOJI[alert.severity] ?? ''} *${alert.severity.toUpperCase()}* ${esc(alert.title)} (\`${esc(alert.type)}\`)`,
    esc(alert.message.slice(0, 1000)),
    `${where ? `*Where:* ${esc(where)}  ` : ''}*Who:* ${esc(alert.user.username || 'unknown')}  *Source:* ${alert.source}${alert.cluster ? `  *Cluster:* ${esc(alert.cluster)}` : ''}`,
  ];
  if (consoleUrl) lines.push(`<${consoleUrl.replace(/\/$/, '')}/alerts/${encodeURIComponent(alert.id)}|Open in Bulwark>`);
  return lines.join('\n');
}

const SYSLOG_SEVERITY: Record<Severity, number> = { high: 2, medium: 4, low: 5, informational: 6 };
/** Facility 4: security/authorization messages. */
const SYSLOG_FACILITY = 4;

/** One RFC 5424 message: PRI, version, timestamp, host, app, procid, MSGID (the alert ID), no SD, the alert as JSON. */
export function syslogMessage(alert: Alert, now = new Date()): string {
  const pri = SYSLOG_FACILITY * 8 + (SYSLOG_SEVERITY[alert.severity] ?? 5);
  const token = (s: string, max: number) => s.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-';
  return `<${pri}>1 ${now.toISOString()} ${token(os.hostname(), 255)} bulwark ${process.pid} ${token(alert.id, 32)} - ${JSON.stringify(alert)}`;
}

function syslogSend(sink: SinkSettings, messages: string[]): Promise<void> {
  // RFC 6587 octet counting: "<length> <message>", so that a message may hold any byte.
  const payload = messages.map((m) => `${Buffer.byteLength(m)} ${m}`).join('');
  return new Promise((resolve, reject) => {
    const socket = sink.tls
      ? tls.connect({ host: sink.host, port: sink.port, servername: net.isIP(sink.host!) ? undefined : sink.host, ...(sink.ca ? { ca: sink.ca } : {}) })
      : net.connect({ host: sink.host!, port: sink.port! });
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new DeliveryError(`no connection within ${sink.timeoutMs} ms`)), sink.timeoutMs);
    socket.once(sink.tls ? 'secureConnect' : 'connect', () => socket.end(payload, () => finish()));
    socket.on('error', (err) => finish(err));
  });
}

export interface Sink {
  readonly name: string;
  /** Sends the alerts (oldest first); resolves when the receiver took them all. */
  deliver(alerts: Alert[]): Promise<void>;
}

export function createSink(s: SinkSettings, stdout: NodeJS.WritableStream = process.stdout): Sink {
  switch (s.type) {
    case 'webhook':
      return {
        name: s.name,
        async deliver(alerts) {
          for (const alert of alerts) {
            const body = JSON.stringify(alert);
            await post(s, body, { 'X-Bulwark-Signature': signature(s.secret!, body), 'X-Bulwark-Delivery': alert.id, 'Idempotency-Key': alert.id });
          }
        },
      };
    case 'slack':
      return {
        name: s.name,
        async deliver(alerts) {
          for (const alert of alerts) await post(s, JSON.stringify({ text: slackText(alert, s.consoleUrl) }), {});
        },
      };
    case 'syslog':
      return {
        name: s.name,
        deliver: (alerts) =>
          syslogSend(
            s,
            alerts.map((a) => syslogMessage(a)),
          ),
      };
    case 'jsonl':
      return {
        name: s.name,
        async deliver(alerts) {
          const text = alerts.map((a) => JSON.stringify(a) + '\n').join('');
          if (s.file === undefined) {
            await new Promise<void>((resolve, reject) => stdout.write(text, (err) => (err ? reject(err) : resolve())));
          } else {
            fs.mkdirSync(path.dirname(s.file), { recursive: true });
            await fs.promises.appendFile(s.file, text, { mode: 0o600 });
          }
        },
      };
  }
}

export interface DispatcherOptions {
  store: OutboxStore;
  sinks: Sink[];
  logger: Logger;
  registry?: Registry;
  maxAgeMs?: number;
  pollIntervalMs?: number;
  /** How long a claimed delivery is this process's before another may take it (default 2 min). */
  leaseMs?: number;
  /** Deliveries kept per sink at most (default MAX_PENDING_PER_SINK): past it the oldest are given up. */
  maxPending?: number;
  /** Deliveries claimed per round (default 100). */
  batch?: number;
  /** The clock (tests). */
  now?: () => number;
  /**
   * Whether this replica delivers now (serve: it holds the maintenance Lease). A round of a replica
   * that does not is skipped; the outbox claims keep two deliverers apart all the same.
   */
  active?: () => boolean;
}

/** The back-off after `attempts` failures: 1 s doubling to 5 min, ±20 % jitter. */
export function backoffMs(attempts: number): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class NotifyDispatcher {
  private readonly sinks = new Map<string, Sink>();
  private readonly task: PeriodicTask;
  private readonly log: Logger;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly metrics: { delivered: Counter<'sink'>; failed: Counter<'sink'>; expired: Counter<'sink'> } | undefined;
  private rounds = 0;

  constructor(private readonly options: DispatcherOptions) {
    for (const s of options.sinks) this.sinks.set(s.name, s);
    this.log = options.logger.child({ component: 'notify' });
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_NOTIFY_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
    this.task = new PeriodicTask(
      options.pollIntervalMs ?? DEFAULT_NOTIFY_POLL_MS,
      () => this.roundBody(),
      (err) => this.log.warn({ error: err.message }, 'notification round failed; will try again'),
    );
    if (options.registry) {
      const registers = [options.registry];
      this.metrics = {
        delivered: new Counter({ name: 'bulwark_notify_delivered_total', help: 'Alerts delivered, by sink', labelNames: ['sink'], registers }),
        failed: new Counter({ name: 'bulwark_notify_failures_total', help: 'Failed delivery attempts (retried), by sink', labelNames: ['sink'], registers }),
        expired: new Counter({
          name: 'bulwark_notify_expired_total',
          help: 'Deliveries given up after notify.maxAge or beyond 100,000 waiting, by sink',
          labelNames: ['sink'],
          registers,
        }),
      };
      const store = options.store;
      const names = [...this.sinks.keys()];
      new Gauge({
        name: 'bulwark_notify_pending',
        help: 'Deliveries waiting in the outbox, by sink',
        labelNames: ['sink'],
        registers,
        async collect() {
          const stats = await store.outboxStats().catch(() => ({}) as Awaited<ReturnType<OutboxStore['outboxStats']>>);
          for (const name of names) this.set({ sink: name }, stats[name]?.pending ?? 0);
        },
      });
      const now = this.now;
      new Gauge({
        name: 'bulwark_notify_oldest_pending_seconds',
        help: 'Age of the oldest delivery waiting in the outbox, by sink (0 when none): a sink failing for long shows here',
        labelNames: ['sink'],
        registers,
        async collect() {
          const stats = await store.outboxStats().catch(() => ({}) as Awaited<ReturnType<OutboxStore['outboxStats']>>);
          for (const name of names) this.set({ sink: name }, stats[name] ? Math.max(0, (now() - stats[name].oldestMs) / 1000) : 0);
        },
      });
    }
  }

  start(): void {
    this.task.start();
  }

  /** One round: give up what is too old, then deliver what is due. Never throws. */
  round(): Promise<void> {
    return this.task.run();
  }

  async close(): Promise<void> {
    await this.task.stop();
  }

  private async roundBody(): Promise<void> {
    if (this.options.active && !this.options.active()) return;
    if (this.rounds++ % 60 === 0) {
      const expired = await this.options.store.expireOutbox(this.now() - this.maxAgeMs, this.options.maxPending ?? MAX_PENDING_PER_SINK);
      for (const [sink, n] of Object.entries(expired)) {
        this.metrics?.expired.inc({ sink }, n);
        this.log.error({ sink, deliveries: n, maxAgeMs: this.maxAgeMs }, 'gave up alert deliveries older than notify.maxAge or beyond the per-sink bound');
      }
    }
    const due = await this.options.store.claimOutbox(this.now(), this.options.batch ?? 100, this.options.leaseMs ?? 120_000);
    const bySink = new Map<string, OutboxEntry[]>();
    for (const e of due) {
      const list = bySink.get(e.sink);
      if (list) list.push(e);
      else bySink.set(e.sink, [e]);
    }
    await Promise.all([...bySink].map(([name, entries]) => this.deliver(name, entries)));
  }

  private async deliver(name: string, entries: OutboxEntry[]): Promise<void> {
    const sink = this.sinks.get(name);
    const store = this.options.store;
    if (!sink) {
      // Queued for a sink the configuration no longer has: kept (it may come back) until maxAge.
      for (const e of entries) await store.failOutbox(e.id, `no sink named ${JSON.stringify(name)} in notify.sinks`, this.now() + 300_000);
      return;
    }
    // One at a time, oldest first: a failure stops the sink's round, so that the rest keep their order.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      try {
        await sink.deliver([e.alert]);
        await store.completeOutbox(e.id);
        this.metrics?.delivered.inc({ sink: name });
      } catch (err) {
        const why = describe(err);
        this.metrics?.failed.inc({ sink: name });
        this.log.warn({ sink: name, alert: e.alert.id, attempts: e.attempts + 1, error: why }, 'alert delivery failed; will retry');
        // One next attempt for all of them, so that they keep their order.
        const next = this.now() + backoffMs(e.attempts);
        for (const rest of entries.slice(i)) await store.failOutbox(rest.id, rest === e ? why : `waiting behind a failed delivery (${why})`, next);
        return;
      }
    }
  }
}
